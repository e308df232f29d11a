"""The events the submission service listens to."""

import uuid

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.consumers import PermanentError, ReceivedEvent, Subscription
from pmm_kit.contracts.review import CorrectionRequested
from pmm_submission.domain import SubmissionState
from pmm_submission.models import Submission
from pmm_submission.service.submissions import return_submission

log = structlog.get_logger(__name__)


async def on_correction_requested(session: AsyncSession, event: ReceivedEvent) -> None:
    """A peer review needs values changed: return the named KPIs to the member.

    A request about an older revision, or one arriving after the submission moved
    on, is stale and ignored; the review service sees the newer revision anyway.
    """
    payload = event.payload
    assert isinstance(payload, CorrectionRequested)
    try:
        submission_id = uuid.UUID(payload.submission_id)
    except ValueError:
        raise PermanentError(f"not a submission id: {payload.submission_id}") from None
    submission = await session.scalar(
        sa.select(Submission).where(Submission.id == submission_id).with_for_update()
    )
    if submission is None:
        raise PermanentError(f"no submission {submission_id}")
    if (
        submission.revision != payload.revision
        or submission.state != SubmissionState.SUBMITTED
    ):
        log.warning(
            "submission.correction.stale",
            submission_id=str(submission_id),
            revision=payload.revision,
            current_revision=submission.revision,
            state=submission.state,
        )
        return

    await return_submission(
        session,
        submission,
        kpis=payload.kpis,
        reason=payload.reason,
        actor=payload.requested_by,
        review_id=payload.review_id,
    )


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            consumer="submission-corrections",
            subjects=(CorrectionRequested.event_type(),),
            handler=on_correction_requested,
        )
    ]
