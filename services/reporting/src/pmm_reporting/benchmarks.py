"""Benchmarks per KPI and peer group for a cycle, computed for the whole cycle at once.

Complementary suppression looks at every group of a KPI together, so the table of a
cycle is computed as a whole from the accepted results (every value, whatever its
disclosure level) and kept in memory until the cycle's read-model `version` moves.
"""

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_reporting.models import KpiValue, MemberResult, Submission, table
from pmm_reporting.schemas import CellOut
from pmm_reporting.statistics import Summary, summarize
from pmm_reporting.suppression import (
    ALL_MEMBERS,
    CellKey,
    SuppressionRules,
    Suppressor,
)

GROUPINGS = ("all", "wco_region", "income_group", "administration_type")
COUNTED_STATUS = "accepted"


@dataclass(frozen=True)
class Contribution:
    member: str
    kpi: str
    kind: str
    value: Decimal
    groups: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class BenchmarkCell:
    """A cell with its two views built once: with its figures, and as readers other
    than the Secretariat get it (no figures when suppressed)."""

    kpi: str
    grouping: str
    group: str
    summary: Summary
    suppressed: str | None
    with_figures: CellOut
    as_released: CellOut

    @property
    def key(self) -> CellKey:
        return (self.grouping, self.group)


def _view(
    kpi: str, key: CellKey, summary: Summary, suppressed: str | None, *, hide: bool
) -> CellOut:
    hidden = hide and suppressed is not None
    return CellOut.model_construct(
        kpi=kpi,
        grouping=key[0],
        group=key[1],
        suppressed=suppressed is not None,
        suppression_reason=suppressed,
        n=None if hidden else summary.n,
        mean=None if hidden else summary.mean,
        median=None if hidden else summary.median,
        q1=None if hidden else summary.q1,
        q3=None if hidden else summary.q3,
        minimum=None if hidden else summary.minimum,
        maximum=None if hidden else summary.maximum,
    )


def _cell(
    kpi: str, key: CellKey, summary: Summary, suppressed: str | None
) -> BenchmarkCell:
    return BenchmarkCell(
        kpi=kpi,
        grouping=key[0],
        group=key[1],
        summary=summary,
        suppressed=suppressed,
        with_figures=_view(kpi, key, summary, suppressed, hide=False),
        as_released=_view(kpi, key, summary, suppressed, hide=True),
    )


@dataclass
class CycleBenchmarks:
    cycle_id: str
    version: int
    cells: dict[str, dict[CellKey, BenchmarkCell]] = field(default_factory=dict)

    def cell(self, kpi: str, key: CellKey) -> BenchmarkCell | None:
        return self.cells.get(kpi, {}).get(key)


async def load_contributions(
    session: AsyncSession, cycle_id: str
) -> list[Contribution]:
    """The accepted, current KPI values of a cycle with each member's peer groups."""
    kpi_value = table(KpiValue)
    submission = table(Submission)
    result = table(MemberResult)
    rows = await session.execute(
        sa.select(
            kpi_value.c.member,
            kpi_value.c.kpi,
            kpi_value.c.kind,
            kpi_value.c.value,
            submission.c.wco_region,
            submission.c.income_group,
            submission.c.administration_type,
        )
        .join(
            result,
            sa.and_(
                result.c.cycle_id == kpi_value.c.cycle_id,
                result.c.member == kpi_value.c.member,
            ),
        )
        .join(
            submission,
            sa.and_(
                submission.c.submission_id == result.c.submission_id,
                submission.c.revision == result.c.revision,
            ),
        )
        .where(
            kpi_value.c.cycle_id == cycle_id,
            kpi_value.c.value.is_not(None),
            submission.c.status == COUNTED_STATUS,
        )
    )
    contributions = []
    for member, kpi, kind, value, region, income, administration in rows:
        groups = [("wco_region", region), ("income_group", income)]
        groups.append(("administration_type", administration))
        placed = tuple((grouping, g) for grouping, g in groups if g is not None)
        contributions.append(Contribution(member, kpi, kind, value, placed))
    return contributions


def compute_benchmarks(
    cycle_id: str,
    version: int,
    contributions: list[Contribution],
    rules: SuppressionRules,
) -> CycleBenchmarks:
    by_kpi: dict[str, list[Contribution]] = defaultdict(list)
    for contribution in contributions:
        by_kpi[contribution.kpi].append(contribution)
    table = CycleBenchmarks(cycle_id, version)
    for kpi, kpi_contributions in sorted(by_kpi.items()):
        table.cells[kpi] = _kpi_cells(kpi, kpi_contributions, rules)
    return table


def _kpi_cells(
    kpi: str, contributions: list[Contribution], rules: SuppressionRules
) -> dict[CellKey, BenchmarkCell]:
    values = {c.member: c.value for c in contributions}
    members: dict[CellKey, set[str]] = defaultdict(set)
    for contribution in contributions:
        members[ALL_MEMBERS].add(contribution.member)
        for key in contribution.groups:
            members[key].add(contribution.member)
    frozen = {key: frozenset(group) for key, group in members.items()}
    additive = contributions[0].kind in rules.additive_kinds
    reasons = Suppressor(frozen, values, additive=additive, rules=rules).run()
    return {
        key: _cell(kpi, key, summarize([values[m] for m in group]), reasons.get(key))
        for key, group in sorted(frozen.items())
    }


class BenchmarkCache:
    """The benchmark table of each cycle, recomputed when its version has moved."""

    def __init__(self, rules: SuppressionRules) -> None:
        self.rules = rules
        self._tables: dict[str, CycleBenchmarks] = {}
        self._lock = asyncio.Lock()

    async def table_at(
        self, session: AsyncSession, cycle_id: str, version: int
    ) -> CycleBenchmarks:
        cached = self._tables.get(cycle_id)
        if cached is not None and cached.version == version:
            return cached

        async with self._lock:
            cached = self._tables.get(cycle_id)
            if cached is not None and cached.version == version:
                return cached
            contributions = await load_contributions(session, cycle_id)
            table = compute_benchmarks(cycle_id, version, contributions, self.rules)
            self._tables[cycle_id] = table
            return table
