"""The one decimal arithmetic every figure goes through.

A fresh context per use keeps evaluation free of shared mutable state (a context
records flags as it works), so two threads can never see each other's signals.
"""

from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from functools import cache

PRECISION = 34
MAX_ROUNDING_PLACES = 12


_TEMPLATE = Context(
    prec=PRECISION,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


def arithmetic_context() -> Context:
    # A copy has flags of its own and costs a fraction of building one from keywords,
    # which every evaluation does.
    return _TEMPLATE.copy()


def round_half_up(value: Decimal, places: int) -> Decimal | None:
    """Round to `places` decimals, half away from zero; None when it cannot be held."""
    try:
        rounded = value.quantize(
            _quantum(places), rounding=ROUND_HALF_UP, context=arithmetic_context()
        )
    except DecimalException:
        return None

    return _without_negative_zero(rounded)


@cache
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def _without_negative_zero(value: Decimal) -> Decimal:
    # "-0.00" would make equal results print differently.
    if value.is_zero():
        return value.copy_abs()
    return value


def trimmed(value: Decimal) -> Decimal:
    """The same number without trailing fractional zeros: 94.99500 becomes 94.995."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        return value
    if value.is_zero():
        return Decimal(0)
    if exponent >= 0 or digits[-1] != 0:
        return value

    kept = list(digits)
    while exponent < 0 and len(kept) > 1 and kept[-1] == 0:
        kept.pop()
        exponent += 1
    return Decimal((sign, tuple(kept), exponent))
