"""A value as people send it, read by its data element's type: the one rule that the
submission service stores values by and the scoring preview scores them by, so that
a value one accepts the other reads the same way."""

import unicodedata
from decimal import Decimal

from pmm_kit.numbers import (
    NUMERIC_ELEMENT_TYPES,
    NumberRuleError,
    bounded,
    parse_figure,
)
from pmm_methodology import DataElement, ElementType

TypedValue = Decimal | bool | str

_YES = frozenset({"true", "yes", "1"})
_NO = frozenset({"false", "no", "0"})


def typed_value(element: DataElement, raw: object) -> TypedValue:
    """`raw` checked against the element's type: a number stays an exact Decimal,
    yes/no a bool, an enumeration value its lower-case code. NumberRuleError with
    `value.type`, `value.allowed` or a figure rule when it cannot be one."""
    if element.type in NUMERIC_ELEMENT_TYPES:
        return _number(raw)
    if element.type is ElementType.BOOLEAN:
        return _yes_no(raw)
    return _code(element, raw)


def _number(raw: object) -> Decimal:
    # bool first: it is an int to Python, and never a number to people.
    if isinstance(raw, bool):
        raise NumberRuleError("value.type", "a number is expected, not yes/no")
    if isinstance(raw, float):
        raise NumberRuleError(
            "value.type", "give the number as exact text, not a float"
        )
    if isinstance(raw, int):
        return bounded(Decimal(raw))
    if isinstance(raw, Decimal):
        return bounded(raw)
    if isinstance(raw, str):
        return parse_figure(raw)
    raise NumberRuleError("value.type", "a number is expected")


def _yes_no(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _YES:
        return True
    if isinstance(raw, str) and raw.strip().lower() in _NO:
        return False
    raise NumberRuleError("value.type", "yes/no is expected (true or false)")


def _code(element: DataElement, raw: object) -> str:
    if not isinstance(raw, str):
        raise NumberRuleError("value.type", "a code of the enumeration is expected")
    code = unicodedata.normalize("NFC", raw.strip()).lower()
    if element.allowed and code not in element.allowed:
        allowed = ", ".join(element.allowed)
        raise NumberRuleError("value.allowed", f"'{code}' is not one of {allowed}")
    return code
