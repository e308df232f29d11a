"""Queries on the read models and the published reports."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_reporting.models import (
    Cycle,
    KpiValue,
    MemberResult,
    Report,
    Review,
    Submission,
    table,
)

_cycle = table(Cycle)
_submission = table(Submission)
_result = table(MemberResult)
_kpi_value = table(KpiValue)
_review = table(Review)
_report = table(Report)


@dataclass(frozen=True)
class CycleRow:
    cycle_id: str
    code: str | None
    reporting_year: int
    framework_code: str
    framework_version: str
    status: str
    version: int


@dataclass(frozen=True)
class ResultRow:
    submission_id: str
    revision: int
    summary: dict[str, Any]
    status: str
    name: str
    wco_region: str
    income_group: str | None
    administration_type: str | None
    disclosure: dict[str, str]


TrendValue = Decimal | bool | None
YES_NO = "yes_no"


@dataclass(frozen=True)
class PreviousResult:
    cycle_id: str
    values: dict[str, tuple[TrendValue, str]]
    disclosure: dict[str, str]


def trend_value(value: Decimal | str | None, kind: str) -> TrendValue:
    """A stored KPI value typed as a scorecard shows its KPI's values: `kpi_value`
    keeps a yes/no answer as 1 or 0 for the benchmarks, a scorecard as a yes/no."""
    if value is None:
        return None
    number = Decimal(value)
    if kind == YES_NO:
        return number != 0
    return number


async def find_cycle(
    session: AsyncSession, cycle_id: str, *, lock: bool = False
) -> CycleRow | None:
    """The cycle; `lock` holds its row (and so its `version`) until the transaction
    ends."""
    statement = sa.select(
        _cycle.c.cycle_id,
        _cycle.c.code,
        _cycle.c.reporting_year,
        _cycle.c.framework_code,
        _cycle.c.framework_version,
        _cycle.c.status,
        _cycle.c.version,
    ).where(_cycle.c.cycle_id == cycle_id)
    if lock:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).first()
    return CycleRow(*row) if row else None


async def cycles_named(session: AsyncSession, key: str) -> list[tuple[str, bool]]:
    """The cycles whose id or code is `key`: (id, whether the id is `key`) each."""
    rows = await session.execute(
        sa.select(_cycle.c.cycle_id, _cycle.c.cycle_id == key)
        .where(sa.or_(_cycle.c.cycle_id == key, _cycle.c.code == key))
        .order_by(_cycle.c.cycle_id)
    )
    return [(cycle_id, bool(exact)) for cycle_id, exact in rows]


async def mark_cycle_changed(session: AsyncSession, cycle_id: str) -> None:
    """Move the cycle's `version`, as the projections do when its figures change."""
    await session.execute(
        sa.update(_cycle)
        .where(_cycle.c.cycle_id == cycle_id)
        .values(version=_cycle.c.version + 1)
    )


async def list_cycles(session: AsyncSession) -> list[CycleRow]:
    rows = await session.execute(
        sa.select(
            _cycle.c.cycle_id,
            _cycle.c.code,
            _cycle.c.reporting_year,
            _cycle.c.framework_code,
            _cycle.c.framework_version,
            _cycle.c.status,
            _cycle.c.version,
        ).order_by(_cycle.c.reporting_year, _cycle.c.cycle_id)
    )
    return [CycleRow(*row) for row in rows]


async def find_result(
    session: AsyncSession, cycle_id: str, member: str
) -> ResultRow | None:
    """The member's current result with the state of the submission it came from."""
    row = (
        await session.execute(
            sa.select(
                _result.c.submission_id,
                _result.c.revision,
                _result.c.summary,
                _submission.c.status,
                _submission.c.name,
                _submission.c.wco_region,
                _submission.c.income_group,
                _submission.c.administration_type,
                _submission.c.disclosure,
            )
            .join(_submission, _submission.c.submission_id == _result.c.submission_id)
            .where(_result.c.cycle_id == cycle_id, _result.c.member == member)
        )
    ).first()
    return ResultRow(*row) if row else None


async def find_previous_result(
    session: AsyncSession, *, member: str, before_year: int
) -> PreviousResult | None:
    """The member's result in its latest cycle before `before_year`."""
    previous = (
        await session.execute(
            sa.select(_cycle.c.cycle_id, _submission.c.disclosure)
            .join(_result, _result.c.cycle_id == _cycle.c.cycle_id)
            .join(_submission, _submission.c.submission_id == _result.c.submission_id)
            .where(_result.c.member == member, _cycle.c.reporting_year < before_year)
            .order_by(_cycle.c.reporting_year.desc())
            .limit(1)
        )
    ).first()
    if previous is None:
        return None

    cycle_id, disclosure = previous
    rows = await session.execute(
        sa.select(
            _kpi_value.c.kpi, _kpi_value.c.value, _kpi_value.c.level, _kpi_value.c.kind
        ).where(_kpi_value.c.cycle_id == cycle_id, _kpi_value.c.member == member)
    )
    values = {
        kpi: (trend_value(value, kind), level) for kpi, value, level, kind in rows
    }
    return PreviousResult(cycle_id, values, disclosure)


@dataclass(frozen=True)
class ScorecardFacts:
    cycle: CycleRow
    result: ResultRow | None
    previous: PreviousResult | None
    review_outcome: str | None


# Everything a scorecard needs in one round trip: at the scorecard's latency budget
# each round trip to the database counts.
_SCORECARD_FACTS = sa.text(
    """
    SELECT c.cycle_id, c.code, c.reporting_year, c.framework_code,
           c.framework_version, c.status, c.version,
           r.submission_id, r.revision, r.summary,
           s.status AS submission_status, s.name, s.wco_region, s.income_group,
           s.administration_type, s.disclosure,
           (SELECT v.outcome FROM review v
             WHERE v.cycle_id = c.cycle_id AND v.member = :member
               AND v.status = 'completed' LIMIT 1) AS review_outcome,
           p.cycle_id AS previous_cycle_id, p.disclosure AS previous_disclosure,
           p.kpi_values AS previous_values
      FROM cycle c
      LEFT JOIN member_result r ON r.cycle_id = c.cycle_id AND r.member = :member
      LEFT JOIN submission s ON s.submission_id = r.submission_id
      LEFT JOIN LATERAL (
           SELECT pc.cycle_id, ps.disclosure,
                  (SELECT jsonb_object_agg(k.kpi, jsonb_build_array(k.value::text,
                                                                     k.level,
                                                                     k.kind))
                     FROM kpi_value k
                    WHERE k.cycle_id = pc.cycle_id AND k.member = :member)
                    AS kpi_values
             FROM cycle pc
             JOIN member_result pr ON pr.cycle_id = pc.cycle_id
                                  AND pr.member = :member
             JOIN submission ps ON ps.submission_id = pr.submission_id
            WHERE pc.reporting_year < c.reporting_year
            ORDER BY pc.reporting_year DESC
            LIMIT 1) p ON true
     WHERE c.cycle_id = :cycle_id
    """
).columns(
    summary=JSONB,
    disclosure=JSONB,
    previous_disclosure=JSONB,
    previous_values=JSONB,
)


async def scorecard_facts(
    session: AsyncSession, cycle_id: str, member: str
) -> ScorecardFacts | None:
    row = (
        await session.execute(
            _SCORECARD_FACTS, {"cycle_id": cycle_id, "member": member}
        )
    ).first()
    if row is None:
        return None

    facts = row._mapping
    cycle = CycleRow(*row[:7])
    result = None
    if facts["submission_id"] is not None:
        result = ResultRow(
            submission_id=facts["submission_id"],
            revision=facts["revision"],
            summary=facts["summary"],
            status=facts["submission_status"],
            name=facts["name"],
            wco_region=facts["wco_region"],
            income_group=facts["income_group"],
            administration_type=facts["administration_type"],
            disclosure=facts["disclosure"],
        )
    previous = None
    if facts["previous_cycle_id"] is not None:
        values = {
            kpi: (trend_value(value, kind), level)
            for kpi, (value, level, kind) in (facts["previous_values"] or {}).items()
        }
        previous = PreviousResult(
            facts["previous_cycle_id"], values, facts["previous_disclosure"]
        )
    return ScorecardFacts(cycle, result, previous, facts["review_outcome"])


async def review_outcome(
    session: AsyncSession, cycle_id: str, member: str
) -> str | None:
    """The outcome of the member's completed peer review in the cycle, if any."""
    outcome = await session.scalar(
        sa.select(_review.c.outcome)
        .where(
            _review.c.cycle_id == cycle_id,
            _review.c.member == member,
            _review.c.status == "completed",
        )
        .limit(1)
    )
    return str(outcome) if outcome is not None else None


# A completed review still opens what its reviewers reviewed; a withdrawn one, or a
# requested one not yet assigned, opens nothing.
_REVIEWING_STATUSES = ("assigned", "completed")


async def reviewed_by(
    session: AsyncSession, subject: str
) -> frozenset[tuple[str, str]]:
    """(cycle, member) of each review the reviewer with this token subject is
    assigned to, unless withdrawn."""
    rows = await session.execute(
        sa.select(_review.c.cycle_id, _review.c.member).where(
            _review.c.reviewer_subjects.contains([subject]),
            _review.c.status.in_(_REVIEWING_STATUSES),
            _review.c.cycle_id.is_not(None),
        )
    )
    return frozenset((cycle_id, member) for cycle_id, member in rows)


async def public_values(
    session: AsyncSession, cycle_id: str
) -> list[tuple[str, str, Decimal | None, str]]:
    """(member, KPI, value, level) of accepted results whose owner made it public."""
    rows = await session.execute(
        sa.select(
            _kpi_value.c.member,
            _kpi_value.c.kpi,
            _kpi_value.c.value,
            _kpi_value.c.level,
        )
        .join(
            _result,
            sa.and_(
                _result.c.cycle_id == _kpi_value.c.cycle_id,
                _result.c.member == _kpi_value.c.member,
            ),
        )
        .join(
            _submission,
            sa.and_(
                _submission.c.submission_id == _result.c.submission_id,
                _submission.c.revision == _result.c.revision,
            ),
        )
        .where(
            _kpi_value.c.cycle_id == cycle_id,
            _submission.c.status == "accepted",
            _submission.c.disclosure[_kpi_value.c.kpi].astext == "public",
        )
        .order_by(_kpi_value.c.member, _kpi_value.c.kpi)
    )
    return [(m, k, v, level) for m, k, v, level in rows]


async def insert_report(session: AsyncSession, **row: Any) -> None:
    await session.execute(sa.insert(_report).values(**row))


async def find_report(session: AsyncSession, report_id: str) -> Report | None:
    return await session.get(Report, report_id)


@dataclass(frozen=True)
class ReportRow:
    report_id: str
    cycle_id: str
    published_at: datetime
    published_by: str
    snapshot_sha256: str


async def reports_of_cycle(session: AsyncSession, cycle_id: str) -> list[ReportRow]:
    """The reports published for a cycle, newest first (without their snapshots)."""
    rows = await session.execute(
        sa.select(
            _report.c.report_id,
            _report.c.cycle_id,
            _report.c.published_at,
            _report.c.published_by,
            _report.c.snapshot_sha256,
        )
        .where(_report.c.cycle_id == cycle_id)
        .order_by(_report.c.published_at.desc(), _report.c.report_id.desc())
    )
    return [ReportRow(*row) for row in rows]
