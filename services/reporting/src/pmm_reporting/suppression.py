"""Which benchmark cells may be shown to a reader: primary and complementary
suppression, against what that reader already sees.

A cell (one KPI, one group of members) needs at least `min_contributors` members and,
for additive KPIs (counts, where a mean times n is a sum), no single member's value
above `dominance_share` of the cell's total (values taken as absolute amounts).

A reader sees some members' values anyway (those disclosed to its audience), so from
a cell's n and mean it learns the sum of the others, the cell's *hidden part*. That
part is an aggregate in its own right: it must be empty (the reader sees every value)
or *safe*: at least `min_contributors` members, not dominated by one of them (for
additive KPIs), and not all alike (a mean of equal values is each of them). A
suppression run is given the hidden sets of the readers its view is for (by default
one that sees no value, where the hidden part is the whole set).

Complementary suppression then hides more cells, so that no hidden part can be
worked out by subtraction either:

- within a grouping (the regions, say) whose cells partition the members, the rest
  (the suppressed cells plus the members the grouping does not place) is the total
  minus the shown cells, so its hidden part must be safe;
- for any two known member sets, shown cells or such rests, whose hidden parts lie
  one inside the other, the difference of the hidden parts is derivable and must be
  safe. Comparing hidden parts rather than member sets matters: a reader subtracts
  the values it sees, so two cells that differ by visible members only still differ
  by their hidden members.

Cells a published report has shown are known sets too (`published`): every reader
has them, with the members and values they had then, and they cannot be taken back.
A live cell is checked against them like against any other known set, so a live
cell one member away from a published one (a member returned or accepted since) is
suppressed, while one that differs by a safe hidden part (k members or more) shows.
Only a live cell can be suppressed; two published sets are not compared with each
other.

Differences of two sets are not all a reader can do: with high income = {a..g},
Europe = {a, b, c} and customs = {d, e, f}, high less Europe less customs is g. So
once no pair breaks a rule, the shown cells and the published sets are audited by
exact linear algebra (`span`): over the members hidden from a reader, a member's
value follows from the sums the reader knows exactly when its unit vector lies in
the span of the known sets' indicator vectors. While one does, a cell that a
combination giving it uses is hidden (the smallest, the total last). A member the
published sets give away on their own is out already and not counted. The audit
finds single values; sets of fewer than k members are guarded against by the k and
pairwise rules only.

Cells are suppressed until no rule is broken (the smallest shown cell goes first, the
total last).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pmm_reporting.span import recoverable

ALL_MEMBERS = ("all", "all")

CellKey = tuple[str, str]
"""(grouping, group), e.g. ("wco_region", "Europe") or ALL_MEMBERS."""


class Reason:
    TOO_FEW = "fewer_than_k_contributors"
    DOMINATED = "dominated_by_one_member"
    UNDISCLOSED = "undisclosed_values"
    COMPLEMENTARY = "complementary"


@dataclass(frozen=True)
class SuppressionRules:
    min_contributors: int = 3
    dominance_share: Decimal = Decimal("0.6")
    additive_kinds: frozenset[str] = frozenset({"count"})


@dataclass(frozen=True)
class _Known:
    """A member set whose sum a reader knows: a shown cell, a derived rest (no cell),
    or a cell already published (`fixed`: it cannot be taken back)."""

    members: frozenset[str]
    cell: CellKey | None
    fixed: bool = False


class Suppressor:
    """Suppression of the cells of one KPI in one cycle for one view.

    `hidden` holds, for each kind of reader of the view, the members whose values
    that reader may not see; `suppressed` the cells a narrower view already hides
    (a reader of a wider view reads the narrower one too, so it starts from there);
    `published` the member sets of cells every reader has already seen (a published
    report's), which are known sums that no suppression can take back. Their members
    may include members of no cell (a member that has left the live view since) and
    need values like any other. `audited` holds hidden sets whose span audit the
    view of `suppressed` has passed: this view shows none of the cells that view
    hides, so no combination of its cells gives those readers anything new.
    """

    def __init__(
        self,
        cells: Mapping[CellKey, frozenset[str]],
        values: Mapping[str, Decimal],
        *,
        additive: bool,
        rules: SuppressionRules,
        hidden: Sequence[frozenset[str]] | None = None,
        suppressed: Mapping[CellKey, str] | None = None,
        published: Sequence[frozenset[str]] = (),
        audited: Sequence[frozenset[str]] = (),
    ) -> None:
        self._cells = cells
        self._values = values
        self._additive = additive
        self._rules = rules
        self._everyone = cells.get(ALL_MEMBERS, frozenset())
        nothing_seen = self._everyone | frozenset(values)
        self._hidden = tuple(hidden) if hidden is not None else (nothing_seen,)
        self.reasons: dict[CellKey, str] = dict(suppressed or {})
        self._published = [_Known(members, None, fixed=True) for members in published]
        self._exposed_by_published: dict[int, frozenset[str]] = {}
        self._audited = frozenset(audited)

    def run(self) -> dict[CellKey, str]:
        for key, members in self._cells.items():
            if key in self.reasons:
                continue
            reason = self.unsafe_reason(members)
            if reason is not None:
                self.reasons[key] = reason
        while self._suppress_one_more():
            pass
        return self.reasons

    def unsafe_reason(self, members: frozenset[str]) -> str | None:
        """Why a cell of these members may not be shown to this view, if it may not."""
        reason = self._primary_reason(members)
        if reason is not None:
            return reason
        if self._exposing(members) is not None:
            return Reason.UNDISCLOSED
        return None

    def _primary_reason(self, members: frozenset[str]) -> str | None:
        if len(members) < self._rules.min_contributors:
            return Reason.TOO_FEW
        if self._additive and self._dominated(members):
            return Reason.DOMINATED
        return None

    def _exposing(self, members: frozenset[str]) -> frozenset[str] | None:
        """The first hidden set whose part of `members` a reader could work out."""
        for hidden in self._hidden:
            part = members & hidden
            if part and not self._safe_part(part):
                return hidden
        return None

    def _safe_part(self, part: frozenset[str]) -> bool:
        if self._primary_reason(part) is not None:
            return False
        return not self._all_alike(part)

    def _all_alike(self, members: frozenset[str]) -> bool:
        first = self._values[next(iter(members))]
        return all(self._values[member] == first for member in members)

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
        known += self._published
        if self._total_known():
            for grouping in self._groupings():
                rest = self._rest_of(grouping)
                if not rest:
                    continue
                hidden = self._exposing(rest)
                if hidden is not None:
                    return self._hide_smallest(grouping, hidden)
                known.append(_Known(rest, None))
        if self._break_unsafe_difference(known):
            return True
        return self._break_recovery()

    def _shown_cells(self) -> list[tuple[CellKey, frozenset[str]]]:
        return [(key, m) for key, m in self._cells.items() if self._shown(key)]

    def _groupings(self) -> list[str]:
        return sorted({key[0] for key in self._cells if key != ALL_MEMBERS})

    def _rest_of(self, grouping: str) -> frozenset[str]:
        """The members of no shown cell of the grouping: total minus those cells."""
        shown: set[str] = set()
        for key, members in self._shown_cells():
            if key[0] == grouping:
                shown |= members
        return self._everyone - shown

    def _total_known(self) -> bool:
        """The total is shown, or follows from a grouping shown in full."""
        if self._shown(ALL_MEMBERS):
            return True
        return any(not self._rest_of(g) for g in self._groupings())

    def _hide_smallest(self, grouping: str, hidden: frozenset[str]) -> bool:
        # Only a cell with hidden members makes the rest's hidden part larger.
        candidates = [
            (len(members), key)
            for key, members in self._shown_cells()
            if key[0] == grouping and members & hidden
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
        for hidden in self._hidden:
            parts = [(entry, entry.members & hidden) for entry in known]
            for inner, inner_part in parts:
                for outer, outer_part in parts:
                    if not inner_part < outer_part or (inner.fixed and outer.fixed):
                        continue
                    if self._safe_part(outer_part - inner_part):
                        continue
                    return self._hide_one_of(inner, outer)
        return False

    def _break_recovery(self) -> bool:
        """Hide a cell that a combination of known sums working out one hidden
        value uses: the smallest, the total last."""
        shown = self._shown_cells()
        sets = [members for _, members in shown]
        sets += [known.members for known in self._published]
        for number, hidden in enumerate(self._hidden):
            if hidden in self._audited:
                continue
            found = recoverable(sets, hidden)
            exposed = self._published_exposes(number)
            for member in sorted(found.keys() - exposed):
                used = [shown[i] for i in found[member] if i < len(shown)]
                if used:
                    self.reasons[_smallest_first(used)] = Reason.COMPLEMENTARY
                    return True
        return False

    def _published_exposes(self, number: int) -> frozenset[str]:
        """What the published sets alone give away of a hidden set: nothing the
        live view could still protect."""
        exposed = self._exposed_by_published.get(number)
        if exposed is None:
            sets = [known.members for known in self._published]
            exposed = frozenset(recoverable(sets, self._hidden[number]))
            self._exposed_by_published[number] = exposed
        return exposed

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


def _smallest_first(cells: Sequence[tuple[CellKey, frozenset[str]]]) -> CellKey:
    """The cell to hide first: the smallest, the total last."""
    _, _, key = min((key == ALL_MEMBERS, len(members), key) for key, members in cells)
    return key
