"""What evaluating an expression gives: a value, or the reason there is none."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from pmm_methodology.values import Scalar


class NotComputableReason(StrEnum):
    MISSING_INPUT = "missing_input"
    NOT_APPLICABLE = "not_applicable"
    NOT_AVAILABLE = "not_available"
    REJECTED_INPUT = "rejected_input"
    DIVISION_BY_ZERO = "division_by_zero"
    TYPE_MISMATCH = "type_mismatch"
    ARITHMETIC_LIMIT = "arithmetic_limit"


class Computed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Scalar


class NotComputable(BaseModel):
    """Why there is no value; `element` and `year` name the input at fault, if any.

    Fields in alphabetical order, as in the results it is part of (see `results`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    detail: str
    element: str | None = None
    position: int | None = None
    reason: NotComputableReason
    year: int | None = None


EvaluationResult = Computed | NotComputable
