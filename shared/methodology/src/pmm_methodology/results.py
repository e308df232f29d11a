"""What `compute` gives: KPI values and levels, outcome levels, dimension scores with
coverage, validation findings and lineage, with enough beside each figure to explain it.
"""

from enum import StrEnum
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

from pmm_methodology.errors import UnknownCodeError
from pmm_methodology.expressions import NotComputable
from pmm_methodology.values import Number, Scalar
from pmm_methodology.vocabulary import (
    Aggregation,
    Direction,
    KpiKind,
    Severity,
    YearRef,
)

KpiLevel = Literal[1, 2, 3, 4, "n/a", "insufficient", "not_scored"]
"""1 initial, 2 developing, 3 established, 4 advanced; `n/a` for an opt-out;
`insufficient` when data are missing; `not_scored` for a KPI whose direction is none."""


class _ResultModel(BaseModel):
    """Fields are declared in alphabetical order: the model's own JSON then has the
    keys of the canonical JSON in its order, and is the canonical JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class InputState(StrEnum):
    PROVIDED = "provided"
    NOT_APPLICABLE = "not_applicable"
    NOT_AVAILABLE = "not_available"
    MISSING = "missing"
    REJECTED = "rejected"


class InputUsed(_ResultModel):
    """A value read, as found; `reason` is the one given, or why it was rejected."""

    element: str
    reason: str | None = None
    reference: YearRef
    state: InputState
    value: Scalar | None = None
    year: int


class BandCheck(_ResultModel):
    level: int
    name: str
    reached: bool
    threshold: Number


class KpiStatus(StrEnum):
    COMPUTED = "computed"
    NOT_COMPUTABLE = "not_computable"
    OPTED_OUT = "opted_out"


class KpiResult(_ResultModel):
    """`value` is rounded as the KPI says; `exact_value` is before rounding."""

    bands: tuple[BandCheck, ...] = ()
    code: str
    direction: Direction
    exact_value: Scalar | None = None
    formula: str
    inputs: tuple[InputUsed, ...] = ()
    kind: KpiKind
    level: KpiLevel
    not_computable: NotComputable | None = None
    opt_out_reason: str | None = None
    outcome: str
    provisional: bool
    rounding: int | None
    status: KpiStatus
    unit: str
    value: Scalar | None = None


class OutcomeStatus(StrEnum):
    SCORED = "scored"
    INSUFFICIENT = "insufficient"
    NOT_APPLICABLE = "n/a"
    NOT_SCORED = "not_scored"


class KpiContribution(_ResultModel):
    counted: bool
    kpi: str
    level: KpiLevel
    note: str | None = None


class OutcomeResult(_ResultModel):
    """`level` has two decimals: a whole level under M1, a rounded mean under M2."""

    aggregation: Aggregation
    code: str
    contributions: tuple[KpiContribution, ...]
    dimension: str
    level: Number | None = None
    provisional: bool
    status: OutcomeStatus


class Coverage(_ResultModel):
    """Scored expected outcomes over applicable ones; `ratio` has four decimals."""

    applicable: int
    ratio: Number | None = None
    scored: int


class OutcomeContribution(_ResultModel):
    counted: bool
    level: Number | None = None
    outcome: str
    status: OutcomeStatus


class DimensionResult(_ResultModel):
    """`score` is the mean of the scored outcome levels, with two decimals."""

    code: str
    contributions: tuple[OutcomeContribution, ...]
    coverage: Coverage
    score: Number | None = None


class Finding(_ResultModel):
    """A validation finding. `rule` is a framework rule code (capitals) or a built-in
    check (`input.*`, `completeness.*`, `opt_out.*`)."""

    element: str | None = None
    inputs: tuple[InputUsed, ...] = ()
    kpi: str | None = None
    message: str
    rule: str
    severity: Severity
    year: int | None = None


class Lineage(_ResultModel):
    framework_code: str
    framework_sha256: str
    framework_version: str
    inputs_sha256: str
    library_version: str


class Assessment(_ResultModel):
    dimensions: tuple[DimensionResult, ...]
    findings: tuple[Finding, ...]
    kpis: tuple[KpiResult, ...]
    lineage: Lineage
    outcomes: tuple[OutcomeResult, ...]
    year: int

    def kpi(self, code: str) -> KpiResult:
        for result in self.kpis:
            if result.code == code:
                return result
        raise UnknownCodeError(f"no KPI '{code}' in the assessment")

    def outcome(self, code: str) -> OutcomeResult:
        for result in self.outcomes:
            if result.code == code:
                return result
        raise UnknownCodeError(f"no expected outcome '{code}' in the assessment")

    def dimension(self, code: str) -> DimensionResult:
        for result in self.dimensions:
            if result.code == code:
                return result
        raise UnknownCodeError(f"no dimension '{code}' in the assessment")

    @property
    def blocking_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def can_submit(self) -> bool:
        return not self.blocking_findings

    def to_canonical_json(self) -> str:
        """Sorted keys, no whitespace, Decimals as strings: equal inputs give equal
        bytes once encoded as UTF-8.

        It is `canonical_json(self.model_dump(mode="json"))`, written by the model
        itself: its keys are declared in that order and no field can hold a float.
        """
        return self.model_dump_json()


def _fields_out_of_canonical_order(root: type[BaseModel]) -> list[str]:
    """The models within `root` whose fields are not declared in sorted order."""
    found: list[str] = []
    seen: set[type[BaseModel]] = set()
    pending: list[object] = [root]
    while pending:
        kind = pending.pop()
        if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
            pending += get_args(kind)
            continue
        if kind in seen:
            continue
        seen.add(kind)
        if list(kind.model_fields) != sorted(kind.model_fields):
            found.append(kind.__name__)
        pending += [field.annotation for field in kind.model_fields.values()]
    return found


# `to_canonical_json` relies on it: a field declared out of order would make the
# canonical JSON of every assessment wrong, so the library refuses to load.
if _fields_out_of_canonical_order(Assessment):
    raise TypeError(
        "fields out of alphabetical order in "
        + ", ".join(_fields_out_of_canonical_order(Assessment))
    )
