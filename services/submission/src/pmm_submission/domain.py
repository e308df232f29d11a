"""The submission domain's vocabulary and rules that need no database."""

import unicodedata
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pmm_methodology import DataElement, ElementType, Framework, reference_framework

NUMERIC_TYPES = frozenset(
    {
        ElementType.COUNT,
        ElementType.AMOUNT,
        ElementType.QUANTITY,
        ElementType.PERCENT,
        ElementType.DURATION,
    }
)

SCALE_WORDS = {
    "thousand": Decimal(10) ** 3,
    "million": Decimal(10) ** 6,
    "billion": Decimal(10) ** 9,
    "trillion": Decimal(10) ** 12,
}

Value = Decimal | bool | str

# The bounds of a figure: 30 digits before the decimal point and 20 after. The
# largest figures (amounts in a national currency) have under 20 whole digits, a
# share or a duration needs few decimals, and PostgreSQL's NUMERIC holds both
# with room to spare. Beyond them a number is refused, never rounded: a JSON
# `1e999999999` would otherwise become a billion-digit text.
MAX_WHOLE_DIGITS = 30
MAX_DECIMALS = 20


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
    """A number from text people typed: no exponent, no float, no NaN or Infinity."""
    cleaned = text.strip().replace(" ", "")
    if decimal_separator != ".":
        if "." in cleaned:
            raise RuleViolation(
                "value.decimal_separator",
                f"'{text}' uses '.' but the feed declared '{decimal_separator}'",
            )
        cleaned = cleaned.replace(decimal_separator, ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise RuleViolation("value.number", f"'{text}' is not a number") from None
    if not number.is_finite():
        raise RuleViolation("value.not_finite", "NaN and Infinity are not numbers")
    if "e" in cleaned.lower():
        raise RuleViolation("value.number", "write the number without an exponent")
    return bounded(number)


def bounded(number: Decimal) -> Decimal:
    """`number` if it has at most MAX_WHOLE_DIGITS digits before the decimal point
    and MAX_DECIMALS after it; a negative zero is the zero PostgreSQL keeps."""
    if number.adjusted() >= MAX_WHOLE_DIGITS:
        raise RuleViolation(
            "value.too_large",
            f"a figure has at most {MAX_WHOLE_DIGITS} digits before the decimal point",
        )
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        raise RuleViolation(
            "value.too_many_decimals",
            f"a figure has at most {MAX_DECIMALS} digits after the decimal point",
        )
    return number.copy_abs() if number.is_zero() else number


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
        if not raw.is_finite():
            raise RuleViolation("value.not_finite", "NaN and Infinity are not numbers")
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
