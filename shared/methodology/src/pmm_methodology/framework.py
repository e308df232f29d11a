"""The schema of a framework file: dimensions, expected outcomes, KPIs, data elements
and validation rules.

A `Framework` is consistent by construction: building one runs every cross-reference
check and raises FrameworkError, so code that receives a Framework never has to
re-check a formula or a code.
"""

import hashlib
import json
import re
from decimal import Decimal
from typing import Annotated, Any, Self, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)

from pmm_methodology.consistency import framework_problems
from pmm_methodology.errors import FrameworkError, UnknownCodeError
from pmm_methodology.expressions import ELEMENT_CODE
from pmm_methodology.vocabulary import (
    Aggregation,
    Direction,
    DisclosureLevel,
    ElementType,
    KpiKind,
    Severity,
    YearRef,
)

_INPUT_SHORTHAND = re.compile(r"\s*([A-Z][A-Z0-9_]*)\s*(?:\[\s*(T|T\s*-\s*1)\s*\])?\s*")

StructureCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]*(\.[A-Z0-9]+)*$")]
"""Codes of dimensions, expected outcomes and KPIs, e.g. `TF`, `TF.1`, `TF.1.1`."""

ElementCode = Annotated[str, Field(pattern=f"^{ELEMENT_CODE.pattern}$")]
"""Codes of data elements, rules and instruments: capitals, digits and `_`."""

NonEmptyText = Annotated[str, Field(min_length=1)]


class _FrozenModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(_FrozenModel):
    en: NonEmptyText
    fr: NonEmptyText


class Instrument(_FrozenModel):
    code: ElementCode
    name: LocalizedText


class Dimension(_FrozenModel):
    code: StructureCode
    name: LocalizedText
    provisional: bool = False


class Outcome(_FrozenModel):
    """An expected outcome."""

    code: StructureCode
    name: LocalizedText
    provisional: bool
    dimension: StructureCode
    aggregation: Aggregation


def _read_input_shorthand(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw

    match = _INPUT_SHORTHAND.fullmatch(raw)
    if match is None:
        raise ValueError(f"'{raw}' is not a data element code, optionally with [T-1]")
    year = "T" if match.group(2) in (None, "T") else "T-1"
    return {"element": match.group(1), "year": year}


class KpiInput(_FrozenModel):
    """A data element a KPI reads, in year T or T-1. A file may write `CODE[T-1]`."""

    element: ElementCode
    year: YearRef = YearRef.T

    @property
    def label(self) -> str:
        return self.element if self.year is YearRef.T else f"{self.element}[T-1]"


class Bands(_FrozenModel):
    """The value a KPI must reach for levels 2, 3 and 4; below `developing` is 1.

    Reaching a threshold exactly counts: `>=` when higher is better, `<=` when lower is.
    """

    developing: Decimal
    established: Decimal
    advanced: Decimal

    def thresholds(self) -> tuple[tuple[int, Decimal], ...]:
        return ((2, self.developing), (3, self.established), (4, self.advanced))


class Kpi(_FrozenModel):
    code: StructureCode
    name: LocalizedText
    provisional: bool
    outcome: StructureCode
    kind: KpiKind
    inputs: tuple[Annotated[KpiInput, BeforeValidator(_read_input_shorthand)], ...]
    formula: NonEmptyText
    unit: NonEmptyText
    rounding: Annotated[int, Field(ge=0, le=12)] | None = None
    direction: Direction
    bands: Bands | None = None
    disclosure: DisclosureLevel = DisclosureLevel.RESTRICTED
    instruments: tuple[ElementCode, ...] = ()
    sdg_targets: tuple[
        Annotated[str, Field(pattern=r"^\d{1,2}\.[0-9a-z]{1,2}$")], ...
    ] = ()
    definition: LocalizedText | None = None

    @property
    def scored(self) -> bool:
        return self.direction is not Direction.NONE


class DataElement(_FrozenModel):
    """A figure an administration reports. Bounds are inclusive."""

    code: ElementCode
    name: LocalizedText
    type: ElementType
    currency: str | None = None
    unit: str | None = None
    allowed: tuple[str, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    definition: LocalizedText | None = None


class ValidationRule(_FrozenModel):
    """A consistency rule: where `when` holds (or always), `check` must hold.

    It is checked for year T and again for T-1; a rule that cannot be computed
    (a value is missing) is not checked.
    """

    code: ElementCode
    element: ElementCode
    severity: Severity
    when: NonEmptyText | None = None
    check: NonEmptyText
    message: LocalizedText


class Framework(_FrozenModel):
    code: ElementCode
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    name: LocalizedText
    instruments: tuple[Instrument, ...] = ()
    dimensions: tuple[Dimension, ...]
    outcomes: tuple[Outcome, ...]
    kpis: tuple[Kpi, ...]
    data_elements: tuple[DataElement, ...]
    rules: tuple[ValidationRule, ...] = ()

    _content_hash: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        problems = framework_problems(self)
        if problems:
            raise FrameworkError(problems)
        return self

    @property
    def content_hash(self) -> str:
        """sha256 of the file this framework was loaded from.

        A framework built in code has no file; its hash is taken over its canonical
        JSON instead.
        """
        if self._content_hash is not None:
            return self._content_hash
        document = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(document.encode()).hexdigest()

    def with_content_hash(self, content_hash: str) -> Self:
        copy = self.model_copy()
        copy._content_hash = content_hash
        return copy

    def kpi(self, code: str) -> Kpi:
        return _find(self.kpis, code, "KPI")

    def outcome(self, code: str) -> Outcome:
        return _find(self.outcomes, code, "expected outcome")

    def dimension(self, code: str) -> Dimension:
        return _find(self.dimensions, code, "dimension")

    def data_element(self, code: str) -> DataElement:
        return _find(self.data_elements, code, "data element")

    def kpis_of(self, outcome: Outcome) -> tuple[Kpi, ...]:
        return tuple(kpi for kpi in self.kpis if kpi.outcome == outcome.code)

    def outcomes_of(self, dimension: Dimension) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.dimension == dimension.code)


_Coded = TypeVar("_Coded", Dimension, Outcome, Kpi, DataElement)


def _find(items: tuple[_Coded, ...], code: str, what: str) -> _Coded:
    for item in items:
        if item.code == code:
            return item
    raise UnknownCodeError(f"no {what} '{code}' in the framework")
