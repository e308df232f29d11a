"""Benchmarks per KPI and peer group for a cycle, computed for the whole cycle at once.

Complementary suppression looks at every group of a KPI together, so the table of a
cycle is computed as a whole from the accepted results (every value, whatever its
disclosure level) and kept in memory until the cycle's read-model `version` moves.

Each cell is released as each audience may see it. A WCO-level reader sees the public
and WCO-level values, the public only the public ones, so a cell is suppressed for an
audience when its n and mean would let that audience subtract what it sees and work
out the rest (see `suppression`). Every reader can also read the public view, so the
public view hides whatever the WCO view hides, and is checked against what WCO-level
readers see as well. The Secretariat sees every figure, with the public view's
suppression marked.

Only the Secretariat reads this live table; every other reader is served the cells
as the cycle's latest report froze them (`published`). A report's cells are out for
good, with the members and values they had then, so the views the next report
freezes must not let a reader subtract one of its cells from an earlier one (a
member returned or accepted since, whose value the difference would be): each cell
an earlier report released with figures, to the public or to WCO-level readers,
counts as a known sum when the views are suppressed, over the members it had and
the values they had then. A member whose value has changed since, or who has left
the live view, takes part with its published value as one more hidden value, unless
the report made that value public. Publication stores that basis beside the
snapshot (`published_basis`); it is never served.

Order statistics (median, quartiles, minimum and maximum) are released only to a
reader who may see every value of the cell: they are member values or interpolations
between two neighbours, so a reader who knows some of the values can solve for the
others (with n up to 5 they are every value of the cell), and the same value matched
across overlapping cells tells whose it is. A mean over a safe hidden part tells only
a sum, which the suppression rules guard.
"""

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.contracts.common import DisclosureLevel
from pmm_reporting.audience import Audience, may_see
from pmm_reporting.models import KpiValue, MemberResult, Report, Submission, table
from pmm_reporting.published import PublishedCache
from pmm_reporting.schemas import CellOut
from pmm_reporting.statistics import Summary, summarize
from pmm_reporting.suppression import (
    ALL_MEMBERS,
    CellKey,
    SuppressionRules,
    Suppressor,
)

log = structlog.get_logger(__name__)

GROUPINGS = ("all", "wco_region", "income_group", "administration_type")
COUNTED_STATUS = "accepted"


@dataclass(frozen=True)
class Contribution:
    member: str
    kpi: str
    kind: str
    value: Decimal
    disclosure: str
    groups: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PublishedKpi:
    """What one published report showed of one KPI: the cells released with figures
    to every reader (`cells`) and to WCO-level readers only (`wco_cells`), their
    members then, and the value and disclosure level each member had then."""

    cells: Mapping[CellKey, frozenset[str]]
    values: Mapping[str, tuple[Decimal, str]]
    wco_cells: Mapping[CellKey, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchmarkCell:
    """A cell with its view for each audience (public, WCO, Secretariat), built
    once."""

    kpi: str
    grouping: str
    group: str
    summary: Summary
    views: Mapping[Audience, CellOut]
    members: frozenset[str] = frozenset()

    @property
    def key(self) -> CellKey:
        return (self.grouping, self.group)

    def view_for(self, audience: Audience) -> CellOut:
        return self.views[audience]


@dataclass(frozen=True)
class _Release:
    """How a cell reaches one audience."""

    suppressed: str | None
    with_figures: bool
    order_statistics: bool


def _view(kpi: str, key: CellKey, summary: Summary, release: _Release) -> CellOut:
    figures = release.with_figures
    ranks = figures and release.order_statistics
    return CellOut.model_construct(
        kpi=kpi,
        grouping=key[0],
        group=key[1],
        suppressed=release.suppressed is not None,
        suppression_reason=release.suppressed,
        order_statistics_withheld=figures and not ranks,
        n=summary.n if figures else None,
        mean=summary.mean if figures else None,
        median=summary.median if ranks else None,
        q1=summary.q1 if ranks else None,
        q3=summary.q3 if ranks else None,
        minimum=summary.minimum if ranks else None,
        maximum=summary.maximum if ranks else None,
    )


@dataclass
class CycleBenchmarks:
    cycle_id: str
    version: int
    cells: dict[str, dict[CellKey, BenchmarkCell]] = field(default_factory=dict)
    contributions: dict[str, list[Contribution]] = field(default_factory=dict)
    _views: dict[Audience, dict[str, dict[CellKey, CellOut]]] = field(
        default_factory=dict
    )

    def cell(self, kpi: str, key: CellKey) -> BenchmarkCell | None:
        return self.cells.get(kpi, {}).get(key)

    def views(self, audience: Audience) -> dict[str, dict[CellKey, CellOut]]:
        """Per KPI, the cells as `audience` sees them (built once per table)."""
        views = self._views.get(audience)
        if views is None:
            views = {
                kpi: {key: cell.view_for(audience) for key, cell in cells.items()}
                for kpi, cells in self.cells.items()
            }
            self._views[audience] = views
        return views


BASIS_FORMAT = "pmm-report-basis/2"


def published_basis(table: CycleBenchmarks) -> dict[str, Any]:
    """What a report freezing the public and WCO views of `table` releases, as a
    JSON document kept beside its snapshot: per KPI the cells shown with figures,
    their members and who got them (`["public", "wco"]`, or `["wco"]` for a cell
    only WCO-level readers got), and the value and level of each of those members.
    The public view shows no cell the WCO view hides (it starts from what that
    hides), so a cell the public got WCO-level readers got as well."""
    kpis: dict[str, Any] = {}
    for kpi, cells in table.cells.items():
        shown = [
            cell
            for cell in cells.values()
            if cell.view_for(Audience.WCO).mean is not None
        ]
        if not shown:
            continue
        members = frozenset().union(*(cell.members for cell in shown))
        kpis[kpi] = {
            "cells": [
                [c.grouping, c.group, sorted(c.members), _released_to(c)] for c in shown
            ],
            "values": {
                c.member: [str(c.value), c.disclosure]
                for c in table.contributions[kpi]
                if c.member in members
            },
        }
    return {"format": BASIS_FORMAT, "kpis": kpis}


def _released_to(cell: BenchmarkCell) -> list[str]:
    if cell.view_for(Audience.PUBLIC).mean is None:
        return [Audience.WCO.value]
    return [Audience.PUBLIC.value, Audience.WCO.value]


def parse_bases(bases: Sequence[Mapping[str, Any]]) -> dict[str, list[PublishedKpi]]:
    """Per KPI, what each of a cycle's published reports showed of it. A cell of a
    basis written before the WCO view was frozen names no audience: it was the
    public's."""
    published: dict[str, list[PublishedKpi]] = defaultdict(list)
    for basis in bases:
        for kpi, shown in basis["kpis"].items():
            cells: dict[CellKey, frozenset[str]] = {}
            wco_cells: dict[CellKey, frozenset[str]] = {}
            for grouping, group, members, *audiences in shown["cells"]:
                public = not audiences or Audience.PUBLIC.value in audiences[0]
                known = cells if public else wco_cells
                known[(grouping, group)] = frozenset(members)
            values = {
                member: (Decimal(value), level)
                for member, (value, level) in shown["values"].items()
            }
            published[kpi].append(PublishedKpi(cells, values, wco_cells))
    return published


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
            submission.c.disclosure[kpi_value.c.kpi].astext,
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
    for member, kpi, kind, value, level, region, income, administration in rows:
        groups = [("wco_region", region), ("income_group", income)]
        groups.append(("administration_type", administration))
        placed = tuple((grouping, g) for grouping, g in groups if g is not None)
        disclosure = level or DisclosureLevel.RESTRICTED
        contributions.append(Contribution(member, kpi, kind, value, disclosure, placed))
    return contributions


async def report_bases(session: AsyncSession, cycle_id: str) -> list[dict[str, Any]]:
    """The bases of the cycle's published reports, oldest first. A report published
    before bases were kept has none: see the README, "Published reports"."""
    report = table(Report)
    rows = list(
        await session.scalars(
            sa.select(report.c.basis)
            .where(report.c.cycle_id == cycle_id)
            .order_by(report.c.published_at)
        )
    )
    bases = [basis for basis in rows if basis is not None]
    if len(bases) < len(rows):
        log.warning(
            "benchmarks.report_basis.missing",
            cycle_id=cycle_id,
            reports=len(rows) - len(bases),
        )
    return bases


def compute_benchmarks(
    cycle_id: str,
    version: int,
    contributions: list[Contribution],
    rules: SuppressionRules,
    published: Mapping[str, Sequence[PublishedKpi]] | None = None,
) -> CycleBenchmarks:
    """The cycle's cells for each audience; `published` holds, per KPI, what the
    cycle's published reports have shown of it (see `parse_bases`)."""
    by_kpi: dict[str, list[Contribution]] = defaultdict(list)
    for contribution in contributions:
        by_kpi[contribution.kpi].append(contribution)
    table = CycleBenchmarks(cycle_id, version)
    for kpi, kpi_contributions in sorted(by_kpi.items()):
        seen = (published or {}).get(kpi, ())
        table.cells[kpi] = _kpi_cells(kpi, kpi_contributions, rules, seen)
        table.contributions[kpi] = kpi_contributions
    return table


@dataclass(frozen=True)
class _Earlier:
    """Published cells as sets of value ids: a member's id where its value is still
    the live one, `member@value` for a value it no longer has (or a member no
    longer counted), with those values and the ids the public saw published; the
    cells every reader got apart from those only WCO-level readers got."""

    cells: list[frozenset[str]]
    values: dict[str, Decimal]
    public: frozenset[str]
    wco_cells: list[frozenset[str]] = field(default_factory=list)


def _earlier(
    published: Sequence[PublishedKpi], live: Mapping[str, Decimal]
) -> _Earlier:
    ids: dict[tuple[str, Decimal], str] = {}
    values: dict[str, Decimal] = {}
    public: set[str] = set()
    for report in published:
        for member, (value, level) in report.values.items():
            same = member in live and live[member] == value
            ident = member if same else f"{member}@{value.normalize()}"
            ids[(member, value)] = ident
            if not same:
                values[ident] = value
                if level == DisclosureLevel.PUBLIC:
                    public.add(ident)

    def as_ids(report: PublishedKpi, members: frozenset[str]) -> frozenset[str]:
        return frozenset(ids[(m, report.values[m][0])] for m in members)

    return _Earlier(
        cells=[as_ids(r, m) for r in published for m in r.cells.values()],
        values=values,
        public=frozenset(public),
        wco_cells=[as_ids(r, m) for r in published for m in r.wco_cells.values()],
    )


def _kpi_cells(
    kpi: str,
    contributions: list[Contribution],
    rules: SuppressionRules,
    published: Sequence[PublishedKpi] = (),
) -> dict[CellKey, BenchmarkCell]:
    live = {c.member: c.value for c in contributions}
    earlier = _earlier(published, live)
    cells = _cell_members(contributions)
    hidden_from = {
        audience: _hidden_from(audience, contributions)
        for audience in (Audience.PUBLIC, Audience.WCO)
    }
    # A published value no longer live is hidden unless the report made it public.
    gone = frozenset(earlier.values) - earlier.public
    additive = contributions[0].kind in rules.additive_kinds
    reasons = _reasons(
        cells,
        {**earlier.values, **live},
        {audience: hidden | gone for audience, hidden in hidden_from.items()},
        additive=additive,
        rules=rules,
        published=earlier.cells,
        published_to_wco=earlier.wco_cells,
    )
    return {
        key: _cell(
            kpi,
            key,
            summarize([live[m] for m in members]),
            {a: _release(a, key, members, reasons, hidden_from) for a in reasons},
            members,
        )
        for key, members in sorted(cells.items())
    }


def _hidden_from(
    audience: Audience, contributions: list[Contribution]
) -> frozenset[str]:
    """The contributors whose values `audience` may not see."""
    levels = {c.disclosure for c in contributions}
    hiding = {level for level in levels if not may_see(audience, level)}
    return frozenset(c.member for c in contributions if c.disclosure in hiding)


def _cell_members(
    contributions: list[Contribution],
) -> dict[CellKey, frozenset[str]]:
    members: dict[CellKey, set[str]] = defaultdict(set)
    for contribution in contributions:
        members[ALL_MEMBERS].add(contribution.member)
        for key in contribution.groups:
            members[key].add(contribution.member)
    return {key: frozenset(group) for key, group in members.items()}


def _reasons(
    cells: dict[CellKey, frozenset[str]],
    values: dict[str, Decimal],
    hidden_from: dict[Audience, frozenset[str]],
    *,
    additive: bool,
    rules: SuppressionRules,
    published: Sequence[frozenset[str]] = (),
    published_to_wco: Sequence[frozenset[str]] = (),
) -> dict[Audience, dict[CellKey, str]]:
    """The suppressed cells of each audience's view. WCO-level readers read the
    public view too: it starts from what the WCO view hides and must hold against
    what they see as well as against what the public sees. Both hold against the
    cells already published to them: the WCO view against the cells of both earlier
    views, the public view against the public's (what else WCO-level readers know
    the WCO view has been held against, and the public view shows no more)."""
    wco_hidden = hidden_from[Audience.WCO]
    wco = Suppressor(
        cells,
        values,
        additive=additive,
        rules=rules,
        hidden=(wco_hidden,),
        published=[*published, *published_to_wco],
    ).run()
    public = Suppressor(
        cells,
        values,
        additive=additive,
        rules=rules,
        hidden=(hidden_from[Audience.PUBLIC], wco_hidden),
        suppressed=wco,
        published=published,
        audited=(wco_hidden,),
    ).run()
    return {Audience.PUBLIC: public, Audience.WCO: wco, Audience.SECRETARIAT: public}


def _release(
    audience: Audience,
    key: CellKey,
    members: frozenset[str],
    reasons: dict[Audience, dict[CellKey, str]],
    hidden_from: dict[Audience, frozenset[str]],
) -> _Release:
    suppressed = reasons[audience].get(key)
    if audience is Audience.SECRETARIAT:
        return _Release(suppressed, with_figures=True, order_statistics=True)
    return _Release(
        suppressed,
        with_figures=suppressed is None,
        order_statistics=not members & hidden_from[audience],
    )


def _cell(
    kpi: str,
    key: CellKey,
    summary: Summary,
    releases: dict[Audience, _Release],
    members: frozenset[str],
) -> BenchmarkCell:
    # Audiences released the same way share one view.
    views = {
        release: _view(kpi, key, summary, release) for release in releases.values()
    }
    return BenchmarkCell(
        kpi=kpi,
        grouping=key[0],
        group=key[1],
        summary=summary,
        views={audience: views[release] for audience, release in releases.items()},
        members=members,
    )


class BenchmarkCache:
    """The live benchmark table of each cycle, recomputed when its version has
    moved, and the cells of its latest report (`published`)."""

    def __init__(self, rules: SuppressionRules) -> None:
        self.rules = rules
        self.published = PublishedCache()
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
            bases = await report_bases(session, cycle_id)
            table = compute_benchmarks(
                cycle_id, version, contributions, self.rules, parse_bases(bases)
            )
            self._tables[cycle_id] = table
            return table
