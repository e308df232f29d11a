"""What the API reads and answers; results are the methodology library's own models."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from pmm_kit.contracts.common import ValueState
from pmm_methodology import (
    Assessment,
    DimensionResult,
    Explanation,
    KpiResult,
    OutcomeResult,
)
from pmm_scoring.service import ReadCalculation

MemberPath = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# A reason of spaces only says nothing: at least one other character.
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=2000, pattern=r"\S")
]
# Strict: in lax mode JSON `true` would be the year 1 and `"2022"` a year too.
Year = Annotated[int, Field(strict=True, ge=1900, le=2200)]


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


MAX_VALUE_TEXT = 100


def _one_of_the_value_types(raw: object) -> object:
    """A value of no type the union takes is one error at `value`, not an error
    for each type it tried (`value.constrained-str`, `value.bool`, ...)."""
    if raw is None or isinstance(raw, bool | int | Decimal):
        return raw
    if isinstance(raw, str):
        if len(raw) > MAX_VALUE_TEXT:
            raise PydanticCustomError(
                "value.too_long",
                f"a value written as text has at most {MAX_VALUE_TEXT} characters",
            )
        return raw
    raise PydanticCustomError(
        "value.type",
        "a value is a number, text or yes/no (true or false), not a list or object",
    )


class ValueIn(_In):
    """One data element in one year. `value` only when `state` is `provided`: a
    number as a JSON number or as decimal text (`196200`, `"98.10"`), read exactly
    either way; yes/no as a JSON boolean; an enumeration as its code."""

    data_element: Annotated[str, StringConstraints(max_length=100)]
    year: Year
    state: ValueState = ValueState.PROVIDED
    # StrictBool: in lax mode 1 and 0 would be yes and no.
    value: Annotated[
        Annotated[str, StringConstraints(max_length=MAX_VALUE_TEXT)]
        | StrictBool
        | Decimal
        | None,
        BeforeValidator(_one_of_the_value_types),
    ] = None
    reason: ShortText | None = None


class KpiOptOutIn(_In):
    kpi: Annotated[str, StringConstraints(max_length=100)]
    reason: ShortText


class PreviewRequest(_In):
    framework_code: str = "PMM"
    framework_version: str = "1.0.0"
    reporting_year: Year
    values: list[ValueIn] = Field(default_factory=list, max_length=5000)
    kpi_opt_outs: list[KpiOptOutIn] = Field(default_factory=list, max_length=500)


class PreviewOut(BaseModel):
    can_submit: bool
    assessment: Assessment


class RecalculationRequest(_In):
    reason: ShortText
    framework_version: str | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Compute with this version of the cycle's framework; by default "
        "the version each revision was submitted under.",
    )


class CalculationOut(BaseModel):
    """A stored calculation; `current` says whether it is the member's current
    result for the cycle."""

    calculation_id: uuid.UUID
    submission_id: str
    member: str
    cycle_id: str
    reporting_year: int
    revision: int
    trigger: str
    recalculation_id: uuid.UUID | None
    current: bool
    computed_at: datetime
    framework_code: str
    framework_version: str
    framework_sha256: str
    library_version: str
    inputs_sha256: str
    blocking_findings: int

    @classmethod
    def of(cls, read: ReadCalculation) -> "CalculationOut":
        calculation = read.calculation
        return cls(
            calculation_id=calculation.id,
            submission_id=calculation.submission_id,
            member=calculation.member,
            cycle_id=calculation.cycle_id,
            reporting_year=calculation.reporting_year,
            revision=calculation.revision,
            trigger=calculation.trigger,
            recalculation_id=calculation.recalculation_id,
            current=read.current,
            computed_at=calculation.computed_at,
            framework_code=calculation.framework_code,
            framework_version=calculation.framework_version,
            framework_sha256=calculation.framework_sha256,
            library_version=calculation.library_version,
            inputs_sha256=calculation.inputs_sha256,
            blocking_findings=calculation.blocking_findings,
        )


class ScorecardOut(BaseModel):
    calculation: CalculationOut
    assessment: Assessment


class HistoryOut(BaseModel):
    member: str
    cycle_id: str
    calculations: list[CalculationOut]


class ExplanationOut(BaseModel):
    """The library's explanation (`summary`, `steps`, `excluded`) and the result it
    explains, with its inputs, formula, bands or contributions."""

    calculation: CalculationOut
    explanation: Explanation
    result: KpiResult | OutcomeResult | DimensionResult


class RecalculationOut(BaseModel):
    recalculation_id: uuid.UUID
    cycle_id: str
    framework_version: str | None
    reason: str
    requested_by: str
    requested_at: datetime
    calculations: list[uuid.UUID]
