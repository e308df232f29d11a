"""The values an administration gives for its data elements, each with its state.

`not_applicable` (an opt-out) and `not_available` are states with a reason, never a zero
or a blank, so that neither can end up in a numerator or a denominator.
"""

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    model_validator,
)

from pmm_methodology.decimals import written

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class ValueState(StrEnum):
    PROVIDED = "provided"
    NOT_APPLICABLE = "not_applicable"
    NOT_AVAILABLE = "not_available"


def coerce_scalar(raw: Any) -> Any:
    """Normalise a value to Decimal, bool or str before pydantic checks it.

    Numbers travel as strings in canonical JSON, so a string that spells a number is a
    Decimal; any other string is an enumeration value. Floats are refused because they
    cannot hold the figures people typed exactly.
    """
    # Decimals first: every computed value is one; then text, as submissions send.
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise ValueError("a number must be finite")
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        return Decimal(text) if _NUMBER.fullmatch(text) else raw
    if isinstance(raw, float):
        raise ValueError("floats are not exact: give the number as a string or Decimal")
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return Decimal(raw)
    return raw


def _written_scalar(value: Decimal | bool | str) -> str | bool:
    return written(value) if isinstance(value, Decimal) else value


Scalar = Annotated[
    Decimal | bool | str,
    BeforeValidator(coerce_scalar),
    PlainSerializer(_written_scalar, when_used="json"),
]
"""A data element's value or a computed value: a number, yes/no or an enum value.
In JSON a number is its positional text (`written`)."""

Number = Annotated[Decimal, PlainSerializer(written, when_used="json")]
"""A computed number (a threshold, a level, a score, a ratio); in JSON its
positional text."""


class DataValue(BaseModel):
    """The answer for one data element in one year."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: ValueState
    value: Scalar | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _check_state(self) -> Self:
        if self.state is ValueState.PROVIDED:
            if self.value is None:
                raise ValueError("a provided value needs a value")
            if self.reason is not None:
                raise ValueError("a provided value takes no reason")
            return self

        if self.value is not None:
            raise ValueError(f"a {self.state.value} value takes no value")
        if self.reason is None or not self.reason.strip():
            raise ValueError(f"a {self.state.value} value needs a reason")
        return self

    @classmethod
    def provided(cls, value: Decimal | bool | str | int) -> Self:
        return cls(state=ValueState.PROVIDED, value=coerce_scalar(value))

    @classmethod
    def not_applicable(cls, reason: str) -> Self:
        return cls(state=ValueState.NOT_APPLICABLE, reason=reason)

    @classmethod
    def not_available(cls, reason: str) -> Self:
        return cls(state=ValueState.NOT_AVAILABLE, reason=reason)


ValueKey = tuple[str, int]
"""(data element code, calendar year)."""
