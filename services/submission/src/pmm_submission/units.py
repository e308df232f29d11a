"""Units that figures arrive in, converted exactly into their data element's own.

A unit is a base, optionally with a scale word before or after it: `EUR million`,
`hours`, `thousand kg`, `percent`. Scale words multiply exactly. Durations and
quantities convert between units of the same kind, and only when the result is an
exact decimal. Currencies are never converted: an amount must come in the currency
of its element, or for a national-currency element in the currency the member
declared for that name in its mapping. A count takes any label of what it counts,
but not a unit of another kind.
"""

import re
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, Inexact, localcontext
from fractions import Fraction
from math import prod

from pmm_methodology import DataElement, ElementType
from pmm_submission.domain import SCALE_WORDS, RuleViolation

_PLURAL_SCALE_WORDS = {f"{word}s": factor for word, factor in SCALE_WORDS.items()}
_SCALES = {**SCALE_WORDS, **_PLURAL_SCALE_WORDS}

_PERCENT = frozenset({"percent", "per cent", "%", "pct"})
# In seconds and in grams: the common measure each kind converts through.
_DURATIONS = {
    **dict.fromkeys(("minute", "minutes", "min", "mins"), Fraction(60)),
    **dict.fromkeys(("hour", "hours", "h", "hr", "hrs"), Fraction(3600)),
    **dict.fromkeys(("day", "days", "d"), Fraction(86400)),
}
_MASSES = {
    **dict.fromkeys(("g", "gram", "grams"), Fraction(1)),
    **dict.fromkeys(("kg", "kilogram", "kilograms", "kilo", "kilos"), Fraction(1000)),
    **dict.fromkeys(("t", "tonne", "tonnes", "ton", "tons"), Fraction(1_000_000)),
}
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Unit:
    """A unit as written: its base (None when only a scale was written) and scale."""

    base: str | None
    scale: Decimal

    @property
    def text(self) -> str:
        return self.base or ""


def parse_unit(text: str) -> Unit:
    """Split `EUR million` into its base and scale; the base keeps its case."""
    words = text.split()
    scales = [word for word in words if word.lower() in _SCALES]
    if len(scales) > 1:
        raise RuleViolation("unit.scale_twice", f"'{text}' has two scale words")
    if scales and words[0] is not scales[0] and words[-1] is not scales[0]:
        raise RuleViolation(
            "unit.scale_placement", f"in '{text}' the scale word is not at an end"
        )
    base = [word for word in words if word.lower() not in _SCALES]
    scale = _SCALES[scales[0].lower()] if scales else Decimal(1)
    return Unit(" ".join(base) or None, scale)


def check_declared_unit(element: DataElement, text: str) -> str:
    """The unit a member declares for one of its names: a base unit that the
    element can take, and for a national-currency amount the currency itself."""
    unit = parse_unit(text)
    if unit.base is None or unit.scale != 1:
        raise RuleViolation(
            "unit.declared",
            "declare the base unit (`EUR`, `hours`); a scale goes into the factor "
            "or the feed's own unit",
        )
    if element.type is ElementType.AMOUNT and not _CURRENCY.fullmatch(unit.base):
        raise RuleViolation(
            "unit.not_convertible",
            f"an amount is declared in a currency (ISO 4217, like EUR), "
            f"not '{unit.base}'",
        )
    conversion(element, unit.base, declared=unit.base)
    return unit.base


def conversion(element: DataElement, base: str, *, declared: str | None) -> Fraction:
    """What a figure in `base` is multiplied by to be in the element's own unit."""
    if element.type in (ElementType.BOOLEAN, ElementType.ENUM):
        raise RuleViolation(
            "unit.not_applicable", f"{element.code} is not a number and has no unit"
        )
    if element.type is ElementType.PERCENT:
        return _percent(element, base)
    if element.type is ElementType.DURATION:
        return _between(element, base, _DURATIONS, "a duration")
    if element.type is ElementType.QUANTITY:
        return _between(element, base, _MASSES, "a quantity")
    if element.type is ElementType.AMOUNT:
        return _currency(element, base, declared=declared)
    return _count(element, base, declared=declared)


def _percent(element: DataElement, base: str) -> Fraction:
    if base.lower() not in _PERCENT:
        raise _not_convertible(element, base, "a percentage")
    return Fraction(1)


def _between(
    element: DataElement, base: str, units: dict[str, Fraction], kind: str
) -> Fraction:
    target = (element.unit or "").lower()
    if base.lower() == target:
        return Fraction(1)
    if base.lower() not in units or target not in units:
        raise _not_convertible(element, base, f"{kind} in {element.unit}")
    return units[base.lower()] / units[target]


def _currency(element: DataElement, base: str, *, declared: str | None) -> Fraction:
    expected = declared if element.currency == "national" else element.currency
    if expected is None:
        raise RuleViolation(
            "unit.currency_undeclared",
            f"{element.code} is in the national currency: send it under a name whose "
            "mapping declares that currency, or send it without a unit",
        )
    if base != expected:
        raise RuleViolation(
            "unit.not_convertible",
            f"{base} is not {expected}, the currency of {element.code} here; "
            "currencies are not converted",
        )
    return Fraction(1)


def _count(element: DataElement, base: str, *, declared: str | None) -> Fraction:
    if declared is not None:
        if base.lower() != declared.lower():
            raise RuleViolation(
                "unit.mismatch",
                f"'{base}' is not '{declared}', the unit declared for this name",
            )
        return Fraction(1)
    lowered = base.lower()
    foreign = (
        lowered in _PERCENT
        or lowered in _DURATIONS
        or lowered in _MASSES
        or _CURRENCY.fullmatch(base) is not None
    )
    if foreign:
        raise _not_convertible(element, base, "a count")
    return Fraction(1)


def _not_convertible(element: DataElement, base: str, wanted: str) -> RuleViolation:
    return RuleViolation(
        "unit.not_convertible",
        f"'{base}' cannot be converted into {wanted}, what {element.code} is",
    )


def convert(value: Decimal, factor: Fraction, *scales: Decimal) -> Decimal:
    """`value` times the scales and the factor, exactly, or a refusal when the
    result has no finite decimal form.

    The power of ten in the multiplier moves the decimal point, so that a figure
    has one written form whichever way it was scaled: `12.5` million, or `12.5`
    under a mapping's factor 1000000, are both `12500000`, and `1.2345678` million
    is `1234567.8`; no zero is added that the sender did not write, and a figure
    written whole gains no decimals (`12500000000` thousandths are `12500000`). The
    rest of the multiplier is decimal arithmetic: `1.25` days are `30.00` hours."""
    multiplier = factor * prod((Fraction(scale) for scale in scales), start=1)
    if multiplier == 1:
        return value
    numerator, tens_up = _without_tens(multiplier.numerator)
    denominator, tens_down = _without_tens(multiplier.denominator)
    with localcontext(_EXACT) as context:
        # A figure is bounded once converted, so it may come with any number of
        # digits: the precision grows with them, and nothing is ever rounded.
        context.prec += len(value.as_tuple().digits)
        context.traps[Inexact] = True
        try:
            if numerator != 1:
                value = value * numerator
            if denominator != 1:
                value = value / denominator
        except Inexact:
            raise RuleViolation(
                "unit.inexact",
                f"{format(value, 'f')} is not an exact decimal once converted; "
                "send it in the element's own unit",
            ) from None
        shifted = value.scaleb(tens_up - tens_down)
        if numerator == denominator == 1 and _is_whole(value):
            # The zeros ending a whole figure only place its point: moved past
            # it, they are no decimals the sender wrote (12500000000 g: 12500000).
            shifted = shifted.normalize()
        exponent = shifted.as_tuple().exponent
        if isinstance(exponent, int) and exponent > 0 and shifted.adjusted() < 200:
            # Written out whole: `12500000`, never `1.25E+7`.
            return shifted.quantize(_ONE)
        return shifted


# Wide enough for any figure a feed carries, and for an exponent that is not:
# anything that would still round is refused rather than altered.
_EXACT = Context(prec=200, Emax=MAX_EMAX, Emin=MIN_EMIN)
_ONE = Decimal(1)


def _is_whole(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= 0


def _without_tens(number: int) -> tuple[int, int]:
    """`number` without its trailing zeros, and how many there were."""
    tens = 0
    while number and number % 10 == 0:
        number //= 10
        tens += 1
    return number, tens
