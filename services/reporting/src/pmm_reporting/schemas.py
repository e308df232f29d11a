"""What the API returns. Numbers are exact decimals, written as strings in JSON."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from fastapi import Response
from pydantic import BaseModel, ConfigDict

from pmm_reporting.audience import Audience


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True)


class CycleOut(Schema):
    cycle_id: str
    code: str | None
    reporting_year: int
    framework_code: str
    framework_version: str
    status: str


class CellOut(Schema):
    """A benchmark cell as the reader's audience may see it. A suppressed cell
    carries no figures (the Secretariat, who sees every value anyway, gets them with
    the flag); `not_yet_published` is the reason of a scorecard's peer group before
    the cycle's first report. Median, quartiles, minimum and maximum are values of
    members, or lie between two: they come only to a reader who may see every value
    of the cell, others get n and mean (`order_statistics_withheld`)."""

    kpi: str
    grouping: str
    group: str
    suppressed: bool
    suppression_reason: str | None
    order_statistics_withheld: bool = False
    n: int | None
    mean: Decimal | None
    median: Decimal | None
    q1: Decimal | None
    q3: Decimal | None
    minimum: Decimal | None
    maximum: Decimal | None


class PublicationOut(Schema):
    """Where the benchmark cells of a response come from. `published`: as the
    cycle's latest report (`report_id`, `published_at`) froze them for the reader's
    audience, which is how every reader but the Secretariat gets them; they change
    only when another report is published. `not_yet_published`: no report of the
    cycle yet, so such a reader gets no cell (and a scorecard's peer groups say
    `not_yet_published`). `live`: the Secretariat's view of the current table."""

    state: Literal["live", "published", "not_yet_published"]
    report_id: str | None = None
    published_at: datetime | None = None


class BenchmarksOut(Schema):
    cycle: CycleOut
    publication: PublicationOut
    min_contributors: int
    dominance_share: Decimal
    quantile_method: str
    cells: list[CellOut]


class MemberOut(Schema):
    code: str
    name: str
    wco_region: str
    income_group: str | None
    administration_type: str | None


class KpiLine(Schema):
    """One KPI of a scorecard; `withheld` when disclosure keeps it from the reader."""

    code: str
    outcome: str
    kind: str
    unit: str
    disclosure: str
    withheld: bool
    value: Decimal | bool | str | None
    level: str | None
    previous_value: Decimal | bool | str | None
    previous_level: str | None
    change: Decimal | None
    peers: list[CellOut]


class OutcomeLine(Schema):
    code: str
    dimension: str
    withheld: bool
    status: str | None
    level: Decimal | None


class CoverageOut(Schema):
    scored: int
    applicable: int
    ratio: Decimal | None


class DimensionLine(Schema):
    code: str
    withheld: bool
    score: Decimal | None
    coverage: CoverageOut | None


class ScorecardOut(Schema):
    cycle: CycleOut
    member: MemberOut
    audience: Audience
    publication: PublicationOut
    revision: int
    submission_status: str
    peer_reviewed: bool
    review_outcome: str | None
    previous_cycle_id: str | None
    kpis: list[KpiLine]
    outcomes: list[OutcomeLine]
    dimensions: list[DimensionLine]


class KpiCells(Schema):
    code: str
    name: str
    provisional: bool
    cells: list[CellOut]


class ThemeOut(Schema):
    """A WCO instrument or an SDG target, with the KPIs that relate to it."""

    code: str
    name: str
    kpis: list[KpiCells]


class ThemesOut(Schema):
    cycle: CycleOut
    publication: PublicationOut
    themes: list[ThemeOut]


class ReportOut(Schema):
    report_id: str
    cycle_id: str
    published_at: str
    published_by: str
    snapshot_sha256: str


class FigureChange(Schema):
    figure: str
    published: dict[str, str | None] | None
    current: dict[str, str | None] | None


class ReportChangesOut(Schema):
    """The figures of a report, as the reader's `audience` reads it, that the
    corrections since would change. Only the Secretariat gets their `current`
    figures and every change; other readers get which figures would change
    (`current_withheld`), and only where what changed is theirs to see: a change
    among values hidden from them is not listed."""

    report_id: str
    snapshot_sha256: str
    audience: Audience
    current_withheld: bool
    changed: list[FigureChange]


def json_response(model: BaseModel) -> Response:
    """The model as JSON, serialized once by pydantic-core (FastAPI would validate
    a returned model again before encoding it, which costs a scorecard its budget)."""
    return Response(model.model_dump_json(), media_type="application/json")
