"""Loading and storing the review's rows; no rule is decided here."""

import uuid
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_review.domain import (
    ACTIVE_REVIEW_STATES,
    UNSETTLED_QUERY_STATES,
    ReviewState,
)
from pmm_review.models import (
    Assignment,
    Correction,
    GivenVerdict,
    Member,
    Query,
    QueryMessage,
    Review,
    Reviewer,
    RevisionMove,
    RevisionScore,
    Transition,
)


async def review_by_id(
    session: AsyncSession, review_id: uuid.UUID, *, lock: bool = False
) -> Review | None:
    statement = sa.select(Review).where(Review.id == review_id)
    if lock:
        statement = statement.with_for_update().execution_options(
            populate_existing=True
        )
    return (await session.execute(statement)).scalar_one_or_none()


async def query_by_id(
    session: AsyncSession, query_id: uuid.UUID, *, lock: bool = False
) -> Query | None:
    statement = sa.select(Query).where(Query.id == query_id)
    if lock:
        statement = statement.with_for_update().execution_options(
            populate_existing=True
        )
    return (await session.execute(statement)).scalar_one_or_none()


async def reviewer_by_subject(session: AsyncSession, subject: str) -> Reviewer | None:
    statement = sa.select(Reviewer).where(Reviewer.subject == subject)
    return (await session.execute(statement)).scalar_one_or_none()


async def reviewers_by_ids(
    session: AsyncSession, reviewer_ids: Sequence[uuid.UUID], *, share: bool = False
) -> list[Reviewer]:
    """With `share`, the rows are locked against a profile change until commit."""
    statement = sa.select(Reviewer).where(Reviewer.id.in_(reviewer_ids))
    if share:
        statement = statement.with_for_update(read=True).execution_options(
            populate_existing=True
        )
    return list((await session.execute(statement)).scalars())


async def all_reviewers(session: AsyncSession) -> list[Reviewer]:
    statement = sa.select(Reviewer).order_by(Reviewer.name, Reviewer.id)
    return list((await session.execute(statement)).scalars())


async def regions_of(session: AsyncSession, members: Sequence[str]) -> dict[str, str]:
    statement = sa.select(Member.code, Member.wco_region).where(
        Member.code.in_(members)
    )
    return dict((await session.execute(statement)).all())


async def is_assigned(
    session: AsyncSession, review_id: uuid.UUID, reviewer_id: uuid.UUID
) -> bool:
    statement = sa.select(Assignment.review_id).where(
        Assignment.review_id == review_id, Assignment.reviewer_id == reviewer_id
    )
    return (await session.execute(statement)).first() is not None


async def assigned_reviewers(
    session: AsyncSession, review_id: uuid.UUID
) -> list[tuple[Assignment, Reviewer]]:
    statement = (
        sa.select(Assignment, Reviewer)
        .join(Reviewer, Reviewer.id == Assignment.reviewer_id)
        .where(Assignment.review_id == review_id)
        .order_by(Reviewer.name)
    )
    return [(a, r) for a, r in await session.execute(statement)]


async def open_assignments(
    session: AsyncSession, reviewer_id: uuid.UUID
) -> list[tuple[Assignment, Review]]:
    """The reviewer's assignments to reviews not yet completed or withdrawn."""
    statement = (
        sa.select(Assignment, Review)
        .join(Review, Review.id == Assignment.review_id)
        .where(
            Assignment.reviewer_id == reviewer_id,
            Review.state.in_(ACTIVE_REVIEW_STATES),
        )
        .order_by(Review.requested_at, Review.id)
    )
    return [(a, r) for a, r in await session.execute(statement)]


async def granting_reviews(session: AsyncSession, reviewer_id: uuid.UUID) -> list[str]:
    """The reviews whose assignment grants the reviewer's token subject access in
    the scoring and reporting services: all but withdrawn ones, completed included."""
    statement = (
        sa.select(Review.id)
        .join(Assignment, Assignment.review_id == Review.id)
        .where(
            Assignment.reviewer_id == reviewer_id,
            Review.state != ReviewState.WITHDRAWN,
        )
        .order_by(Review.requested_at, Review.id)
    )
    return [str(review_id) for review_id in await session.scalars(statement)]


async def workloads(session: AsyncSession) -> dict[uuid.UUID, int]:
    """How many reviews in progress each reviewer is assigned to."""
    statement = (
        sa.select(Assignment.reviewer_id, sa.func.count())
        .join(Review, Review.id == Assignment.review_id)
        .where(Review.state.in_(ACTIVE_REVIEW_STATES))
        .group_by(Assignment.reviewer_id)
    )
    return dict((await session.execute(statement)).all())


async def active_review_of(session: AsyncSession, submission_id: str) -> Review | None:
    statement = sa.select(Review).where(
        Review.submission_id == submission_id,
        Review.state.in_(ACTIVE_REVIEW_STATES),
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def queries_of(session: AsyncSession, review_id: uuid.UUID) -> list[Query]:
    statement = (
        sa.select(Query)
        .where(Query.review_id == review_id)
        .order_by(Query.opened_at, Query.id)
    )
    return list((await session.execute(statement)).scalars())


async def messages_of(
    session: AsyncSession, query_ids: Sequence[uuid.UUID]
) -> list[QueryMessage]:
    statement = (
        sa.select(QueryMessage)
        .where(QueryMessage.query_id.in_(query_ids))
        .order_by(QueryMessage.id)
    )
    return list((await session.execute(statement)).scalars())


async def corrections_of(
    session: AsyncSession, review_id: uuid.UUID
) -> list[Correction]:
    statement = (
        sa.select(Correction)
        .where(Correction.review_id == review_id)
        .order_by(Correction.requested_at, Correction.id)
    )
    return list((await session.execute(statement)).scalars())


async def moves_of(session: AsyncSession, review_id: uuid.UUID) -> list[RevisionMove]:
    statement = (
        sa.select(RevisionMove)
        .where(RevisionMove.review_id == review_id)
        .order_by(RevisionMove.id)
    )
    return list((await session.execute(statement)).scalars())


async def verdicts_of(
    session: AsyncSession, review_id: uuid.UUID
) -> list[GivenVerdict]:
    statement = (
        sa.select(GivenVerdict)
        .where(GivenVerdict.review_id == review_id)
        .order_by(GivenVerdict.kpi)
    )
    return list((await session.execute(statement)).scalars())


async def history_of(session: AsyncSession, review_id: uuid.UUID) -> list[Transition]:
    statement = (
        sa.select(Transition)
        .where(Transition.review_id == review_id)
        .order_by(Transition.id)
    )
    return list((await session.execute(statement)).scalars())


def visible_reviews(
    *, member: str | None, reviewer_id: uuid.UUID | None, everything: bool
) -> sa.Select[Review]:
    """The reviews a caller may see: all, one member's, or one reviewer's."""
    statement = sa.select(Review)
    if everything:
        return statement
    if member is not None:
        return statement.where(Review.member == member)
    if reviewer_id is not None:
        return statement.join(Assignment, Assignment.review_id == Review.id).where(
            Assignment.reviewer_id == reviewer_id
        )
    return statement.where(sa.false())


async def overdue_queries(
    session: AsyncSession, reviews: sa.Select[Review], *, today: date
) -> list[tuple[Query, Review]]:
    visible = reviews.subquery()
    statement = (
        sa.select(Query, Review)
        .join(Review, Review.id == Query.review_id)
        .where(
            Review.id.in_(sa.select(visible.c.id)),
            Review.state.in_(ACTIVE_REVIEW_STATES),
            Query.state.in_(UNSETTLED_QUERY_STATES),
            Query.due_date < today,
        )
        .order_by(Query.due_date, Query.id)
    )
    return [(q, r) for q, r in await session.execute(statement)]


async def latest_score(
    session: AsyncSession, submission_id: str, revision: int
) -> RevisionScore | None:
    statement = (
        sa.select(RevisionScore)
        .where(
            RevisionScore.submission_id == submission_id,
            RevisionScore.revision == revision,
        )
        .order_by(RevisionScore.computed_at.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()
