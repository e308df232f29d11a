"""Benchmark cells as a publication froze them: what every reader but the
Secretariat is served.

Invariant: a benchmark cell (and anything made of cells: thematic views, exports,
charts, a scorecard's peer groups) reaches the public or a WCO-level reader only as
the cycle's latest published report froze it for that audience, never from the live
table. Between two publications such a reader reads the same cells however often it
asks, so no acceptance or return in between shows as the difference of two reads;
two successive reports are kept apart by the suppression of each against the cells
of those before it (`benchmarks.published_basis`).

A report freezes the public view in its snapshot (`benchmark/<kpi>/<grouping>/
<group>` figures) and the WCO view of the same table in `report.views`, which only
WCO-level readers are served. A report published before the WCO view was kept has
none: its WCO-level readers get its public cells, which they may read anyway.
"""

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_reporting.audience import Audience
from pmm_reporting.models import Report, table
from pmm_reporting.schemas import CellOut
from pmm_reporting.suppression import CellKey

VIEWS_FORMAT = "pmm-report-views/1"
NOT_YET_PUBLISHED: Final = "not_yet_published"

Figure = dict[str, str | None]
KpiCellViews = dict[str, dict[CellKey, CellOut]]

_report = table(Report)


def figure_id(cell: CellOut) -> str:
    return f"benchmark/{cell.kpi}/{cell.grouping}/{cell.group}"


def cell_figure(cell: CellOut) -> Figure:
    """A cell's figures as a report keeps them (strings, None where withheld)."""
    # A withheld order statistic is a None figure already; keeping the flag out
    # keeps the figures of reports published before it comparable.
    data = cell.model_dump(
        mode="json",
        exclude={"kpi", "grouping", "group", "suppressed", "order_statistics_withheld"},
    )
    return {key: None if value is None else str(value) for key, value in data.items()}


def figure_cell(figure: str, data: Mapping[str, str | None]) -> CellOut | None:
    """The cell a report's figure keeps, or None for a figure that is no cell."""
    kind, *path = figure.split("/", 3)
    if kind != "benchmark":
        return None

    kpi, grouping, group = path
    n, mean, median = data.get("n"), data.get("mean"), data.get("median")
    return CellOut.model_construct(
        kpi=kpi,
        grouping=grouping,
        group=group,
        suppressed=data.get("suppression_reason") is not None,
        suppression_reason=data.get("suppression_reason"),
        order_statistics_withheld=mean is not None and median is None,
        n=None if n is None else int(n),
        mean=_decimal(mean),
        median=_decimal(median),
        q1=_decimal(data.get("q1")),
        q3=_decimal(data.get("q3")),
        minimum=_decimal(data.get("minimum")),
        maximum=_decimal(data.get("maximum")),
    )


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def cells_of(figures: Mapping[str, Mapping[str, str | None]]) -> KpiCellViews:
    """Per KPI, the cells among a report's figures, in the order of their keys."""
    cells: KpiCellViews = {}
    for figure, data in sorted(figures.items()):
        cell = figure_cell(figure, data)
        if cell is not None:
            cells.setdefault(cell.kpi, {})[(cell.grouping, cell.group)] = cell
    return cells


@dataclass(frozen=True)
class PublishedCells:
    """The cells of one report as each audience other than the Secretariat reads
    them."""

    report_id: str
    published_at: datetime
    views: Mapping[Audience, KpiCellViews]

    def for_audience(self, audience: Audience) -> KpiCellViews:
        """The view of `audience`: the WCO view for WCO-level readers, the public
        view for anyone else (the Secretariat reads it as the public did)."""
        return self.views.get(audience) or self.views[Audience.PUBLIC]


def views_document(wco: Mapping[str, Figure]) -> dict[str, Any]:
    """What `report.views` keeps beside the snapshot: the WCO view's cells."""
    return {"format": VIEWS_FORMAT, Audience.WCO.value: dict(wco)}


async def _latest_report(
    session: AsyncSession, cycle_id: str
) -> tuple[str, datetime] | None:
    row = (
        await session.execute(
            sa.select(_report.c.report_id, _report.c.published_at)
            .where(_report.c.cycle_id == cycle_id)
            .order_by(_report.c.published_at.desc(), _report.c.report_id.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def _load(
    session: AsyncSession, report_id: str, published_at: datetime
) -> PublishedCells:
    snapshot, views = (
        await session.execute(
            sa.select(_report.c.snapshot, _report.c.views).where(
                _report.c.report_id == report_id
            )
        )
    ).one()
    cells = {Audience.PUBLIC: cells_of(json.loads(snapshot)["figures"])}
    if views is not None:
        cells[Audience.WCO] = cells_of(views[Audience.WCO.value])
    return PublishedCells(report_id, published_at, cells)


class PublishedCache:
    """The cells of each cycle's latest report. A publication moves the cycle's
    `version`, so the report is looked up again only when the version has moved,
    and read again only when it is another report (reports are never rewritten)."""

    def __init__(self) -> None:
        self._latest: dict[str, tuple[int, PublishedCells | None]] = {}
        self._lock = asyncio.Lock()

    async def latest_at(
        self, session: AsyncSession, cycle_id: str, version: int
    ) -> PublishedCells | None:
        cached = self._latest.get(cycle_id)
        if cached is not None and cached[0] == version:
            return cached[1]

        async with self._lock:
            cached = self._latest.get(cycle_id)
            if cached is not None and cached[0] == version:
                return cached[1]
            latest = await _latest_report(session, cycle_id)
            found = None
            if latest is not None:
                known = cached[1] if cached else None
                found = known if known and known.report_id == latest[0] else None
                found = found or await _load(session, *latest)
            self._latest[cycle_id] = (version, found)
            return found
