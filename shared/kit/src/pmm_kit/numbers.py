"""Figures as people write them, read by one rule in every service.

A figure is text of ASCII digits with an optional sign and at most one decimal
point. Python's `Decimal` reads far more, and silently: `1_000`, Arabic-Indic or
other Unicode digits, an exponent as large as `1E+999999999`, `NaN`. A data-entry
form and the preview beside it must take and refuse the same texts for the same
reasons, so both read them here. Nothing goes through a float, and a figure outside
the bounds is refused, never rounded.
"""

import re
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from pmm_kit.text import shown
from pmm_methodology import ElementType

# The bounds of a figure: 30 digits before the decimal point and 20 after. The
# largest figures (amounts in a national currency) have under 20 whole digits, a
# share or a duration needs few decimals, and PostgreSQL's NUMERIC holds both
# with room to spare.
MAX_WHOLE_DIGITS = 30
MAX_DECIMALS = 20

NUMERIC_ELEMENT_TYPES = frozenset(
    {
        ElementType.COUNT,
        ElementType.AMOUNT,
        ElementType.QUANTITY,
        ElementType.PERCENT,
        ElementType.DURATION,
    }
)

_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_WITH_EXPONENT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+")
_NOT_FINITE = frozenset({"nan", "snan", "inf", "infinity"})
_ECHOED = 40


class NumberRuleError(ValueError):
    """A text that is not a figure; `rule` is the rule code it breaks."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def parse_figure(text: str, *, decimal_separator: str = ".") -> Decimal:
    """The exact number `text` writes, within the bounds, or NumberRuleError.

    Spaces around the figure are ignored; `decimal_separator` is the one a feed
    declared (`.` or `,`), and a text using the other is refused."""
    written = text.strip()
    if written.lstrip("+-").lower() in _NOT_FINITE:
        raise NumberRuleError("value.not_finite", "NaN and Infinity are not numbers")
    if decimal_separator != ".":
        if "." in written:
            raise NumberRuleError(
                "value.decimal_separator",
                f"'{_echo(text)}' uses '.' but the feed declared '{decimal_separator}'",
            )
        written = written.replace(decimal_separator, ".", 1)
    if _WITH_EXPONENT.fullmatch(written):
        raise NumberRuleError("value.number", "write the number without an exponent")
    if not _PLAIN.fullmatch(written):
        raise NumberRuleError(
            "value.number",
            f"'{_echo(text)}' is not a number: write it with the digits 0-9, an "
            "optional sign and one decimal point, without spaces or separators",
        )
    return bounded(Decimal(written))


def bounded(number: Decimal) -> Decimal:
    """`number` if it is finite, with at most MAX_WHOLE_DIGITS digits before the
    decimal point and MAX_DECIMALS after it; a negative zero is the zero PostgreSQL
    keeps."""
    if not number.is_finite():
        raise NumberRuleError("value.not_finite", "NaN and Infinity are not numbers")
    if number.adjusted() >= MAX_WHOLE_DIGITS:
        raise NumberRuleError(
            "value.too_large",
            f"a figure has at most {MAX_WHOLE_DIGITS} digits before the decimal point",
        )
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        raise NumberRuleError(
            "value.too_many_decimals",
            f"a figure has at most {MAX_DECIMALS} digits after the decimal point",
        )
    return number.copy_abs() if number.is_zero() else number


def _figure_field(raw: object) -> object:
    if not isinstance(raw, str):
        return raw
    try:
        return parse_figure(raw)
    except NumberRuleError as error:
        raise PydanticCustomError(error.rule, error.message) from None


Figure = Annotated[Decimal, BeforeValidator(_figure_field)]
"""A schema field holding a figure: text is read by `parse_figure` (its rule is
the error's code), a JSON number as the exact Decimal the body's parser made."""


def _echo(text: str) -> str:
    text = shown(text)
    return text if len(text) <= _ECHOED else text[: _ECHOED - 1] + "…"


_URL_DIGITS = re.compile(r"0|[1-9][0-9]*")


def _digits_in_url(raw: object) -> object:
    if isinstance(raw, str) and _URL_DIGITS.fullmatch(raw) is None:
        raise PydanticCustomError(
            "int_digits", "give a whole number as digits alone, such as 2024"
        )
    return raw


DIGITS_IN_URL = BeforeValidator(_digits_in_url)
"""For an int in a path or a query: digits alone. The lax reading would take
`2024.0`, `+2024`, `02024` and `2_024` too: several URLs for one resource, and an
address a person never wrote. Put it after the int's bounds (`Field(ge=...)`):
before them, the framework writes the bounds into the OpenAPI document as unknown
keys (`ge`, `le`) instead of `minimum` and `maximum`."""
