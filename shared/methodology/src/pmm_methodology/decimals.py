"""The one decimal arithmetic every figure goes through.

A fresh context per use keeps evaluation free of shared mutable state (a context
records flags as it works), so two threads can never see each other's signals.
"""

from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
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


# Shared, unlike the arithmetic contexts: it holds every digit, so nothing done with it
# rounds, and a finite operand never trips its one trap.
_EXACT = Context(prec=MAX_PREC, Emin=MIN_EMIN, Emax=MAX_EMAX, traps=[InvalidOperation])
_ONE = Decimal(1)


def written(value: Decimal) -> str:
    """The number in positional notation, every digit it holds: `0.0000001` and
    `50000000000000000000000`, where `str` would write `1E-7` and `5.00E+22`.

    Figures reach people and other systems as text; a notation with an exponent is
    one the services refuse on input, so it is never one they give back.
    """
    return format(value, "f")


def arithmetic_context() -> Context:
    # A copy has flags of its own and costs a fraction of building one from keywords,
    # which every evaluation does.
    return _TEMPLATE.copy()


def round_half_up(
    value: Decimal, places: int, context: Context | None = None
) -> Decimal | None:
    """Round to `places` decimals, half away from zero; None when it cannot be held.

    `context` is one from `arithmetic_context` the caller already holds, if any.
    """
    try:
        rounded = value.quantize(
            _quantum(places),
            rounding=ROUND_HALF_UP,
            context=context if context is not None else arithmetic_context(),
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
    if not value.is_finite():
        return value
    if value.is_zero():
        return Decimal(0)

    # Stripping every trailing zero is what `normalize` does, exactly under a context
    # that holds any number; only a whole number keeps its integer zeros (100.00 is
    # 100, not 1E+2). Spelling out the digits would cost more than the rest together.
    normalized = value.normalize(_EXACT)
    if normalized != normalized.to_integral_value(context=_EXACT):
        return normalized
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0:
        return value.quantize(_ONE, context=_EXACT)
    return value
