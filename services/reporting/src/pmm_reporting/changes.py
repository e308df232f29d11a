"""Which figures of a published report the corrections since would change, as each
audience may be told (README, "What changed since a report").

Invariant: a reader is told only of figures in the report as its audience reads
it, and whether one changed is decided from what that audience may see alone. The
Secretariat compares each figure with the live one. Anyone else learns that a cell
changed only when the values it may see in the cell differ between publication and
now: one of them changed, left the cell or is now hidden from it, or a value it may
see now joined. A change among values hidden from it both then and now (a
restricted member corrected, accepted or returned) is never told: that alone would
say that something it may not see happened.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pmm_reporting.audience import Audience, may_see
from pmm_reporting.benchmarks import CycleBenchmarks, PublishedKpi, parse_bases
from pmm_reporting.published import Figure
from pmm_reporting.schemas import FigureChange

BENCHMARK = "benchmark"
Figures = Mapping[str, Figure]
VisibleValues = frozenset[tuple[str, Decimal]]


def report_figures(
    snapshot: Figures, views: Mapping[str, Any] | None, audience: Audience
) -> dict[str, Figure]:
    """The report's figures as `audience` reads it: the WCO view's cells for
    WCO-level readers when the report kept one, the snapshot's for anyone else."""
    if audience is not Audience.WCO or views is None:
        return dict(snapshot)

    values = {key: f for key, f in snapshot.items() if not _is_cell(key)}
    return {**views[Audience.WCO.value], **values}


def changed_for_secretariat(report: Figures, live: Figures) -> list[FigureChange]:
    """Every figure of the report that differs from the live one, with both."""
    return [
        FigureChange(figure=key, published=figure, current=live.get(key))
        for key, figure in sorted(report.items())
        if live.get(key) != figure
    ]


def changed_for_audience(
    report: Figures,
    live_public: Figures,
    *,
    basis: Mapping[str, Any] | None,
    table: CycleBenchmarks,
    audience: Audience,
) -> list[FigureChange]:
    """The report's figures whose change `audience` may be told of, without their
    current figures. A value of the report is a public value, and so is whether it
    is public and accepted now; a cell is told of only from the values `audience`
    may see in it (a report without a basis names none, so none of its cells)."""
    published = _published_kpis(basis)
    changed = [
        key
        for key, figure in sorted(report.items())
        if (
            _cell_changed(key, published, table, audience)
            if _is_cell(key)
            else live_public.get(key) != figure
        )
    ]
    return [
        FigureChange(figure=key, published=report[key], current=None) for key in changed
    ]


def _is_cell(key: str) -> bool:
    return key.startswith(f"{BENCHMARK}/")


def _published_kpis(basis: Mapping[str, Any] | None) -> dict[str, PublishedKpi]:
    if basis is None:
        return {}
    return {kpi: shown[0] for kpi, shown in parse_bases([basis]).items()}


def _cell_changed(
    key: str,
    published: Mapping[str, PublishedKpi],
    table: CycleBenchmarks,
    audience: Audience,
) -> bool:
    _, kpi, grouping, group = key.split("/", 3)
    then = published.get(kpi)
    members = _shown_to(then, audience).get((grouping, group)) if then else None
    if then is None or members is None:
        # Released without figures: nothing in it for a correction to make wrong.
        return False

    visible_then = frozenset(
        (member, value)
        for member in members
        for value, level in [then.values[member]]
        if may_see(audience, level)
    )
    return visible_then != _visible_now(table, kpi, (grouping, group), audience)


def _shown_to(
    published: PublishedKpi, audience: Audience
) -> Mapping[tuple[str, str], frozenset[str]]:
    if audience is Audience.WCO:
        return {**published.cells, **published.wco_cells}
    return published.cells


def _visible_now(
    table: CycleBenchmarks, kpi: str, key: tuple[str, str], audience: Audience
) -> VisibleValues:
    cell = table.cell(kpi, key)
    members = cell.members if cell else frozenset()
    return frozenset(
        (c.member, c.value)
        for c in table.contributions.get(kpi, [])
        if c.member in members and may_see(audience, c.disclosure)
    )
