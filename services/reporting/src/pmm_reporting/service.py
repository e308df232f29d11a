"""The reporting use cases: benchmarks, scorecards, thematic views, publication."""

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.auth import Principal
from pmm_kit.contracts.common import CycleRef
from pmm_kit.contracts.reporting import ReportPublished
from pmm_kit.outbox import add_event
from pmm_methodology import Framework, Kpi, canonical_json, reference_framework
from pmm_reporting import repository
from pmm_reporting.audience import Audience, Reader, may_see
from pmm_reporting.benchmarks import (
    BenchmarkCache,
    CycleBenchmarks,
    published_basis,
)
from pmm_reporting.changes import (
    changed_for_audience,
    changed_for_secretariat,
    report_figures,
)
from pmm_reporting.errors import (
    CycleNotFoundError,
    ReportNotFoundError,
    ResultNotFoundError,
    UnknownFrameworkError,
    UnknownKpiError,
    ViewForbiddenError,
)
from pmm_reporting.published import (
    NOT_YET_PUBLISHED,
    Figure,
    cell_figure,
    figure_id,
    views_document,
)
from pmm_reporting.repository import CycleRow, PreviousResult, ResultRow, TrendValue
from pmm_reporting.schemas import (
    BenchmarksOut,
    CellOut,
    CoverageOut,
    CycleOut,
    DimensionLine,
    KpiCells,
    KpiLine,
    MemberOut,
    OutcomeLine,
    PublicationOut,
    ReportChangesOut,
    ReportOut,
    ScorecardOut,
    ThemeOut,
    ThemesOut,
)
from pmm_reporting.statistics import PLACES
from pmm_reporting.suppression import ALL_MEMBERS, CellKey

log = structlog.get_logger(__name__)

QUANTILE_METHOD = (
    "linear interpolation between closest ranks (Hyndman-Fan type 7); "
    f"means and quantiles rounded half up to {PLACES} places"
)
SNAPSHOT_FORMAT = "pmm-report/1"
# Who published a report, as its readers see it. The member of staff's token
# subject is kept for audit (the report's row, the event) and shown only to the
# Secretariat: a public document names the organisation, not its people.
PUBLISHER = "WCO Secretariat"


@cache
def _reference() -> Framework:
    return reference_framework()


def framework_for(cycle: CycleRow) -> Framework:
    framework = _reference()
    if (cycle.framework_code, cycle.framework_version) != (
        framework.code,
        framework.version,
    ):
        raise UnknownFrameworkError(
            f"framework {cycle.framework_code} {cycle.framework_version} is not known",
            cycle_id=cycle.cycle_id,
        )
    return framework


def framework_kpi(cycle: CycleRow, code: str) -> Kpi:
    """The KPI of the cycle's framework with this code, exactly as written there: a
    reader asking for one the framework lacks is told so, never served an empty
    answer it could take for "nothing published"."""
    kpi = next((k for k in framework_for(cycle).kpis if k.code == code), None)
    if kpi is None:
        raise UnknownKpiError(f"no KPI '{code}' in the cycle's framework", kpi=code)
    return kpi


async def load_cycle(
    session: AsyncSession, cycle_id: str, *, lock: bool = False
) -> CycleRow:
    cycle = await repository.find_cycle(session, cycle_id, lock=lock)
    if cycle is None:
        raise CycleNotFoundError(f"no cycle '{cycle_id}'")
    return cycle


async def resolve_cycle_id(session: AsyncSession, key: str) -> str:
    """The id of the cycle that `key` names: its id or its code (`PMM-2023`), as the
    submission service's feeds name it. A key that names no cycle is given back as
    it is, for the use case to say the cycle is not found."""
    if _is_uuid(key):
        return key

    named = await repository.cycles_named(session, key)
    exact = [cycle_id for cycle_id, is_id in named if is_id]
    if exact:
        return exact[0]
    if len(named) > 1:
        raise CycleNotFoundError(
            f"the code '{key}' names {len(named)} cycles: name the cycle by its id"
        )
    return named[0][0] if named else key


def _is_uuid(key: str) -> bool:
    # Cycle ids are UUIDs and codes are not: an id needs no lookup.
    try:
        uuid.UUID(key)
    except ValueError:
        return False
    return True


def cycle_out(cycle: CycleRow) -> CycleOut:
    return CycleOut(
        cycle_id=cycle.cycle_id,
        code=cycle.code,
        reporting_year=cycle.reporting_year,
        framework_code=cycle.framework_code,
        framework_version=cycle.framework_version,
        status=cycle.status,
    )


View = Literal["live", "public", "wco"]
LIVE = PublicationOut(state="live")
NOTHING_PUBLISHED = PublicationOut(state=NOT_YET_PUBLISHED)


@dataclass(frozen=True)
class ReleasedCells:
    """The benchmark cells a reader gets of a cycle, per KPI, and where they come
    from."""

    publication: PublicationOut
    cells: Mapping[str, Mapping[CellKey, CellOut]]

    def of_kpi(self, kpi: str) -> Mapping[CellKey, CellOut]:
        return self.cells.get(kpi, {})


async def released_cells(
    session: AsyncSession,
    benchmarks: BenchmarkCache,
    cycle: CycleRow,
    reader: Reader,
    *,
    view: View | None = None,
) -> ReleasedCells:
    """The cells `reader` gets: the live table for the Secretariat, for anyone else
    its audience's view as the cycle's latest report froze it (README, "Published
    cells only"). `view` asks for another one the reader may read: the Secretariat
    any, a WCO-level reader the public one as well."""
    audience = reader.cells_audience
    wanted = view or ("live" if audience is Audience.SECRETARIAT else audience.value)
    if not _may_read(audience, wanted):
        raise ViewForbiddenError(
            f"the {wanted} view is not open to a {audience.value} reader",
            view=wanted,
        )

    if wanted == "live":
        table = await benchmarks.table_at(session, cycle.cycle_id, cycle.version)
        return ReleasedCells(LIVE, table.views(Audience.SECRETARIAT))
    published = await benchmarks.published.latest_at(
        session, cycle.cycle_id, cycle.version
    )
    if published is None:
        return ReleasedCells(NOTHING_PUBLISHED, {})
    return ReleasedCells(
        PublicationOut(
            state="published",
            report_id=published.report_id,
            published_at=published.published_at,
        ),
        published.for_audience(Audience(wanted)),
    )


def _may_read(audience: Audience, view: str) -> bool:
    if audience is Audience.SECRETARIAT or view == Audience.PUBLIC.value:
        return True
    return view == Audience.WCO.value and audience is Audience.WCO


async def cycle_benchmarks(
    session: AsyncSession,
    benchmarks: BenchmarkCache,
    cycle_id: str,
    reader: Reader,
    *,
    kpi: str | None = None,
    grouping: str | None = None,
    view: View | None = None,
) -> BenchmarksOut:
    cycle = await load_cycle(session, cycle_id)
    if kpi is not None:
        framework_kpi(cycle, kpi)
    released = await released_cells(session, benchmarks, cycle, reader, view=view)

    cells = [
        cell
        for code, kpi_cells in released.cells.items()
        if kpi is None or code == kpi
        for cell in kpi_cells.values()
        if grouping is None or cell.grouping == grouping
    ]
    return BenchmarksOut(
        cycle=cycle_out(cycle),
        publication=released.publication,
        min_contributors=benchmarks.rules.min_contributors,
        dominance_share=benchmarks.rules.dominance_share,
        quantile_method=QUANTILE_METHOD,
        cells=cells,
    )


# A scorecard is built from typed values of this service's own read model, so its
# parts are constructed without validating them again: validation of some eighty
# nested models would cost a good part of a scorecard's latency budget.


async def member_scorecard(
    session: AsyncSession,
    benchmarks: BenchmarkCache,
    cycle_id: str,
    member: str,
    reader: Reader,
) -> ScorecardOut:
    facts = await repository.scorecard_facts(session, cycle_id, member)
    if facts is None:
        raise CycleNotFoundError(f"no cycle '{cycle_id}'")
    result = facts.result
    if result is None:
        raise ResultNotFoundError(f"no scored result for {member} in '{cycle_id}'")

    cycle, previous, outcome = facts.cycle, facts.previous, facts.review_outcome
    released = await released_cells(session, benchmarks, cycle, reader)
    audience = reader.audience_for(member, cycle_id)

    kpis = [
        _kpi_line(kpi, result, previous, released, audience)
        for kpi in result.summary["kpis"]
    ]
    withheld = {line.code for line in kpis if line.withheld}
    outcomes = [_outcome_line(o, withheld) for o in result.summary["outcomes"]]
    hidden_outcomes = {line.code for line in outcomes if line.withheld}
    dimensions = [
        _dimension_line(d, hidden_outcomes) for d in result.summary["dimensions"]
    ]
    return ScorecardOut.model_construct(
        cycle=cycle_out(cycle),
        member=_member_out(member, result),
        audience=audience,
        publication=released.publication,
        revision=result.revision,
        submission_status=result.status,
        peer_reviewed=outcome is not None,
        review_outcome=outcome,
        previous_cycle_id=previous.cycle_id if previous else None,
        kpis=kpis,
        outcomes=outcomes,
        dimensions=dimensions,
    )


def _member_out(member: str, result: ResultRow) -> MemberOut:
    return MemberOut.model_construct(
        code=member,
        name=result.name,
        wco_region=result.wco_region,
        income_group=result.income_group,
        administration_type=result.administration_type,
    )


def _member_groups(result: ResultRow) -> list[tuple[str, str]]:
    groups = [ALL_MEMBERS, ("wco_region", result.wco_region)]
    for grouping, group in (
        ("income_group", result.income_group),
        ("administration_type", result.administration_type),
    ):
        if group is not None:
            groups.append((grouping, group))
    return groups


def _kpi_line(
    kpi: dict[str, Any],
    result: ResultRow,
    previous: PreviousResult | None,
    released: ReleasedCells,
    audience: Audience,
) -> KpiLine:
    """The member's own values as its disclosure lets `audience` see them: one
    member's value, live, and nothing to subtract; its peer groups as released."""
    code = kpi["code"]
    disclosure = result.disclosure.get(code, "restricted")
    visible = may_see(audience, disclosure)
    previous_value, previous_level = _previous(code, previous, audience)
    value = _scalar(kpi.get("value")) if visible else None
    peers = _peers(code, _member_groups(result), released)
    return KpiLine.model_construct(
        code=code,
        outcome=kpi["outcome"],
        kind=kpi["kind"],
        unit=kpi["unit"],
        disclosure=disclosure,
        withheld=not visible,
        value=value,
        level=str(kpi["level"]) if visible else None,
        previous_value=previous_value if visible else None,
        previous_level=previous_level if visible else None,
        change=_change(value, previous_value) if visible else None,
        peers=peers,
    )


def _peers(kpi: str, groups: list[CellKey], released: ReleasedCells) -> list[CellOut]:
    """The member's peer groups' cells; before the cycle's first report, each group
    says it is not yet published."""
    if released.publication.state == NOT_YET_PUBLISHED:
        return [_not_yet_published(kpi, key) for key in groups]

    cells = released.of_kpi(kpi)
    return [cells[key] for key in groups if key in cells]


def _not_yet_published(kpi: str, key: CellKey) -> CellOut:
    return CellOut.model_construct(
        kpi=kpi,
        grouping=key[0],
        group=key[1],
        suppressed=True,
        suppression_reason=NOT_YET_PUBLISHED,
        order_statistics_withheld=False,
        n=None,
        mean=None,
        median=None,
        q1=None,
        q3=None,
        minimum=None,
        maximum=None,
    )


def _previous(
    code: str, previous: PreviousResult | None, audience: Audience
) -> tuple[TrendValue, str | None]:
    """The previous cycle's value, as the audience of the scorecard read may see it
    by that cycle's disclosure level."""
    if previous is None or code not in previous.values:
        return None, None
    if not may_see(audience, previous.disclosure.get(code, "restricted")):
        return None, None
    value, level = previous.values[code]
    return value, level


def _scalar(raw: Any) -> Decimal | bool | str | None:
    if isinstance(raw, str):
        try:
            return Decimal(raw)
        except ArithmeticError:
            return raw
    if isinstance(raw, bool):
        return raw
    return None


def _change(value: Any, previous: TrendValue) -> Decimal | None:
    """How far a number moved; a yes/no answer has no difference to give."""
    if not isinstance(previous, Decimal) or not isinstance(value, Decimal):
        return None
    return value - previous


def _outcome_line(outcome: dict[str, Any], withheld_kpis: set[str]) -> OutcomeLine:
    """An outcome's level is withheld when any of its KPIs is: a weakest-link level
    would otherwise tell the level of a KPI the reader may not see."""
    depends_on = set(outcome["kpis"])
    hidden = bool(depends_on & withheld_kpis)
    level = outcome.get("level")
    return OutcomeLine.model_construct(
        code=outcome["code"],
        dimension=outcome["dimension"],
        withheld=hidden,
        status=None if hidden else outcome["status"],
        level=None if hidden or level is None else Decimal(level),
    )


def _dimension_line(
    dimension: dict[str, Any], withheld_outcomes: set[str]
) -> DimensionLine:
    depends_on = set(dimension["outcomes"])
    if depends_on & withheld_outcomes:
        return DimensionLine.model_construct(
            code=dimension["code"], withheld=True, score=None, coverage=None
        )

    coverage = dimension["coverage"]
    score = dimension.get("score")
    ratio = coverage.get("ratio")
    return DimensionLine.model_construct(
        code=dimension["code"],
        withheld=False,
        score=Decimal(score) if score is not None else None,
        coverage=CoverageOut.model_construct(
            scored=coverage["scored"],
            applicable=coverage["applicable"],
            ratio=Decimal(ratio) if ratio is not None else None,
        ),
    )


async def themes(
    session: AsyncSession,
    benchmarks: BenchmarkCache,
    cycle_id: str,
    reader: Reader,
    *,
    by: str,
) -> ThemesOut:
    """KPIs grouped by WCO instrument (`by="instrument"`) or SDG target (`"sdg"`)."""
    cycle = await load_cycle(session, cycle_id)
    framework = framework_for(cycle)
    released = await released_cells(session, benchmarks, cycle, reader)

    names = _theme_names(framework, by)
    return ThemesOut(
        cycle=cycle_out(cycle),
        publication=released.publication,
        themes=[
            ThemeOut(
                code=code,
                name=name,
                kpis=[
                    KpiCells(
                        code=kpi.code,
                        name=kpi.name.en,
                        provisional=kpi.provisional,
                        cells=list(released.of_kpi(kpi.code).values()),
                    )
                    for kpi in framework.kpis
                    if code
                    in (kpi.instruments if by == "instrument" else kpi.sdg_targets)
                ],
            )
            for code, name in names
        ],
    )


def _themes_of(kpi: Kpi, by: str) -> tuple[str, ...]:
    return kpi.instruments if by == "instrument" else kpi.sdg_targets


def _theme_names(framework: Framework, by: str) -> list[tuple[str, str]]:
    if by == "instrument":
        return [(i.code, i.name.en) for i in framework.instruments]
    targets = sorted(
        {target for kpi in framework.kpis for target in kpi.sdg_targets},
        key=lambda t: tuple(int(p) if p.isdigit() else 100 for p in t.split(".")),
    )
    return [(target, f"SDG target {target}") for target in targets]


def _cell_figures(table: CycleBenchmarks, audience: Audience) -> dict[str, Figure]:
    views = table.views(audience)
    return {
        figure_id(cell): cell_figure(cell)
        for kpi_cells in views.values()
        for cell in kpi_cells.values()
    }


async def _document(
    session: AsyncSession,
    benchmarks: BenchmarkCache,
    cycle: CycleRow,
    table: CycleBenchmarks,
) -> dict[str, Any]:
    figures: dict[str, Figure] = _cell_figures(table, Audience.PUBLIC)
    for member, kpi, value, level in await repository.public_values(
        session, cycle.cycle_id
    ):
        figures[f"value/{member}/{kpi}"] = {
            "value": None if value is None else str(value),
            "level": level,
        }
    return {
        "cycle": cycle_out(cycle).model_dump(mode="json"),
        "suppression": {
            "min_contributors": benchmarks.rules.min_contributors,
            "dominance_share": str(benchmarks.rules.dominance_share),
            "quantile_method": QUANTILE_METHOD,
        },
        "figures": figures,
    }


async def publish_report(
    session: AsyncSession,
    benchmarks: BenchmarkCache,
    cycle_id: str,
    principal: Principal,
) -> ReportOut:
    # The cycle's row stays locked until the report is stored: its figures cannot
    # move between the table the report is made of and the version that makes
    # readers turn to the report and the next table hold against it.
    cycle = await load_cycle(session, cycle_id, lock=True)
    report_id = str(uuid.uuid4())
    published_at = datetime.now(UTC)

    table = await benchmarks.table_at(session, cycle_id, cycle.version)
    document = await _document(session, benchmarks, cycle, table)
    snapshot = canonical_json(
        {
            "format": SNAPSHOT_FORMAT,
            "report_id": report_id,
            "published_at": published_at.isoformat(),
            "published_by": PUBLISHER,
            **document,
        }
    )
    digest = hashlib.sha256(snapshot.encode()).hexdigest()
    await repository.insert_report(
        session,
        report_id=report_id,
        cycle_id=cycle_id,
        published_at=published_at,
        published_by=principal.subject,
        snapshot=snapshot,
        snapshot_sha256=digest,
        basis=published_basis(table),
        views=views_document(_cell_figures(table, Audience.WCO)),
    )
    await repository.mark_cycle_changed(session, cycle_id)
    await add_event(
        session,
        ReportPublished(
            report_id=report_id,
            cycle=CycleRef(
                cycle_id=cycle.cycle_id,
                reporting_year=cycle.reporting_year,
                framework_code=cycle.framework_code,
                framework_version=cycle.framework_version,
            ),
            published_at=published_at,
            published_by=principal.subject,
            snapshot_sha256=digest,
        ),
        subject=report_id,
    )
    log.info("report.published", report_id=report_id, cycle_id=cycle_id)
    return ReportOut(
        report_id=report_id,
        cycle_id=cycle_id,
        published_at=published_at.isoformat(),
        published_by=principal.subject,
        snapshot_sha256=digest,
    )


async def cycle_reports(
    session: AsyncSession, cycle_id: str, reader: Reader
) -> list[ReportOut]:
    """The reports published for a known cycle, newest first; who published each
    by name for the Secretariat only."""
    await load_cycle(session, cycle_id)

    reports = await repository.reports_of_cycle(session, cycle_id)
    staff = reader.cells_audience is Audience.SECRETARIAT
    return [
        ReportOut(
            report_id=report.report_id,
            cycle_id=report.cycle_id,
            published_at=report.published_at.isoformat(),
            published_by=report.published_by if staff else PUBLISHER,
            snapshot_sha256=report.snapshot_sha256,
        )
        for report in reports
    ]


async def load_report(session: AsyncSession, report_id: str) -> tuple[str, str]:
    """The snapshot's exact text and its sha256."""
    report = await repository.find_report(session, report_id)
    if report is None:
        raise ReportNotFoundError(f"no published report '{report_id}'")
    return report.snapshot, report.snapshot_sha256


async def report_changes(
    session: AsyncSession, benchmarks: BenchmarkCache, report_id: str, reader: Reader
) -> ReportChangesOut:
    """The figures of the report as the reader's audience reads it that the
    corrections since would change: each with its current figure for the
    Secretariat; for anyone else only those whose change it may be told of, and no
    current figure (README, "What changed since a report")."""
    report = await repository.find_report(session, report_id)
    if report is None:
        raise ReportNotFoundError(f"no published report '{report_id}'")
    published = json.loads(report.snapshot)
    cycle = await load_cycle(session, published["cycle"]["cycle_id"])
    audience = reader.cells_audience

    table = await benchmarks.table_at(session, cycle.cycle_id, cycle.version)
    live = (await _document(session, benchmarks, cycle, table))["figures"]
    figures = report_figures(published["figures"], report.views, audience)
    withheld = audience is not Audience.SECRETARIAT
    changed = (
        changed_for_audience(
            figures, live, basis=report.basis, table=table, audience=audience
        )
        if withheld
        else changed_for_secretariat(figures, live)
    )
    return ReportChangesOut(
        report_id=report_id,
        snapshot_sha256=report.snapshot_sha256,
        audience=audience,
        current_withheld=withheld,
        changed=changed,
    )
