"""The reporting API: scorecards, benchmarks, thematic views, published reports and
exports. Every figure is filtered by the caller's audience and the disclosure level
each member chose; aggregates are suppressed where they would reveal a member, and
reach any reader but the Secretariat only as the cycle's latest report froze them
(`publication` says which, or that none is published yet). A path names a cycle
by its id or by its code (`/cycles/PMM-2023/benchmarks`)."""

import json
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from pmm_kit.app import UnitOfWorkDep
from pmm_kit.auth import Principal, Role, require_role
from pmm_methodology import reference_framework
from pmm_reporting import repository, service
from pmm_reporting.charts import (
    MEDIA_TYPES,
    Bar,
    ChartFormat,
    distribution_by_region,
    member_against_peers,
)
from pmm_reporting.deps import (
    BenchmarksDep,
    ReaderDep,
    ReadSessionDep,
    ScorecardsDep,
)
from pmm_reporting.documents import report_html, report_pdf
from pmm_reporting.errors import UnknownKpiError
from pmm_reporting.exports import CELL_COLUMNS, cell_rows, to_csv, to_xlsx
from pmm_reporting.schemas import (
    BenchmarksOut,
    CycleOut,
    ReportChangesOut,
    ReportOut,
    ScorecardOut,
    ThemesOut,
    json_response,
)
from pmm_reporting.scorecards import scorecard_json

router = APIRouter(tags=["reporting"])

Secretariat = Annotated[Principal, Depends(require_role(Role.SECRETARIAT))]
Grouping = Literal["all", "wco_region", "income_group", "administration_type"]
# Framework codes are short (`TF.1.1`); a longer one is refused before any lookup.
MAX_KPI_CODE = 100
KpiQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_KPI_CODE,
        description="A KPI of the cycle's framework (`TF.1.1`, case as written "
        "there); an unknown one is a 404 `kpi-not-found`.",
    ),
]
KpiInPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_KPI_CODE,
        description="A KPI of the cycle's framework (`TF.1.1`).",
    ),
]
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def cycle_in_path(
    cycle_id: Annotated[
        str, Path(description="The cycle's id, or its code (`PMM-2023`).")
    ],
    session: ReadSessionDep,
) -> str:
    """The cycle's id, once, whichever of its names the path gives."""
    return await service.resolve_cycle_id(session, cycle_id)


CycleIdDep = Annotated[str, Depends(cycle_in_path)]


@router.get("/cycles")
async def list_cycles(session: ReadSessionDep) -> list[CycleOut]:
    """The cycles known from events, oldest reporting year first."""
    cycles = await repository.list_cycles(session)
    return [service.cycle_out(cycle) for cycle in cycles]


@router.get("/cycles/{cycle_id}/benchmarks", response_model=BenchmarksOut)
async def get_benchmarks(
    cycle_id: CycleIdDep,
    session: ReadSessionDep,
    reader: ReaderDep,
    benchmarks: BenchmarksDep,
    kpi: KpiQuery = None,
    grouping: Grouping | None = None,
    view: Annotated[
        service.View | None,
        Query(
            description="`live` (the Secretariat only), or the view a publication "
            "froze for `public` or `wco` (WCO-level readers and the Secretariat). "
            "By default the Secretariat's is live, anyone else's its own audience's "
            "as published."
        ),
    ] = None,
) -> Response:
    """Benchmarks per KPI and peer group (all members, WCO region, income group,
    administration type): n, mean, median, quartiles, minimum and maximum of the
    accepted results. A cell with fewer than k contributors, dominated by one member,
    or hidden so that another cannot be worked out by subtraction says it is
    suppressed and carries no figures.

    Only the Secretariat reads the live table. Anyone else gets the cells as the
    cycle's latest published report froze them for its audience (`publication`
    names the report), the same however often it asks until the next report; before
    the first, `publication.state` is `not_yet_published` and there are no cells.
    A `kpi` the cycle's framework does not have is a 404 `kpi-not-found`, so that
    no cells always means none released."""
    result = await service.cycle_benchmarks(
        session, benchmarks, cycle_id, reader, kpi=kpi, grouping=grouping, view=view
    )
    return json_response(result)


@router.get(
    "/cycles/{cycle_id}/members/{member}/scorecard", response_model=ScorecardOut
)
async def get_scorecard(
    cycle_id: CycleIdDep,
    member: str,
    session: ReadSessionDep,
    reader: ReaderDep,
    benchmarks: BenchmarksDep,
    scorecards: ScorecardsDep,
) -> Response:
    """A member's scorecard for a cycle: each KPI's value and level, outcome levels,
    dimension scores with coverage, the change since the member's previous cycle and
    its peer groups' benchmarks beside each KPI. Values the member did not disclose
    to the caller's audience are withheld, and so are the outcome and dimension
    scores that depend on them. The member's values are its current ones; its peer
    groups' cells are released as the benchmarks are (`publication`; before the
    cycle's first report, each says `not_yet_published`)."""
    body = await scorecard_json(
        session,
        benchmarks,
        scorecards,
        cycle_id=cycle_id,
        member=member,
        reader=reader,
    )
    return Response(body, media_type="application/json")


@router.get("/cycles/{cycle_id}/instruments", response_model=ThemesOut)
async def get_instrument_view(
    cycle_id: CycleIdDep,
    session: ReadSessionDep,
    reader: ReaderDep,
    benchmarks: BenchmarksDep,
) -> Response:
    """Per WCO instrument, the KPIs that relate to it and their benchmarks per group:
    how far the WCO's tools are applied. Cells as the benchmarks release them
    (`publication`)."""
    result = await service.themes(
        session, benchmarks, cycle_id, reader, by="instrument"
    )
    return json_response(result)


@router.get("/cycles/{cycle_id}/sdg-targets", response_model=ThemesOut)
async def get_sdg_view(
    cycle_id: CycleIdDep,
    session: ReadSessionDep,
    reader: ReaderDep,
    benchmarks: BenchmarksDep,
) -> Response:
    """Per UN Sustainable Development Goal target, the KPIs that contribute to it and
    their benchmarks per group, as the benchmarks release them (`publication`)."""
    result = await service.themes(session, benchmarks, cycle_id, reader, by="sdg")
    return json_response(result)


@router.get("/cycles/{cycle_id}/benchmarks.csv", response_class=Response)
async def export_benchmarks_csv(
    cycle_id: CycleIdDep,
    session: ReadSessionDep,
    reader: ReaderDep,
    benchmarks: BenchmarksDep,
) -> Response:
    """The benchmarks the caller gets (as `/benchmarks` releases them: published,
    or live for the Secretariat), as CSV (UTF-8). Text a spreadsheet would run as a
    formula is prefixed with an apostrophe; numbers stay numbers."""
    table = await service.cycle_benchmarks(session, benchmarks, cycle_id, reader)
    body = to_csv(CELL_COLUMNS, cell_rows(table.cells))
    return Response(
        body.encode(),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(f"benchmarks-{cycle_id}.csv"),
    )


@router.get("/cycles/{cycle_id}/benchmarks.xlsx", response_class=Response)
async def export_benchmarks_xlsx(
    cycle_id: CycleIdDep,
    session: ReadSessionDep,
    reader: ReaderDep,
    benchmarks: BenchmarksDep,
) -> Response:
    """The benchmarks the caller gets (as `/benchmarks` releases them), as an Excel
    workbook with numeric cells."""
    table = await service.cycle_benchmarks(session, benchmarks, cycle_id, reader)
    body = to_xlsx("benchmarks", CELL_COLUMNS, cell_rows(table.cells))
    return Response(
        body,
        media_type=XLSX_MEDIA_TYPE,
        headers=_attachment(f"benchmarks-{cycle_id}.xlsx"),
    )


@router.get(
    "/cycles/{cycle_id}/kpis/{kpi}/distribution.{chart_format}",
    response_class=Response,
)
async def chart_distribution(
    cycle_id: CycleIdDep,
    kpi: KpiInPath,
    chart_format: ChartFormat,
    session: ReadSessionDep,
    reader: ReaderDep,
    benchmarks: BenchmarksDep,
) -> Response:
    """A KPI's distribution by WCO region (quartiles, minimum, maximum) as SVG or
    PNG, from the cells `/benchmarks` releases to the caller; suppressed regions are
    left out and counted in the title."""
    cycle = await service.load_cycle(session, cycle_id)
    unit = service.framework_kpi(cycle, kpi).unit
    table = await service.cycle_benchmarks(
        session, benchmarks, cycle_id, reader, kpi=kpi
    )
    body = distribution_by_region(kpi, unit, table.cells, chart_format)
    return Response(body, media_type=MEDIA_TYPES[chart_format])


@router.get(
    "/cycles/{cycle_id}/members/{member}/kpis/{kpi}/peers.{chart_format}",
    response_class=Response,
)
async def chart_member_against_peers(
    cycle_id: CycleIdDep,
    member: str,
    kpi: KpiInPath,
    chart_format: ChartFormat,
    session: ReadSessionDep,
    reader: ReaderDep,
    benchmarks: BenchmarksDep,
) -> Response:
    """A member's value of a KPI beside its peer groups' medians, as SVG or PNG.
    The member's bar appears only if the caller may see its value."""
    cycle = await service.load_cycle(session, cycle_id)
    service.framework_kpi(cycle, kpi)
    scorecard = await service.member_scorecard(
        session, benchmarks, cycle_id, member, reader
    )
    line = next((k for k in scorecard.kpis if k.code == kpi), None)
    if line is None:
        raise UnknownKpiError(f"no KPI '{kpi}' in the scorecard", kpi=kpi)

    bars = [
        Bar(f"{cell.grouping}: {cell.group}", cell.median)
        for cell in line.peers
        if cell.median is not None and not cell.suppressed
    ]
    if not line.withheld and line.value is not None and not isinstance(line.value, str):
        bars.insert(0, Bar(member, Decimal(line.value), highlighted=True))
    title = f"{kpi}: {member} and its peer groups (medians)"
    body = member_against_peers(title, line.unit, bars, chart_format)
    return Response(body, media_type=MEDIA_TYPES[chart_format])


@router.post("/cycles/{cycle_id}/reports", status_code=201)
async def publish_report(
    cycle_id: CycleIdDep,
    uow: UnitOfWorkDep,
    principal: Secretariat,
    benchmarks: BenchmarksDep,
) -> ReportOut:
    """Publish the cycle's report as a frozen snapshot of what the public may see
    (Secretariat only), and freeze the WCO view of the same moment beside it: from
    now on readers other than the Secretariat get these cells. Emits
    `report.published`."""
    report = await service.publish_report(uow.session, benchmarks, cycle_id, principal)
    await uow.commit()
    return report


@router.get("/cycles/{cycle_id}/reports")
async def list_reports(
    cycle_id: CycleIdDep, session: ReadSessionDep, reader: ReaderDep
) -> list[ReportOut]:
    """The reports published for the cycle, newest first: each one's id, when and by
    whom it was published (the member of staff for the Secretariat, `WCO
    Secretariat` for anyone else) and the sha256 of its snapshot (read the snapshot
    itself at `/reports/{report_id}`). An empty list when none has been published
    yet."""
    return await service.cycle_reports(session, cycle_id, reader)


@router.get("/reports/{report_id}", response_class=Response)
async def get_report(report_id: str, session: ReadSessionDep) -> Response:
    """The published snapshot, byte for byte as published (canonical JSON); its
    sha256 is in the `X-Snapshot-Sha256` header and in the `report.published`
    event."""
    snapshot, digest = await service.load_report(session, report_id)
    return Response(
        snapshot.encode(),
        media_type="application/json",
        headers={"X-Snapshot-Sha256": digest},
    )


@router.get("/reports/{report_id}/changes")
async def get_report_changes(
    report_id: str,
    session: ReadSessionDep,
    reader: ReaderDep,
    benchmarks: BenchmarksDep,
) -> ReportChangesOut:
    """The figures of a published report, as the caller's audience reads it, that
    corrections since would change, each with its published figure. The Secretariat
    gets every such figure with its current figure beside it; anyone else gets no
    current figure (`current_withheld`), and a figure only when values it may see
    changed: a change among values hidden from it is not listed."""
    return await service.report_changes(session, benchmarks, report_id, reader)


@router.get("/reports/{report_id}/page", response_class=Response)
async def get_report_page(report_id: str, session: ReadSessionDep) -> Response:
    """The published report as a public HTML page."""
    snapshot, _ = await service.load_report(session, report_id)
    return Response(report_html(json.loads(snapshot), _units()), media_type="text/html")


@router.get("/reports/{report_id}/report.pdf", response_class=Response)
async def get_report_pdf(report_id: str, session: ReadSessionDep) -> Response:
    """The published report as a PDF: the table of all-member benchmarks and charts
    of the distribution by region."""
    snapshot, _ = await service.load_report(session, report_id)
    body = report_pdf(json.loads(snapshot), _units())
    return Response(
        body,
        media_type="application/pdf",
        headers=_attachment(f"report-{report_id}.pdf"),
    )


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _units() -> dict[str, str]:
    return {kpi.code: kpi.unit for kpi in reference_framework().kpis}
