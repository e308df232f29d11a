"""Which hidden values follow from known sums, by exact linear algebra.

A reader who knows the sum of the hidden values of each of some member sets knows
every linear combination of those sums. One member's value follows from them exactly
when the member's unit vector lies in the span of the sets' indicator vectors, over
the hidden members. The sets are reduced here to a basis in reduced row echelon form
(Gauss-Jordan in exact rational arithmetic): a unit vector lies in the span if and
only if it is one of the basis rows (up to a factor), since a combination of the rows
that is zero at every pivot column but one is that one row. Each row is kept as an
integer multiple of its rational row, with no common factor (fraction-free
elimination): the same exact arithmetic as with fractions, at the cost of integers.

Members that belong to exactly the same sets share one column: no combination tells
them apart, so none of them is recoverable, and the matrix stays as wide as there are
distinct memberships (a few dozen), however many members there are.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd

Vector = dict[int, int]


@dataclass
class _Row:
    """A basis row: its entries by column, and the combination of the input sets
    it is (coefficient by the set's index)."""

    entries: Vector
    combination: Vector


def recoverable(
    sets: Sequence[frozenset[str]], hidden: frozenset[str]
) -> dict[str, frozenset[int]]:
    """The hidden members whose value follows from the sums over the hidden part of
    each of `sets`, each with the indexes of the sets one way of working it out
    uses."""
    columns, singles = _columns(sets, hidden)
    if not singles:
        return {}

    vectors = [{columns[m]: 1 for m in members & hidden} for members in sets]
    if not _units(_basis(vectors, track=False), singles):
        return {}

    # Rarely reached: only then is it worth keeping each row's combination.
    return {
        singles[column]: frozenset(row.combination)
        for column, row in _units(_basis(vectors, track=True), singles).items()
    }


def _units(basis: list[_Row], singles: dict[int, str]) -> dict[int, _Row]:
    """The basis rows that are the unit vector of a one-member column."""
    units = {}
    for row in basis:
        if len(row.entries) == 1:
            (column,) = row.entries
            if column in singles:
                units[column] = row
    return units


def _columns(
    sets: Sequence[frozenset[str]], hidden: frozenset[str]
) -> tuple[dict[str, int], dict[int, str]]:
    """A column per distinct membership of the hidden members in `sets`, and the
    columns that hold a single member (the only ones that can be recovered)."""
    memberships: dict[str, list[int]] = defaultdict(list)
    for index, members in enumerate(sets):
        for member in members & hidden:
            memberships[member].append(index)
    by_membership: dict[tuple[int, ...], list[str]] = defaultdict(list)
    for member, indexes in memberships.items():
        by_membership[tuple(indexes)].append(member)
    columns: dict[str, int] = {}
    singles: dict[int, str] = {}
    for column, sharing in enumerate(by_membership.values()):
        for member in sharing:
            columns[member] = column
        if len(sharing) == 1:
            singles[column] = sharing[0]
    return columns, singles


def _basis(vectors: Sequence[Vector], *, track: bool) -> list[_Row]:
    """The reduced row echelon basis of the span of `vectors`, built one vector at a
    time: reduced by the pivots so far, then used to clear its own pivot column
    from the earlier rows. `track` keeps the combination each row is."""
    pivots: dict[int, _Row] = {}
    for index, vector in enumerate(vectors):
        row = _Row(dict(vector), {index: 1} if track else {})
        for column, pivot in pivots.items():
            if row.entries.get(column):
                _eliminate(row, pivot, column)
        if not row.entries:
            continue
        column = min(row.entries)
        for other in pivots.values():
            if other.entries.get(column):
                _eliminate(other, row, column)
        pivots[column] = row
    return list(pivots.values())


def _eliminate(row: _Row, pivot: _Row, column: int) -> None:
    """Clear `column` from `row` with the row whose pivot it is: p * row - f *
    pivot for the two entries p and f there, divided by their common factor."""
    keep, take = pivot.entries[column], row.entries[column]
    row.entries = _combine(row.entries, keep, pivot.entries, take)
    row.combination = _combine(row.combination, keep, pivot.combination, take)
    common = gcd(*row.entries.values(), *row.combination.values())
    if common > 1:
        row.entries = {key: value // common for key, value in row.entries.items()}
        row.combination = {
            key: value // common for key, value in row.combination.items()
        }


def _combine(target: Vector, keep: int, source: Vector, take: int) -> Vector:
    combined = {key: value * keep for key, value in target.items()}
    for key, value in source.items():
        updated = combined.get(key, 0) - take * value
        if updated:
            combined[key] = updated
        else:
            combined.pop(key, None)
    return combined
