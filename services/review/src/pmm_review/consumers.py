"""The events the review service listens to.

The submission service's events build the read model of submissions, revisions and
members; a newer revision of a submission under review moves the review to it. A late
event of an older revision never overwrites a newer one.

A correction the submission service returned is carried out by the next revision. One
it never returned (it drops a request for a submission that had meanwhile been returned
for another reason or accepted) lapses, with the reason recorded, when the submission
moves on without it: resubmitted or accepted. So no correction waits for ever and the
review can still complete; the reviewer may ask again of the new revision. Once the
submission is accepted no correction can be asked: the review completes on the
accepted revision, or is withdrawn.
"""

import uuid

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.consumers import ReceivedEvent, Subscription
from pmm_kit.contracts.common import MemberAttributes
from pmm_kit.contracts.scoring import ScoresComputed
from pmm_kit.contracts.submission import (
    MemberChanged,
    SubmissionAccepted,
    SubmissionReturned,
    SubmissionSubmitted,
)
from pmm_review import repository
from pmm_review.domain import (
    ACTIVE_REVIEW_STATES,
    CorrectionState,
    QueryTarget,
    SubmissionStatus,
    framework_for,
    kpi_results,
    revision_changes,
)
from pmm_review.models import (
    Correction,
    Member,
    Review,
    Revision,
    RevisionMove,
    RevisionScore,
    Submission,
)
from pmm_review.service import now, pending_corrections, record_transition, touch

log = structlog.get_logger(__name__)


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            consumer="review-submissions",
            subjects=(
                MemberChanged.event_type(),
                SubmissionSubmitted.event_type(),
                SubmissionReturned.event_type(),
                SubmissionAccepted.event_type(),
            ),
            handler=on_submission_event,
        ),
        Subscription(
            consumer="review-scores",
            subjects=(ScoresComputed.event_type(),),
            handler=on_scores_computed,
        ),
    ]


async def on_submission_event(session: AsyncSession, event: ReceivedEvent) -> None:
    payload = event.payload
    if isinstance(payload, MemberChanged):
        await remember_member(session, payload.member)
    elif isinstance(payload, SubmissionSubmitted):
        await on_submitted(session, payload)
    elif isinstance(payload, SubmissionReturned):
        await on_returned(session, payload)
    elif isinstance(payload, SubmissionAccepted):
        await on_accepted(session, payload)


async def on_scores_computed(session: AsyncSession, event: ReceivedEvent) -> None:
    payload = event.payload
    if not isinstance(payload, ScoresComputed):
        return

    await session.execute(
        insert(RevisionScore)
        .values(
            calculation_id=payload.calculation_id,
            submission_id=payload.submission_id,
            revision=payload.revision,
            computed_at=payload.computed_at,
            kpis=kpi_results(payload.assessment),
        )
        .on_conflict_do_nothing()
    )
    log.info(
        "review.scores.received",
        submission_id=payload.submission_id,
        revision=payload.revision,
        calculation_id=payload.calculation_id,
    )


async def remember_member(session: AsyncSession, member: MemberAttributes) -> None:
    fields = {"name": member.name, "wco_region": member.wco_region}
    await session.execute(
        insert(Member)
        .values(code=member.code, **fields)
        .on_conflict_do_update(index_elements=[Member.code], set_=fields)
    )


async def on_submitted(session: AsyncSession, payload: SubmissionSubmitted) -> None:
    await remember_member(session, payload.member)
    await session.execute(
        insert(Revision)
        .values(
            submission_id=payload.submission_id,
            number=payload.revision,
            member=payload.member.model_dump(mode="json"),
            values=[v.model_dump(mode="json") for v in payload.values],
            kpi_opt_outs=[o.model_dump(mode="json") for o in payload.kpi_opt_outs],
            submitted_at=payload.submitted_at,
            submitted_by=payload.submitted_by,
        )
        .on_conflict_do_nothing()
    )
    await _remember_submission(session, payload)
    log.info(
        "review.revision.received",
        submission_id=payload.submission_id,
        revision=payload.revision,
    )

    for review in await _active_reviews(session, payload.submission_id):
        if review.revision < payload.revision:
            await move_to_revision(session, review, payload)


async def _active_reviews(session: AsyncSession, submission_id: str) -> list[Review]:
    found = await session.execute(
        select(Review)
        .where(
            Review.submission_id == submission_id,
            Review.state.in_(ACTIVE_REVIEW_STATES),
        )
        .order_by(Review.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(found.scalars())


async def _remember_submission(
    session: AsyncSession, payload: SubmissionSubmitted
) -> None:
    values = {
        "member": payload.member.code,
        "cycle": payload.cycle.model_dump(mode="json"),
        "current_revision": payload.revision,
        "status": SubmissionStatus.SUBMITTED.value,
    }
    await session.execute(
        insert(Submission)
        .values(id=payload.submission_id, **values)
        .on_conflict_do_update(
            index_elements=[Submission.id],
            set_=values,
            where=Submission.current_revision <= payload.revision,
        )
    )


async def move_to_revision(
    session: AsyncSession, review: Review, payload: SubmissionSubmitted
) -> None:
    """Put the review on the new revision and keep what changed since its last one."""
    previous = await session.get(Revision, (review.submission_id, review.revision))
    before = previous.values if previous is not None else []
    queries = await repository.queries_of(session, review.id)
    changes = revision_changes(
        before,
        [v.model_dump(mode="json") for v in payload.values],
        framework=framework_for(review.cycle),
        reporting_year=payload.cycle.reporting_year,
        queries=[
            QueryTarget(str(q.id), q.kpi, q.data_element, q.year) for q in queries
        ],
    )

    at = now()
    session.add(
        RevisionMove(
            review_id=review.id,
            from_revision=review.revision,
            to_revision=payload.revision,
            moved_at=at,
            changes=changes,
        )
    )
    await _settle_corrections(session, review, payload)
    record_transition(
        session,
        review,
        payload.submitted_by,
        action="revision_moved",
        from_state=review.state,
        to_state=review.state,
        reason=f"revision {review.revision} -> {payload.revision}: "
        f"{len(changes)} values changed",
    )
    review.revision = payload.revision
    touch(review)
    log.info(
        "review.revision.moved",
        review_id=str(review.id),
        revision=payload.revision,
        changes=len(changes),
    )


async def _settle_corrections(
    session: AsyncSession, review: Review, payload: SubmissionSubmitted
) -> None:
    """A returned correction is carried out by the new revision; one never returned
    lapses, since the member resubmitted without being asked for it."""
    at = now()
    for correction in await pending_corrections(session, review):
        if correction.state != CorrectionState.RETURNED:
            lapse(
                session,
                review,
                correction,
                actor=payload.submitted_by,
                reason=f"revision {payload.revision} was submitted before the "
                "submission service returned the correction",
            )
            continue
        record_transition(
            session,
            review,
            payload.submitted_by,
            action="correction_corrected",
            from_state=correction.state,
            to_state=CorrectionState.CORRECTED,
            reason=f"revision {payload.revision} submitted after the return",
            correction_id=correction.id,
        )
        correction.state = CorrectionState.CORRECTED
        correction.corrected_revision = payload.revision
        correction.corrected_at = at


def lapse(
    session: AsyncSession,
    review: Review,
    correction: Correction,
    *,
    actor: str,
    reason: str,
) -> None:
    record_transition(
        session,
        review,
        actor,
        action="correction_lapsed",
        from_state=correction.state,
        to_state=CorrectionState.LAPSED,
        reason=reason,
        correction_id=correction.id,
    )
    correction.state = CorrectionState.LAPSED
    correction.lapsed_at = now()
    correction.lapse_reason = reason
    log.warning(
        "review.correction.lapsed",
        review_id=str(review.id),
        correction_id=str(correction.id),
        reason=reason,
    )


async def on_accepted(session: AsyncSession, payload: SubmissionAccepted) -> None:
    await _set_status(
        session, payload.submission_id, payload.revision, SubmissionStatus.ACCEPTED
    )
    for review in await _active_reviews(session, payload.submission_id):
        pending = await pending_corrections(session, review)
        for correction in pending:
            lapse(
                session,
                review,
                correction,
                actor=payload.accepted_by,
                reason=f"the submission was accepted at revision {payload.revision} "
                "before the correction was returned",
            )
        if pending:
            touch(review)


async def on_returned(session: AsyncSession, payload: SubmissionReturned) -> None:
    await _set_status(
        session, payload.submission_id, payload.revision, SubmissionStatus.RETURNED
    )
    review_id = _uuid_or_none(payload.review_id)
    review = (
        await repository.review_by_id(session, review_id, lock=True)
        if review_id is not None
        else None
    )
    if review is None:
        return

    returned = [
        c
        for c in await pending_corrections(session, review)
        if c.state == CorrectionState.REQUESTED and c.revision == payload.revision
    ]
    for correction in returned:
        record_transition(
            session,
            review,
            payload.returned_by,
            action="correction_returned",
            from_state=correction.state,
            to_state=CorrectionState.RETURNED,
            reason=payload.reason,
            correction_id=correction.id,
        )
        correction.state = CorrectionState.RETURNED
        correction.returned_at = now()
    if returned:
        touch(review)
    log.info(
        "review.correction.returned",
        review_id=payload.review_id,
        submission_id=payload.submission_id,
        corrections=len(returned),
    )


def _uuid_or_none(text: str | None) -> uuid.UUID | None:
    # Another service's returns name no review, or one of theirs: not ours to track.
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


async def _set_status(
    session: AsyncSession,
    submission_id: str,
    revision: int,
    status: SubmissionStatus,
) -> None:
    await session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.current_revision == revision)
        .values(status=status.value)
    )
