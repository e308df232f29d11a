"""The read models, built from events alone.

Invariant: applying an event twice, or replaying the whole stream onto the read models
(`pmm-reporting rebuild`), leaves them as applying it once. Every write is an upsert
guarded by what the event knows of order: revisions are monotonic per submission, a
review only moves forward, a disclosure set or a review's reviewers are newer by their
time. A late, stale event never overwrites a newer one, and an event that overtakes
the one it refines is kept until that one comes (a disclosure change before its
submission).
"""

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.contracts.common import CycleRef, MemberAttributes
from pmm_kit.contracts.review import (
    ReviewAssigned,
    ReviewCompleted,
    ReviewRequested,
    ReviewWithdrawn,
)
from pmm_kit.contracts.scoring import ScoresComputed
from pmm_kit.contracts.submission import (
    CycleClosed,
    CycleOpened,
    DisclosureChanged,
    MemberChanged,
    SubmissionAccepted,
    SubmissionReturned,
    SubmissionSubmitted,
)
from pmm_kit.events import Contract, Envelope
from pmm_reporting.models import (
    Cycle,
    KpiValue,
    Member,
    MemberResult,
    Review,
    SubmissionDisclosure,
    table,
)
from pmm_reporting.models import Submission as SubmissionRow

log = structlog.get_logger(__name__)

_cycle = table(Cycle)
_member = table(Member)
_submission = table(SubmissionRow)
_result = table(MemberResult)
_kpi_value = table(KpiValue)
_review = table(Review)
_disclosure = table(SubmissionDisclosure)

_KPI_KEYS = ("code", "outcome", "kind", "unit", "value", "level")
_OUTCOME_KEYS = ("code", "dimension", "status", "level")
_DIMENSION_KEYS = ("code", "score", "coverage")
_RESULT_KEY = frozenset({"cycle_id", "member"})
# Set apart on a newer revision: the key, and disclosure levels, which are newest by
# time rather than by revision.
_NOT_REPLACED = frozenset({"submission_id", "disclosure", "disclosure_as_of"})
# How far a review has gone; an event never moves one back.
_REVIEW_STEPS = {"requested": 0, "assigned": 1, "completed": 2, "withdrawn": 2}

Projector = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]


async def apply_event(
    session: AsyncSession, payload: Contract, envelope: Envelope
) -> None:
    """Apply one event to the read models; events this service ignores do nothing."""
    projector = _PROJECTORS.get(type(payload))
    if projector is None:
        return

    await projector(session, payload, envelope)


def projected_event_types() -> tuple[str, ...]:
    return tuple(contract.event_type() for contract in _PROJECTORS)


async def touch_cycle(session: AsyncSession, cycle: CycleRef) -> None:
    """Make sure the cycle exists and mark its figures as changed."""
    statement = insert(_cycle).values(
        cycle_id=cycle.cycle_id,
        reporting_year=cycle.reporting_year,
        framework_code=cycle.framework_code,
        framework_version=cycle.framework_version,
        status="open",
        version=1,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["cycle_id"], set_={"version": _cycle.c.version + 1}
        )
    )


async def _touch_cycle_by_id(session: AsyncSession, cycle_id: str | None) -> None:
    if cycle_id is None:
        return

    await session.execute(
        sa.update(_cycle)
        .where(_cycle.c.cycle_id == cycle_id)
        .values(version=_cycle.c.version + 1)
    )


async def _member_changed(
    session: AsyncSession, event: MemberChanged, envelope: Envelope
) -> None:
    row = _member_row(event.member)
    await session.execute(
        insert(_member)
        .values(row)
        .on_conflict_do_update(index_elements=["code"], set_=row)
    )


def _member_row(member: MemberAttributes) -> dict[str, Any]:
    return {
        "code": member.code,
        "name": member.name,
        "wco_region": member.wco_region,
        "income_group": member.income_group,
        "administration_type": member.administration_type,
        "geography": member.geography,
    }


async def _cycle_opened(
    session: AsyncSession, event: CycleOpened, envelope: Envelope
) -> None:
    await touch_cycle(session, event.cycle)
    await session.execute(
        sa.update(_cycle)
        .where(_cycle.c.cycle_id == event.cycle.cycle_id)
        .values(code=event.code)
    )


async def _cycle_closed(
    session: AsyncSession, event: CycleClosed, envelope: Envelope
) -> None:
    await touch_cycle(session, event.cycle)
    await session.execute(
        sa.update(_cycle)
        .where(_cycle.c.cycle_id == event.cycle.cycle_id)
        .values(status="closed")
    )


async def _submission_submitted(
    session: AsyncSession, event: SubmissionSubmitted, envelope: Envelope
) -> None:
    await touch_cycle(session, event.cycle)
    await session.execute(
        insert(_member).values(_member_row(event.member)).on_conflict_do_nothing()
    )
    row = {
        "submission_id": event.submission_id,
        "cycle_id": event.cycle.cycle_id,
        "member": event.member.code,
        "revision": event.revision,
        "status": "submitted",
        "name": event.member.name,
        "wco_region": event.member.wco_region,
        "income_group": event.member.income_group,
        "administration_type": event.member.administration_type,
        "disclosure": {kpi: str(level) for kpi, level in event.disclosure.items()},
        "disclosure_as_of": event.submitted_at,
        "submitted_at": event.submitted_at,
    }
    statement = insert(_submission).values(row)
    excluded = statement.excluded
    # A newer revision replaces the submission, but its disclosure levels only if
    # they are newer than the ones held: a change after this submit may have come
    # first. On equal times the submission's levels win, whichever came first.
    newer_levels = excluded.disclosure_as_of >= _submission.c.disclosure_as_of
    updates: dict[str, Any] = {
        key: excluded[key] for key in row if key not in _NOT_REPLACED
    }
    updates["disclosure"] = sa.case(
        (newer_levels, excluded.disclosure), else_=_submission.c.disclosure
    )
    updates["disclosure_as_of"] = sa.func.greatest(
        excluded.disclosure_as_of, _submission.c.disclosure_as_of
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["submission_id"],
            set_=updates,
            where=_submission.c.revision < excluded.revision,
        )
    )
    await _apply_pending_disclosure(session, event.submission_id)
    log.info(
        "read_model.submission.submitted",
        submission_id=event.submission_id,
        revision=event.revision,
    )


async def _set_submission_status(
    session: AsyncSession, submission_id: str, revision: int, status: str
) -> None:
    """A status for the revision the event names; a stale revision is ignored."""
    await session.execute(
        sa.update(_submission)
        .where(
            _submission.c.submission_id == submission_id,
            _submission.c.revision == revision,
        )
        .values(status=status)
    )


async def _submission_returned(
    session: AsyncSession, event: SubmissionReturned, envelope: Envelope
) -> None:
    await touch_cycle(session, event.cycle)
    await _set_submission_status(
        session, event.submission_id, event.revision, "returned"
    )


async def _submission_accepted(
    session: AsyncSession, event: SubmissionAccepted, envelope: Envelope
) -> None:
    await touch_cycle(session, event.cycle)
    await _set_submission_status(
        session, event.submission_id, event.revision, "accepted"
    )
    log.info(
        "read_model.submission.accepted",
        submission_id=event.submission_id,
        revision=event.revision,
    )


async def _disclosure_changed(
    session: AsyncSession, event: DisclosureChanged, envelope: Envelope
) -> None:
    """The newest change of a submission's levels is kept apart (its submission
    may not have arrived yet) and applied to the submission if newer than what it
    holds."""
    await touch_cycle(session, event.cycle)
    levels = {kpi: str(level) for kpi, level in event.disclosure.items()}
    statement = insert(_disclosure).values(
        submission_id=event.submission_id, disclosure=levels, as_of=envelope.time
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["submission_id"],
            set_={"disclosure": levels, "as_of": envelope.time},
            where=_disclosure.c.as_of < statement.excluded.as_of,
        )
    )
    await _apply_pending_disclosure(session, event.submission_id)
    log.info(
        "read_model.submission.disclosure_changed",
        submission_id=event.submission_id,
    )


async def _apply_pending_disclosure(session: AsyncSession, submission_id: str) -> None:
    """The submission takes the newest disclosure change if it is newer than its
    levels (strictly: on equal times a submit's levels win, in either order)."""
    await session.execute(
        sa.update(_submission)
        .where(
            _submission.c.submission_id == submission_id,
            _disclosure.c.submission_id == _submission.c.submission_id,
            _submission.c.disclosure_as_of < _disclosure.c.as_of,
        )
        .values(
            disclosure=_disclosure.c.disclosure, disclosure_as_of=_disclosure.c.as_of
        )
    )


async def _scores_computed(
    session: AsyncSession, event: ScoresComputed, envelope: Envelope
) -> None:
    if not event.current:
        return

    await touch_cycle(session, event.cycle)
    if not await _replace_result(session, event):
        return

    await session.execute(
        sa.delete(_kpi_value).where(
            _kpi_value.c.cycle_id == event.cycle.cycle_id,
            _kpi_value.c.member == event.member,
        )
    )
    rows = list(_kpi_rows(event))
    if rows:
        await session.execute(sa.insert(_kpi_value), rows)
    log.info(
        "read_model.scores.computed",
        calculation_id=event.calculation_id,
        member=event.member,
        revision=event.revision,
    )


async def _replace_result(session: AsyncSession, event: ScoresComputed) -> bool:
    """Store the result unless a newer one is there; says whether it was stored."""
    row = {
        "cycle_id": event.cycle.cycle_id,
        "member": event.member,
        "calculation_id": event.calculation_id,
        "submission_id": event.submission_id,
        "revision": event.revision,
        "computed_at": event.computed_at,
        "assessment": event.assessment,
        "summary": scorecard_summary(event.assessment),
    }
    statement = insert(_result).values(row)
    excluded = statement.excluded
    newer = sa.or_(
        _result.c.revision < excluded.revision,
        sa.and_(
            _result.c.revision == excluded.revision,
            _result.c.computed_at <= excluded.computed_at,
        ),
    )
    stored = await session.execute(
        statement.on_conflict_do_update(
            index_elements=["cycle_id", "member"],
            set_={
                key: excluded[key] for key in row if key not in {"cycle_id", "member"}
            },
            where=newer,
        ).returning(_result.c.member)
    )
    return stored.first() is not None


def _kpi_rows(event: ScoresComputed) -> list[dict[str, Any]]:
    rows = []
    for kpi in event.assessment.get("kpis", ()):
        rows.append(
            {
                "cycle_id": event.cycle.cycle_id,
                "member": event.member,
                "kpi": kpi["code"],
                "revision": event.revision,
                "kind": kpi["kind"],
                "value": numeric_value(kpi.get("value")),
                "level": str(kpi["level"]),
            }
        )
    return rows


def scorecard_summary(assessment: dict[str, Any]) -> dict[str, Any]:
    """The parts of an assessment a scorecard shows."""
    return {
        "kpis": [
            {key: kpi.get(key) for key in _KPI_KEYS}
            for kpi in assessment.get("kpis", ())
        ],
        "outcomes": [
            {
                **{key: outcome.get(key) for key in _OUTCOME_KEYS},
                "kpis": [c["kpi"] for c in outcome.get("contributions", ())],
            }
            for outcome in assessment.get("outcomes", ())
        ],
        "dimensions": [
            {
                **{key: dimension.get(key) for key in _DIMENSION_KEYS},
                "outcomes": [c["outcome"] for c in dimension.get("contributions", ())],
            }
            for dimension in assessment.get("dimensions", ())
        ],
    }


def numeric_value(raw: Any) -> Decimal | None:
    """A KPI value as a number: yes counts 1 and no 0; an enumeration has none."""
    if isinstance(raw, bool):
        return Decimal(int(raw))
    if isinstance(raw, str):
        try:
            return Decimal(raw)
        except ArithmeticError:
            return None
    return None


async def _advance_review(
    session: AsyncSession, row: dict[str, Any], status: str
) -> None:
    statement = insert(_review).values({**row, "status": status})
    step = _REVIEW_STEPS[status]
    current_step = sa.case(
        _REVIEW_STEPS,
        value=_review.c.status,
    )
    updates: dict[str, Any] = {"status": status}
    for key in ("cycle_id", "outcome"):
        if row.get(key) is not None:
            updates[key] = row[key]
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["review_id"],
            set_=updates,
            where=current_step <= step,
        )
    )
    if row.get("cycle_id") is not None:
        # An assignment names no cycle and may arrive before the request: the
        # request's cycle must land although its step is behind, or the reviewers'
        # access, which is per cycle, would never open.
        await session.execute(
            sa.update(_review)
            .where(
                _review.c.review_id == row["review_id"], _review.c.cycle_id.is_(None)
            )
            .values(cycle_id=row["cycle_id"])
        )


async def _review_requested(
    session: AsyncSession, event: ReviewRequested, envelope: Envelope
) -> None:
    await touch_cycle(session, event.cycle)
    row = {
        "review_id": event.review_id,
        "submission_id": event.submission_id,
        "cycle_id": event.cycle.cycle_id,
        "member": event.member,
    }
    await _advance_review(session, row, "requested")


async def _review_assigned(
    session: AsyncSession, event: ReviewAssigned, envelope: Envelope
) -> None:
    row = {
        "review_id": event.review_id,
        "submission_id": event.submission_id,
        "member": event.member,
    }
    await _advance_review(session, row, "assigned")
    # A reassignment replaces the reviewers; of two assignments the later one wins,
    # whatever order they arrive in. The status, not this list, says whether the
    # reviewers may read: a withdrawn review stays withdrawn.
    await session.execute(
        sa.update(_review)
        .where(
            _review.c.review_id == event.review_id,
            sa.or_(
                _review.c.assigned_as_of.is_(None),
                _review.c.assigned_as_of <= envelope.time,
            ),
        )
        .values(
            reviewer_subjects=list(event.reviewer_subjects),
            assigned_as_of=envelope.time,
        )
    )
    log.info(
        "read_model.review.assigned",
        review_id=event.review_id,
        member=event.member,
        reviewers=len(event.reviewer_subjects),
    )


async def _review_completed(
    session: AsyncSession, event: ReviewCompleted, envelope: Envelope
) -> None:
    await touch_cycle(session, event.cycle)
    row = {
        "review_id": event.review_id,
        "submission_id": event.submission_id,
        "cycle_id": event.cycle.cycle_id,
        "member": event.member,
        "outcome": str(event.outcome),
    }
    await _advance_review(session, row, "completed")


async def _review_withdrawn(
    session: AsyncSession, event: ReviewWithdrawn, envelope: Envelope
) -> None:
    row = {
        "review_id": event.review_id,
        "submission_id": event.submission_id,
        "member": event.member,
    }
    await _advance_review(session, row, "withdrawn")
    log.info(
        "read_model.review.withdrawn", review_id=event.review_id, member=event.member
    )


_PROJECTORS: dict[type[Contract], Projector] = {
    MemberChanged: _member_changed,
    CycleOpened: _cycle_opened,
    CycleClosed: _cycle_closed,
    SubmissionSubmitted: _submission_submitted,
    SubmissionReturned: _submission_returned,
    SubmissionAccepted: _submission_accepted,
    DisclosureChanged: _disclosure_changed,
    ScoresComputed: _scores_computed,
    ReviewRequested: _review_requested,
    ReviewAssigned: _review_assigned,
    ReviewCompleted: _review_completed,
    ReviewWithdrawn: _review_withdrawn,
}
