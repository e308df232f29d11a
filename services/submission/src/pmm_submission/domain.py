"""The submission domain's vocabulary and rules that need no database."""

import unicodedata
from decimal import Decimal
from enum import StrEnum

from pmm_kit import numbers
from pmm_kit.numbers import NUMERIC_ELEMENT_TYPES, NumberRuleError, parse_figure
from pmm_methodology import DataElement, ElementType, Framework, reference_framework

NUMERIC_TYPES = NUMERIC_ELEMENT_TYPES

SCALE_WORDS = {
    "thousand": Decimal(10) ** 3,
    "million": Decimal(10) ** 6,
    "billion": Decimal(10) ** 9,
    "trillion": Decimal(10) ** 12,
}

Value = Decimal | bool | str


class CycleState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class SubmissionState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"


EDITABLE_STATES = frozenset({SubmissionState.DRAFT, SubmissionState.RETURNED})


class Channel(StrEnum):
    FORM = "form"
    FEED = "feed"
    CORRECTION = "correction"


class RuleViolation(ValueError):
    """A value breaks one of the service's input rules (`rule` is its code)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def nfc_or_none(text: str | None) -> str | None:
    return None if text is None else nfc(text)


def framework_for(code: str, version: str) -> Framework:
    framework = reference_framework()
    if (framework.code, framework.version) != (code, version):
        raise LookupError(f"no framework {code} {version}; known: {framework.code}")
    return framework


def exact_number(text: str, *, decimal_separator: str = ".") -> Decimal:
    """A number from text people typed, by the rule every service reads figures
    with (`pmm_kit.numbers`): ASCII digits, a sign, one decimal point."""
    try:
        return parse_figure(text, decimal_separator=decimal_separator)
    except NumberRuleError as error:
        raise RuleViolation(error.rule, error.message) from None


def bounded(number: Decimal) -> Decimal:
    """`number` within the bounds every service keeps figures in."""
    try:
        return numbers.bounded(number)
    except NumberRuleError as error:
        raise RuleViolation(error.rule, error.message) from None


def scale_factor(word: str | None) -> Decimal:
    if word is None or not word.strip():
        return Decimal(1)
    factor = SCALE_WORDS.get(word.strip().lower())
    if factor is None:
        words = ", ".join(SCALE_WORDS)
        raise RuleViolation("scale.unknown", f"scale must be one of {words}")
    return factor


def typed_value(element: DataElement, raw: object) -> Value:
    """`raw` checked against the element's type; numbers stay exact Decimals."""
    if element.type in NUMERIC_TYPES:
        return _numeric(raw)
    if element.type is ElementType.BOOLEAN:
        return _boolean(raw)
    return _enum_code(element, raw)


def _numeric(raw: object) -> Decimal:
    if isinstance(raw, bool):
        raise RuleViolation("value.type", "a number is expected, not yes/no")
    if isinstance(raw, float):
        raise RuleViolation("value.type", "give the number as exact text, not a float")
    if isinstance(raw, int):
        return bounded(Decimal(raw))
    if isinstance(raw, Decimal):
        return bounded(raw)
    if isinstance(raw, str):
        return exact_number(raw)
    raise RuleViolation("value.type", "a number is expected")


def _boolean(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"true", "yes", "1"}:
        return True
    if isinstance(raw, str) and raw.strip().lower() in {"false", "no", "0"}:
        return False
    raise RuleViolation("value.type", "yes/no is expected (true or false)")


def _enum_code(element: DataElement, raw: object) -> str:
    if not isinstance(raw, str):
        raise RuleViolation("value.type", "a code of the enumeration is expected")
    code = nfc(raw.strip()).lower()
    if element.allowed and code not in element.allowed:
        allowed = ", ".join(element.allowed)
        raise RuleViolation("value.allowed", f"'{code}' is not one of {allowed}")
    return code


def value_text(value: Value | None) -> str | None:
    """How a value is written in history and events: exact decimal text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def kpi_elements(framework: Framework, kpis: list[str]) -> set[str]:
    """The data elements that the named KPIs read."""
    return {i.element for kpi in framework.kpis if kpi.code in kpis for i in kpi.inputs}
