"""The events the scoring service listens to.

Submitted revisions are scored by one durable consumer that every worker shares, so
JetStream hands each message to one of them (a work queue). Review assignments say
which reviewers may read which results. A review's events may arrive in any order:
of two assignments the one with the later event time holds, and a withdrawal is final,
so every order leaves the same access.
"""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.consumers import PermanentError, ReceivedEvent, Subscription
from pmm_kit.contracts.review import ReviewAssigned, ReviewWithdrawn
from pmm_kit.contracts.submission import SubmissionSubmitted
from pmm_scoring import repository, service
from pmm_scoring.errors import InvalidInputsError, UnknownFrameworkError
from pmm_scoring.settings import ScoringSettings

log = structlog.get_logger(__name__)

SUBMISSIONS_CONSUMER = "scoring-submissions"
REVIEWS_CONSUMER = "scoring-reviews"


async def on_submission_submitted(session: AsyncSession, event: ReceivedEvent) -> None:
    submitted = event.payload
    assert isinstance(submitted, SubmissionSubmitted)
    try:
        await service.score_submitted_revision(
            session, submitted, event_id=event.envelope.id
        )
    except (UnknownFrameworkError, InvalidInputsError) as error:
        raise PermanentError(error.detail) from error


async def on_review_event(session: AsyncSession, event: ReceivedEvent) -> None:
    payload = event.payload
    if isinstance(payload, ReviewAssigned):
        current = await repository.replace_assignments(
            session,
            review_id=payload.review_id,
            submission_id=payload.submission_id,
            member=payload.member,
            reviewer_subjects=payload.reviewer_subjects,
            assigned_at=event.envelope.time,
        )
        log.info(
            "scores.reviewers.assigned",
            review_id=payload.review_id,
            submission_id=payload.submission_id,
            reviewers=len(payload.reviewer_subjects),
            current=current,
        )
        return
    if isinstance(payload, ReviewWithdrawn):
        await repository.withdraw_review(
            session,
            review_id=payload.review_id,
            submission_id=payload.submission_id,
            member=payload.member,
            withdrawn_at=event.envelope.time,
        )
        log.info("scores.reviewers.withdrawn", review_id=payload.review_id)


def subscriptions(settings: ScoringSettings | None = None) -> list[Subscription]:
    settings = settings or ScoringSettings()
    return [
        Subscription(
            consumer=SUBMISSIONS_CONSUMER,
            subjects=(SubmissionSubmitted.event_type(),),
            handler=on_submission_submitted,
            ack_wait=settings.ack_wait_seconds,
            batch_size=settings.batch_size,
        ),
        Subscription(
            consumer=REVIEWS_CONSUMER,
            subjects=(ReviewAssigned.event_type(), ReviewWithdrawn.event_type()),
            handler=on_review_event,
            ack_wait=settings.ack_wait_seconds,
        ),
    ]
