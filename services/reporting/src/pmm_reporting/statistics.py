"""Summary statistics in exact decimal arithmetic.

Quantiles interpolate linearly between the closest ranks (Hyndman and Fan type 7, the
default of R, NumPy and Excel's QUARTILE.INC): for sorted values x[0..n-1] and a
probability p, h = (n - 1) p and Q(p) = x[floor h] + (h - floor h)(x[floor h + 1] -
x[floor h]). Means and quantiles are rounded half up to `PLACES` decimal places.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

PLACES = 4
_QUANTUM = Decimal(1).scaleb(-PLACES)


@dataclass(frozen=True)
class Summary:
    n: int
    mean: Decimal
    median: Decimal
    q1: Decimal
    q3: Decimal
    minimum: Decimal
    maximum: Decimal


def summarize(values: Sequence[Decimal]) -> Summary:
    if not values:
        raise ValueError("a summary needs at least one value")

    ordered = sorted(values)
    with localcontext() as context:
        context.prec = 34
        mean = sum(ordered, Decimal(0)) / len(ordered)
    return Summary(
        n=len(ordered),
        mean=_rounded(mean),
        median=quantile(ordered, Decimal("0.5")),
        q1=quantile(ordered, Decimal("0.25")),
        q3=quantile(ordered, Decimal("0.75")),
        minimum=ordered[0],
        maximum=ordered[-1],
    )


def quantile(ordered: Sequence[Decimal], probability: Decimal) -> Decimal:
    """Type 7 quantile of values sorted ascending."""
    with localcontext() as context:
        context.prec = 34
        position = (len(ordered) - 1) * probability
        below = int(position)
        fraction = position - below
        if below + 1 >= len(ordered):
            return _rounded(ordered[below])
        step = ordered[below + 1] - ordered[below]
        return _rounded(ordered[below] + fraction * step)


def _rounded(value: Decimal) -> Decimal:
    return value.quantize(_QUANTUM, rounding=ROUND_HALF_UP)
