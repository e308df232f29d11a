"""The review as its readers see it: built from the rows, never stored."""

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.contracts.review import ReviewOutcome
from pmm_review import repository
from pmm_review.domain import ReviewState
from pmm_review.models import Query, QueryMessage, Review, RevisionScore
from pmm_review.schemas import (
    AssignedReviewer,
    CorrectionView,
    KpiScore,
    MessageView,
    QuerySummary,
    QueryView,
    ReviewReport,
    ReviewScores,
    ReviewView,
    RevisionMoveView,
    TransitionView,
    VerdictView,
)


async def review_view(session: AsyncSession, review: Review) -> ReviewView:
    assigned = await repository.assigned_reviewers(session, review.id)
    reviewers = [
        AssignedReviewer(
            reviewer_id=reviewer.id,
            name=reviewer.name,
            home_member=reviewer.home_member,
            same_region=assignment.same_region,
            assigned_at=assignment.assigned_at,
        )
        for assignment, reviewer in assigned
    ]
    return ReviewView(
        id=review.id,
        submission_id=review.submission_id,
        cycle=review.cycle,
        member=review.member,
        revision=review.revision,
        state=ReviewState(review.state),
        outcome=ReviewOutcome(review.outcome) if review.outcome else None,
        languages=review.languages,
        focus_dimensions=review.focus_dimensions,
        requested_by=review.requested_by,
        requested_at=review.requested_at,
        version=review.version,
        reviewers=reviewers,
        warnings=[
            f"reviewer {r.name} ({r.home_member}) is from the reviewed member's "
            f"WCO region {review.wco_region}"
            for r in reviewers
            if r.same_region
        ],
        queries=[
            QuerySummary.model_validate(q)
            for q in await repository.queries_of(session, review.id)
        ],
        corrections=[
            CorrectionView.model_validate(c)
            for c in await repository.corrections_of(session, review.id)
        ],
        revision_moves=[
            RevisionMoveView.model_validate(m)
            for m in await repository.moves_of(session, review.id)
        ],
        verdicts=[
            VerdictView.model_validate(v)
            for v in await repository.verdicts_of(session, review.id)
        ],
    )


def query_view(query: Query, messages: list[QueryMessage]) -> QueryView:
    summary = QuerySummary.model_validate(query).model_dump()
    return QueryView(
        **summary,
        review_id=query.review_id,
        opened_by=query.opened_by,
        opened_at=query.opened_at,
        closed_by=query.closed_by,
        closed_at=query.closed_at,
        reservation=query.reservation,
        messages=[MessageView.model_validate(m) for m in messages],
    )


async def query_views(session: AsyncSession, queries: list[Query]) -> list[QueryView]:
    threads: dict[object, list[QueryMessage]] = defaultdict(list)
    for message in await repository.messages_of(session, [q.id for q in queries]):
        threads[message.query_id].append(message)
    return [query_view(q, threads[q.id]) for q in queries]


async def review_report(session: AsyncSession, review: Review) -> ReviewReport:
    queries = await repository.queries_of(session, review.id)
    return ReviewReport(
        review=await review_view(session, review),
        queries=await query_views(session, queries),
        history=[
            TransitionView.model_validate(t)
            for t in await repository.history_of(session, review.id)
        ],
        generated_at=datetime.now(UTC),
    )


async def review_scores(session: AsyncSession, review: Review) -> ReviewScores:
    moves = await repository.moves_of(session, review.id)
    previous_revision = moves[-1].from_revision if moves else None
    current = await repository.latest_score(
        session, review.submission_id, review.revision
    )
    previous = (
        await repository.latest_score(session, review.submission_id, previous_revision)
        if previous_revision is not None
        else None
    )
    return ReviewScores(
        revision=review.revision,
        calculation_id=current.calculation_id if current else None,
        computed_at=current.computed_at if current else None,
        previous_revision=previous_revision,
        kpis=_kpi_scores(current, previous),
    )


def _kpi_scores(
    current: RevisionScore | None, previous: RevisionScore | None
) -> list[KpiScore]:
    if current is None:
        return []

    before = previous.kpis if previous else {}
    scores = []
    for kpi, now in sorted(current.kpis.items()):
        was = before.get(kpi, {})
        scores.append(
            KpiScore(
                kpi=kpi,
                value=now.get("value"),
                level=now.get("level"),
                status=now.get("status"),
                previous_value=was.get("value"),
                previous_level=was.get("level"),
                changed=previous is not None
                and (was.get("value"), was.get("level"))
                != (now.get("value"), now.get("level")),
            )
        )
    return scores
