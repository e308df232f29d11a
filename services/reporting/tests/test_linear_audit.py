"""No combination of the cells a reader gets works out a value hidden from it: not
two cells, and not three or more (high income less Europe less customs)."""

from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pmm_reporting.span import recoverable
from pmm_reporting.suppression import (
    ALL_MEMBERS,
    CellKey,
    Reason,
    SuppressionRules,
    Suppressor,
)

HIGH = ("income_group", "high")
LOW = ("income_group", "low")
EUROPE = ("wco_region", "Europe")
AMERICAS = ("wco_region", "Americas")
CUSTOMS = ("administration_type", "customs")
REVENUE = ("administration_type", "revenue authority")


def _rank(rows: list[list[Fraction]]) -> int:
    """Rank by plain Gaussian elimination over the rationals."""
    matrix = [list(row) for row in rows]
    rank = 0
    width = len(matrix[0]) if matrix else 0
    for column in range(width):
        pivot = next(
            (i for i in range(rank, len(matrix)) if matrix[i][column] != 0), None
        )
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for i in range(len(matrix)):
            if i != rank and matrix[i][column] != 0:
                factor = matrix[i][column] / matrix[rank][column]
                matrix[i] = [
                    a - factor * b for a, b in zip(matrix[i], matrix[rank], strict=True)
                ]
        rank += 1
    return rank


def _worked_out(sets: list[frozenset[str]], hidden: frozenset[str]) -> set[str]:
    """Hidden members whose unit vector adds nothing to the rank of the sets'
    indicator vectors over the hidden members: independently of `span`."""
    order = sorted(hidden)
    rows = [[Fraction(int(m in s)) for m in order] for s in sets]
    if not rows:
        return set()
    base = _rank(rows)
    found = set()
    for index, member in enumerate(order):
        unit = [Fraction(int(i == index)) for i in range(len(order))]
        if _rank([*rows, unit]) == base:
            found.add(member)
    return found


def _shown(
    cells: dict[CellKey, frozenset[str]], reasons: dict[CellKey, str]
) -> list[frozenset[str]]:
    return [members for key, members in cells.items() if key not in reasons]


def test_three_overlapping_cells_do_not_give_a_value_away() -> None:
    members = "abcdefghij"
    cells = {
        ALL_MEMBERS: frozenset(members),
        HIGH: frozenset("abcdefg"),
        LOW: frozenset("hij"),
        EUROPE: frozenset("abc"),
        AMERICAS: frozenset("defghij"),
        CUSTOMS: frozenset("def"),
        REVENUE: frozenset("abcghij"),
    }
    values = {m: Decimal(n * 7 + 3) for n, m in enumerate(members)}
    everyone = frozenset(members)
    # No two shown cells nest to a difference of fewer than k: only the span finds
    # high - Europe - customs = g.
    exposed_before = _worked_out(list(cells.values()), everyone)

    reasons = Suppressor(cells, values, additive=False, rules=SuppressionRules()).run()

    assert "g" in exposed_before
    assert reasons
    assert set(reasons.values()) == {Reason.COMPLEMENTARY}
    assert _worked_out(_shown(cells, reasons), everyone) == set()
    assert ALL_MEMBERS not in reasons


def test_the_span_audit_finds_the_value_and_the_cells_it_uses() -> None:
    sets = [frozenset("abcdefg"), frozenset("abc"), frozenset("def")]

    found = recoverable(sets, frozenset("abcdefg"))
    with_a_visible = recoverable(sets, frozenset("abcdefg") - {"g"})

    assert found == {"g": frozenset({0, 1, 2})}
    assert with_a_visible == {}


def test_members_in_the_same_cells_are_never_told_apart() -> None:
    sets = [frozenset("abcd"), frozenset("ab"), frozenset("abc")]

    found = recoverable(sets, frozenset("abcd"))

    assert found == {"c": frozenset({1, 2}), "d": frozenset({0, 2})}


# Few groups per grouping, so that cells are large enough to be shown and overlap.
layouts = st.integers(min_value=5, max_value=12).flatmap(
    lambda size: st.tuples(
        st.just(size),
        st.lists(st.integers(0, 2), min_size=size, max_size=size),
        st.lists(st.integers(0, 2), min_size=size, max_size=size),
        st.lists(st.integers(0, 1), min_size=size, max_size=size),
        st.lists(st.booleans(), min_size=size, max_size=size),
        st.lists(st.integers(-50, 50), min_size=size, max_size=size, unique=True),
        # Published sets may hold values no longer live (indexes past the members).
        st.lists(st.sets(st.integers(0, size + 1), min_size=1), max_size=2),
    )
)


@settings(max_examples=500, deadline=None)
@given(layouts)
def test_no_released_combination_recovers_a_hidden_member(
    layout: tuple[int, list[int], list[int], list[int], list[bool], list[int], Any],
) -> None:
    size, regions, incomes, kinds, seen, amounts, published_indexes = layout
    members = [f"M{n}" for n in range(size)]
    gone = [f"M{size}@old", f"M{size + 1}@old"]
    cells: dict[CellKey, set[str]] = {ALL_MEMBERS: set(members)}
    for member, region, income, kind in zip(
        members, regions, incomes, kinds, strict=True
    ):
        cells.setdefault(("wco_region", f"R{region}"), set()).add(member)
        if income:  # 0: the member has no income group
            cells.setdefault(("income_group", f"I{income}"), set()).add(member)
        cells.setdefault(("administration_type", f"T{kind}"), set()).add(member)
    frozen = {key: frozenset(group) for key, group in cells.items()}
    hidden = frozenset(
        m for m, visible in zip(members, seen, strict=True) if not visible
    )
    hidden |= frozenset(gone)
    published = [frozenset([*members, *gone][i] for i in s) for s in published_indexes]
    values = {m: Decimal(amount) for m, amount in zip(members, amounts, strict=True)}
    values |= {old: Decimal(100 + n) for n, old in enumerate(gone)}

    reasons = Suppressor(
        frozen,
        values,
        additive=False,
        rules=SuppressionRules(),
        hidden=(hidden,),
        published=published,
    ).run()

    shown = _shown(frozen, reasons)
    exposed_anyway = _worked_out(published, hidden)
    assert _worked_out([*shown, *published], hidden) <= exposed_anyway
    for members_shown in shown:
        part = members_shown & hidden
        assert not part or len(part) >= 3
