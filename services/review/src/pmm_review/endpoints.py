"""The review API: reviewers, reviews, queries, corrections, verdicts and reports."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool

from pmm_kit.app import UnitOfWorkDep
from pmm_kit.auth import Principal, Role, require_role
from pmm_review import repository, service
from pmm_review.access import visible_query, visible_review
from pmm_review.deps import CallerDep, SeenVersion, set_etag
from pmm_review.errors import ReviewNotFoundError
from pmm_review.models import Query, Review
from pmm_review.report import render_pdf
from pmm_review.schemas import (
    AssignmentRequest,
    CorrectionRequest,
    KpiInPath,
    MessagePost,
    OverdueQuery,
    QueryClosing,
    QueryOpening,
    QuerySummary,
    QueryView,
    ReasonRequest,
    ReviewerProfile,
    ReviewerView,
    ReviewReport,
    ReviewRequest,
    ReviewScores,
    ReviewView,
    SuggestionView,
    TransitionView,
    VerdictRequest,
)
from pmm_review.views import query_views, review_report, review_scores, review_view

SecretariatDep = Annotated[Principal, Depends(require_role(Role.SECRETARIAT))]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such object, or not one you may see"},
    409: {"description": "Not allowed in the object's current state"},
    412: {"description": "The If-Match version is stale"},
    428: {"description": "If-Match is missing"},
}

reviewers = APIRouter(prefix="/reviewers", tags=["reviewers"], responses=PROBLEMS)
reviews = APIRouter(prefix="/reviews", tags=["reviews"], responses=PROBLEMS)
queries = APIRouter(prefix="/queries", tags=["queries"], responses=PROBLEMS)


# Reviewers


@reviewers.post("", status_code=201)
async def register_reviewer(
    profile: ReviewerProfile,
    principal: SecretariatDep,
    uow: UnitOfWorkDep,
    response: Response,
) -> ReviewerView:
    """Register a reviewer's profile (Secretariat); `subject` is the identity their
    reviewer tokens carry."""
    reviewer = await service.register_reviewer(
        uow.session, profile, actor=principal.subject
    )
    await uow.commit()
    set_etag(response, reviewer.version)
    return ReviewerView.model_validate(reviewer)


@reviewers.get("")
async def list_reviewers(_: SecretariatDep, uow: UnitOfWorkDep) -> list[ReviewerView]:
    """Every reviewer profile (Secretariat)."""
    found = await repository.all_reviewers(uow.session)
    return [ReviewerView.model_validate(r) for r in found]


@reviewers.get("/{reviewer_id}")
async def read_reviewer(
    reviewer_id: uuid.UUID, _: SecretariatDep, uow: UnitOfWorkDep, response: Response
) -> ReviewerView:
    """One reviewer profile (Secretariat), with its version as ETag."""
    found = await repository.reviewers_by_ids(uow.session, [reviewer_id])
    if not found:
        raise ReviewNotFoundError(f"no reviewer {reviewer_id}")
    set_etag(response, found[0].version)
    return ReviewerView.model_validate(found[0])


@reviewers.put("/{reviewer_id}")
async def update_reviewer(
    reviewer_id: uuid.UUID,
    profile: ReviewerProfile,
    principal: SecretariatDep,
    seen: SeenVersion,
    uow: UnitOfWorkDep,
    response: Response,
) -> ReviewerView:
    """Replace a reviewer's profile (Secretariat; If-Match). The home member must be
    a WCO member (422 naming `home_member`) and not one the reviewer is assigned to
    review in a review in progress (409 conflict-of-interest); the subject cannot
    change while such a review has them assigned (409 reviewer-assigned)."""
    reviewer = await service.update_reviewer(
        uow.session, reviewer_id, profile, seen=seen, actor=principal.subject
    )
    await uow.commit()
    set_etag(response, reviewer.version)
    return ReviewerView.model_validate(reviewer)


# Reviews


async def _answer(uow: UnitOfWorkDep, review: Review, response: Response) -> ReviewView:
    await uow.session.flush()
    view = await review_view(uow.session, review)
    await uow.commit()
    set_etag(response, review.version)
    return view


@reviews.post("", status_code=201)
async def request_review(
    request: ReviewRequest, caller: CallerDep, uow: UnitOfWorkDep, response: Response
) -> ReviewView:
    """Ask for a peer review of the member's submitted submission, at its current
    revision (the member's NCP)."""
    review = await service.request_review(uow.session, caller, request)
    return await _answer(uow, review, response)


@reviews.get("")
async def list_reviews(caller: CallerDep, uow: UnitOfWorkDep) -> list[ReviewView]:
    """The reviews the caller may see: all (Secretariat), the member's own (NCP,
    preparer) or those assigned to them (reviewer)."""
    statement = caller.reviews().order_by(Review.requested_at)
    found = (await uow.session.execute(statement)).scalars()
    return [await review_view(uow.session, review) for review in found]


@reviews.get("/{review_id}")
async def read_review(
    review_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep, response: Response
) -> ReviewView:
    """A review with its reviewers, queries, corrections, revision changes and
    verdicts; its version is the ETag that changes to the review must send back."""
    review = await visible_review(uow.session, caller, review_id)
    set_etag(response, review.version)
    return await review_view(uow.session, review)


@reviews.get("/{review_id}/suggestions")
async def suggest_reviewers(
    review_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep
) -> list[SuggestionView]:
    """Accredited reviewers ranked by expertise in the review's dimensions, shared
    languages and current workload (Secretariat). Reviewers of the reviewed member are
    left out; those of its WCO region are flagged."""
    ranked = await service.suggest_reviewers(uow.session, caller, review_id)
    return [
        SuggestionView(
            reviewer_id=uuid.UUID(s.candidate.reviewer_id),
            name=s.candidate.name,
            home_member=s.candidate.home_member,
            expertise_match=list(s.expertise_match),
            language_match=list(s.language_match),
            workload=s.candidate.workload,
            same_region=s.same_region,
        )
        for s in ranked
    ]


@reviews.put("/{review_id}/reviewers")
async def assign_reviewers(
    review_id: uuid.UUID,
    request: AssignmentRequest,
    caller: CallerDep,
    seen: SeenVersion,
    uow: UnitOfWorkDep,
    response: Response,
) -> ReviewView:
    """Assign one to three reviewers (Secretariat; If-Match), replacing those assigned
    before, with a reason recorded for each reviewer added or removed. A reviewer from
    the reviewed member is refused (409 conflict-of-interest); one from its WCO region
    is accepted with a warning in `warnings`. Once the review is in review, a
    replacement keeps it there: a removed reviewer's queries, messages and verdicts
    stay, under their name, and they no longer see the review."""
    review = await service.assign_reviewers(
        uow.session, caller, review_id, request, seen=seen
    )
    return await _answer(uow, review, response)


@reviews.post("/{review_id}/withdrawal")
async def withdraw_review(
    review_id: uuid.UUID,
    request: ReasonRequest,
    caller: CallerDep,
    seen: SeenVersion,
    uow: UnitOfWorkDep,
    response: Response,
) -> ReviewView:
    """Withdraw the request before the review completes (the member's NCP;
    If-Match)."""
    review = await service.withdraw_review(
        uow.session, caller, review_id, seen=seen, reason=request.reason
    )
    return await _answer(uow, review, response)


@reviews.post("/{review_id}/queries", status_code=201)
async def open_query(
    review_id: uuid.UUID,
    opening: QueryOpening,
    caller: CallerDep,
    seen: SeenVersion,
    uow: UnitOfWorkDep,
    response: Response,
) -> QueryView:
    """Open a query on one KPI or one data element of the revision under review,
    with its first message and a due date (an assigned reviewer; If-Match on the
    review). The review's version advances; the ETag answered is the query's."""
    query = await service.open_query(uow.session, caller, review_id, opening, seen=seen)
    await uow.session.flush()
    (view,) = await query_views(uow.session, [query])
    await uow.commit()
    set_etag(response, query.version)
    return view


@reviews.get("/{review_id}/queries")
async def list_queries(
    review_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep
) -> list[QueryView]:
    """The review's queries with their threads."""
    review = await visible_review(uow.session, caller, review_id)
    found = await repository.queries_of(uow.session, review.id)
    return await query_views(uow.session, found)


@reviews.post("/{review_id}/corrections", status_code=201)
async def request_correction(
    review_id: uuid.UUID,
    request: CorrectionRequest,
    caller: CallerDep,
    seen: SeenVersion,
    uow: UnitOfWorkDep,
    response: Response,
) -> ReviewView:
    """Ask the member to correct the values of some KPIs (an assigned reviewer;
    If-Match on the review). The submission returns them to the member; the review
    moves to the resubmitted revision when it arrives, and the correction is then
    `corrected`. One at a time (409 correction-pending while one awaits its revision),
    and only while the submission is submitted (409 submission-not-submitted). A
    correction the submission service never returned `lapses`, with its reason, when
    the submission is resubmitted or accepted without it."""
    await service.request_correction(uow.session, caller, review_id, request, seen=seen)
    review = await visible_review(uow.session, caller, review_id)
    return await _answer(uow, review, response)


@reviews.put("/{review_id}/verdicts/{kpi}")
async def give_verdict(
    review_id: uuid.UUID,
    kpi: KpiInPath,
    request: VerdictRequest,
    caller: CallerDep,
    seen: SeenVersion,
    uow: UnitOfWorkDep,
    response: Response,
) -> ReviewView:
    """Give or change the verdict on one KPI (an assigned reviewer; If-Match on the
    review). Any verdict but `validated` needs a reservation."""
    review = await service.give_verdict(
        uow.session, caller, review_id, kpi, request, seen=seen
    )
    return await _answer(uow, review, response)


@reviews.post("/{review_id}/completion")
async def complete_review(
    review_id: uuid.UUID,
    request: ReasonRequest,
    caller: CallerDep,
    seen: SeenVersion,
    uow: UnitOfWorkDep,
    response: Response,
) -> ReviewView:
    """Complete the review (an assigned reviewer; If-Match), with a reason. Refused
    while a query is open or answered (409 open-queries), while a correction awaits
    its revision (409 correction-pending), or before any verdict. With reservations
    when a verdict or a query carries one. A review whose submission was accepted
    meanwhile still completes, on the accepted revision."""
    review = await service.complete_review(
        uow.session, caller, review_id, seen=seen, reason=request.reason
    )
    return await _answer(uow, review, response)


@reviews.get("/{review_id}/scores")
async def read_scores(
    review_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep
) -> ReviewScores:
    """The scoring service's KPI values and levels for the revision under review,
    beside those of the revision it replaced (empty until it is scored)."""
    review = await visible_review(uow.session, caller, review_id)
    return await review_scores(uow.session, review)


@reviews.get("/{review_id}/history")
async def review_history(
    review_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep
) -> list[TransitionView]:
    """Every transition of the review and its queries: action, actor, time, reason."""
    review = await visible_review(uow.session, caller, review_id)
    found = await repository.history_of(uow.session, review.id)
    return [TransitionView.model_validate(t) for t in found]


@reviews.get("/{review_id}/report")
async def read_report(
    review_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep
) -> ReviewReport:
    """The review report: queries and answers, corrections, changed values, verdicts
    and reservations, and the history."""
    review = await visible_review(uow.session, caller, review_id)
    return await review_report(uow.session, review)


@reviews.get(
    "/{review_id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def read_report_pdf(
    review_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep
) -> Response:
    """The review report as a PDF."""
    review = await visible_review(uow.session, caller, review_id)
    report = await review_report(uow.session, review)
    pdf = await run_in_threadpool(render_pdf, report)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="review-{review.id}.pdf"'},
    )


# Queries


@queries.get("/overdue")
async def overdue_queries(caller: CallerDep, uow: UnitOfWorkDep) -> list[OverdueQuery]:
    """Queries past their due date that are still open or answered, in the reviews
    the caller may see."""
    today = service.now().date()
    found = await repository.overdue_queries(uow.session, caller.reviews(), today=today)
    return [
        OverdueQuery(
            **QuerySummary.model_validate(q).model_dump(),
            review_id=q.review_id,
            member=review.member,
            days_overdue=(today - q.due_date).days,
        )
        for q, review in found
    ]


async def _query_answer(
    uow: UnitOfWorkDep, query: Query, response: Response
) -> QueryView:
    await uow.session.flush()
    (view,) = await query_views(uow.session, [query])
    await uow.commit()
    set_etag(response, query.version)
    return view


@queries.get("/{query_id}")
async def read_query(
    query_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep, response: Response
) -> QueryView:
    """A query with its thread; its version is the ETag its changes must send back."""
    query, _ = await visible_query(uow.session, caller, query_id)
    set_etag(response, query.version)
    (view,) = await query_views(uow.session, [query])
    return view


@queries.post("/{query_id}/messages")
async def post_message(
    query_id: uuid.UUID,
    message: MessagePost,
    caller: CallerDep,
    seen: SeenVersion,
    uow: UnitOfWorkDep,
    response: Response,
) -> QueryView:
    """Add to the thread (If-Match on the query). The member's NCP or preparer
    answers (open -> answered); a reviewer asking again reopens an answered query."""
    query = await service.post_message(
        uow.session, caller, query_id, body=message.body, seen=seen
    )
    return await _query_answer(uow, query, response)


@queries.post("/{query_id}/closure")
async def close_query(
    query_id: uuid.UUID,
    closing: QueryClosing,
    caller: CallerDep,
    seen: SeenVersion,
    uow: UnitOfWorkDep,
    response: Response,
) -> QueryView:
    """Resolve an answered query, or accept it with a reservation (an assigned
    reviewer; If-Match). Of two reviewers closing at once, one wins, one gets 412."""
    query = await service.close_query(uow.session, caller, query_id, closing, seen=seen)
    return await _query_answer(uow, query, response)
