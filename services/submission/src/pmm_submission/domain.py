"""The submission domain's vocabulary and rules that need no database."""

import unicodedata
from decimal import Decimal
from enum import StrEnum

from pmm_kit import numbers, typed_values
from pmm_kit.numbers import NUMERIC_ELEMENT_TYPES, NumberRuleError, parse_figure
from pmm_methodology import DataElement, Framework, reference_framework

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
    """`raw` checked against the element's type by the rule the scoring preview
    reads values by too (`pmm_kit.typed_values`); numbers stay exact Decimals."""
    try:
        return typed_values.typed_value(element, raw)
    except NumberRuleError as error:
        raise RuleViolation(error.rule, error.message) from None


# The rules a figure breaks by its size, rather than by how it is written.
_BOUND_RULES = frozenset({"value.too_large", "value.too_many_decimals"})


def unscaled_figure(
    element: DataElement, raw: object, *, decimal_separator: str = "."
) -> Decimal:
    """A feed's figure for a numeric element before its scale and unit: read by
    the number rule, its bounds left to the figure once scaled (`thousand` brings
    21 decimals to 18)."""
    try:
        if isinstance(raw, str):
            return exact_number(raw, decimal_separator=decimal_separator)
        figure = typed_value(element, raw)
    except RuleViolation as violation:
        if violation.rule not in _BOUND_RULES:
            raise
        return _unbounded(raw, decimal_separator)
    assert isinstance(figure, Decimal)
    return figure


def _unbounded(raw: object, decimal_separator: str) -> Decimal:
    """A figure that broke a bound, so was read as written: text or a number."""
    if isinstance(raw, str):
        return Decimal(raw.strip().replace(decimal_separator, ".", 1))
    assert isinstance(raw, int | Decimal)
    return Decimal(raw)


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
