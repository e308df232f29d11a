"""Which benchmark cells may be shown: primary and complementary suppression.

A cell (one KPI, one group of members) is shown only when it is *safe*: at least
`min_contributors` members contribute and, for additive KPIs (counts, where a mean times
n is a sum), no single member's value is more than `dominance_share` of the cell's
total. Values are taken as absolute amounts for the dominance test.

Primary suppression hides unsafe cells. Complementary suppression then hides more, so
that no hidden member set can be worked out by subtraction:

- within a grouping (the regions, say) whose cells partition the members, the hidden
  part (the suppressed cells plus the members the grouping does not place) can be
  derived as the total minus the shown cells, so that union must itself be safe;
- for any two known member sets, shown cells or derived unions, where one lies
  inside the other, the difference is derivable and must be safe.

Cells are suppressed until no rule is broken (the smallest shown cell goes first, the
total last). This protects against differencing of two sets, which is what overlapping
groups and totals allow; it is not a full linear-programming audit of every
combination of cells.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

ALL_MEMBERS = ("all", "all")

CellKey = tuple[str, str]
"""(grouping, group), e.g. ("wco_region", "Europe") or ALL_MEMBERS."""


class Reason:
    TOO_FEW = "fewer_than_k_contributors"
    DOMINATED = "dominated_by_one_member"
    COMPLEMENTARY = "complementary"


@dataclass(frozen=True)
class SuppressionRules:
    min_contributors: int = 3
    dominance_share: Decimal = Decimal("0.6")
    additive_kinds: frozenset[str] = frozenset({"count"})


@dataclass(frozen=True)
class _Known:
    members: frozenset[str]
    cell: CellKey | None


class Suppressor:
    """Suppression of the cells of one KPI in one cycle."""

    def __init__(
        self,
        cells: Mapping[CellKey, frozenset[str]],
        values: Mapping[str, Decimal],
        *,
        additive: bool,
        rules: SuppressionRules,
    ) -> None:
        self._cells = cells
        self._values = values
        self._additive = additive
        self._rules = rules
        self._everyone = cells.get(ALL_MEMBERS, frozenset())
        self.reasons: dict[CellKey, str] = {}

    def run(self) -> dict[CellKey, str]:
        for key, members in self._cells.items():
            reason = self.unsafe_reason(members)
            if reason is not None:
                self.reasons[key] = reason
        while self._suppress_one_more():
            pass
        return self.reasons

    def unsafe_reason(self, members: frozenset[str]) -> str | None:
        if len(members) < self._rules.min_contributors:
            return Reason.TOO_FEW
        if self._additive and self._dominated(members):
            return Reason.DOMINATED
        return None

    def _dominated(self, members: frozenset[str]) -> bool:
        amounts = [abs(self._values[member]) for member in members]
        total = sum(amounts, Decimal(0))
        if total == 0:
            return False
        return max(amounts) > self._rules.dominance_share * total

    def _shown(self, key: CellKey) -> bool:
        return key in self._cells and key not in self.reasons

    def _suppress_one_more(self) -> bool:
        known = [_Known(members, key) for key, members in self._shown_cells()]
        if self._total_known():
            for grouping in self._groupings():
                hidden = self._hidden_part(grouping)
                if not hidden:
                    continue
                if self.unsafe_reason(hidden) is not None:
                    return self._hide_smallest(grouping)
                known.append(_Known(hidden, None))
        return self._break_unsafe_difference(known)

    def _shown_cells(self) -> list[tuple[CellKey, frozenset[str]]]:
        return [(key, m) for key, m in self._cells.items() if self._shown(key)]

    def _groupings(self) -> list[str]:
        return sorted({key[0] for key in self._cells if key != ALL_MEMBERS})

    def _hidden_part(self, grouping: str) -> frozenset[str]:
        shown: set[str] = set()
        for key, members in self._shown_cells():
            if key[0] == grouping:
                shown |= members
        return self._everyone - shown

    def _total_known(self) -> bool:
        """The total is shown, or follows from a grouping shown in full."""
        if self._shown(ALL_MEMBERS):
            return True
        return any(not self._hidden_part(g) for g in self._groupings())

    def _hide_smallest(self, grouping: str) -> bool:
        candidates = [
            (len(members), key)
            for key, members in self._shown_cells()
            if key[0] == grouping
        ]
        if candidates:
            self.reasons[min(candidates)[1]] = Reason.COMPLEMENTARY
            return True
        return self._hide_total_or_smallest()

    def _hide_total_or_smallest(self) -> bool:
        if self._shown(ALL_MEMBERS):
            self.reasons[ALL_MEMBERS] = Reason.COMPLEMENTARY
            return True
        candidates = [(len(m), key) for key, m in self._shown_cells()]
        if not candidates:
            return False
        self.reasons[min(candidates)[1]] = Reason.COMPLEMENTARY
        return True

    def _break_unsafe_difference(self, known: list[_Known]) -> bool:
        for inner in known:
            for outer in known:
                if not inner.members < outer.members:
                    continue
                if self.unsafe_reason(outer.members - inner.members) is None:
                    continue
                return self._hide_one_of(inner, outer)
        return False

    def _hide_one_of(self, inner: _Known, outer: _Known) -> bool:
        candidates = [
            (known.cell == ALL_MEMBERS, len(known.members), known.cell)
            for known in (inner, outer)
            if known.cell is not None
        ]
        if not candidates:
            return self._hide_total_or_smallest()
        _, _, cell = min(candidates)
        assert cell is not None
        self.reasons[cell] = Reason.COMPLEMENTARY
        return True
