"""The review's use cases: each loads, decides, writes and emits in one transaction.

Every state change names the version its caller saw; the row is locked first, so of two
callers who saw the same version only the first one wins, the other hears 412. A change
to a query locks its review first, then the query: the review's state it checks holds
until it commits.
"""

import uuid
from datetime import UTC, date, datetime, timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.auth import Role
from pmm_kit.contracts.common import CycleRef
from pmm_kit.contracts.review import (
    CorrectionRequested,
    KpiVerdict,
    ReviewAssigned,
    ReviewCompleted,
    ReviewRequested,
    ReviewWithdrawn,
    Verdict,
)
from pmm_kit.outbox import add_event
from pmm_review import repository
from pmm_review.access import Caller, require_role, visible_query, visible_review
from pmm_review.domain import (
    ACTIVE_REVIEW_STATES,
    ASSIGNABLE_STATES,
    MAX_QUERY_DUE_DAYS,
    PENDING_CORRECTION_STATES,
    REVIEWING_STATES,
    UNSETTLED_QUERY_STATES,
    Candidate,
    CorrectionState,
    QueryClosure,
    QueryState,
    ReviewState,
    SeenVersions,
    SubmissionStatus,
    Suggestion,
    framework_for,
    rank_reviewers,
    review_outcome,
)
from pmm_review.errors import (
    ConflictOfInterestError,
    CorrectionPendingError,
    InvalidReviewInputError,
    OpenQueriesError,
    ReviewerAssignedError,
    ReviewNotFoundError,
    StaleVersionError,
    SubmissionNotSubmittedError,
    TransitionError,
)
from pmm_review.models import (
    Assignment,
    Correction,
    GivenVerdict,
    Query,
    QueryMessage,
    Review,
    Reviewer,
    Revision,
    Submission,
    Transition,
)
from pmm_review.registry import is_known_member, regions_of
from pmm_review.schemas import (
    AssignmentRequest,
    CorrectionRequest,
    QueryClosing,
    QueryOpening,
    ReviewerProfile,
    ReviewRequest,
    VerdictRequest,
)

log = structlog.get_logger(__name__)

ONE_REVIEW_AT_A_TIME = "one review in progress per submission"


def now() -> datetime:
    return datetime.now(UTC)


def check_version(current: int, seen: SeenVersions, what: str) -> None:
    if current not in seen:
        named = " or ".join(str(version) for version in sorted(seen))
        raise StaleVersionError(
            f"the {what} is at version {current}, you saw {named}",
            current_version=current,
        )


def record_transition(
    session: AsyncSession,
    review: Review,
    actor: str,
    *,
    action: str,
    from_state: str | None,
    to_state: str,
    reason: str,
    query_id: uuid.UUID | None = None,
    correction_id: uuid.UUID | None = None,
) -> None:
    """Who did what, when and why; `from_state` is None only for what just began."""
    session.add(
        Transition(
            review_id=review.id,
            query_id=query_id,
            correction_id=correction_id,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            reason=reason,
            at=now(),
        )
    )


def move_review(
    session: AsyncSession,
    review: Review,
    to_state: ReviewState,
    actor: str,
    *,
    action: str,
    reason: str,
) -> None:
    record_transition(
        session,
        review,
        actor,
        action=action,
        from_state=review.state,
        to_state=to_state,
        reason=reason,
    )
    review.state = to_state


def touch(review: Review) -> None:
    review.version += 1
    review.updated_at = now()


# Reviewers


async def register_reviewer(
    session: AsyncSession, profile: ReviewerProfile, *, actor: str
) -> Reviewer:
    if await repository.reviewer_by_subject(session, profile.subject) is not None:
        raise _subject_taken(profile.subject)
    await _check_home_member(session, profile.home_member)

    at = now()
    reviewer = Reviewer(
        id=uuid.uuid4(), version=1, created_at=at, updated_at=at, **_profile(profile)
    )
    session.add(reviewer)
    try:
        await session.flush()
    except IntegrityError:
        raise _subject_taken(profile.subject) from None
    log.info("reviewer.registered", reviewer_id=str(reviewer.id), actor=actor)
    return reviewer


async def update_reviewer(
    session: AsyncSession,
    reviewer_id: uuid.UUID,
    profile: ReviewerProfile,
    *,
    seen: SeenVersions,
    actor: str,
) -> Reviewer:
    reviewers = await repository.reviewers_by_ids(session, [reviewer_id])
    if not reviewers:
        raise ReviewNotFoundError(f"no reviewer {reviewer_id}")
    reviewer = reviewers[0]
    await session.refresh(reviewer, with_for_update=True)
    check_version(reviewer.version, seen, "reviewer")
    other = await repository.reviewer_by_subject(session, profile.subject)
    if other is not None and other.id != reviewer.id:
        raise _subject_taken(profile.subject)
    await _check_home_member(session, profile.home_member)
    assignments = await repository.open_assignments(session, reviewer.id)
    _check_profile_change(reviewer, profile, [review for _, review in assignments])
    if profile.subject != reviewer.subject:
        await _check_subject_free(session, reviewer)

    moved_home = profile.home_member != reviewer.home_member
    for name, value in _profile(profile).items():
        setattr(reviewer, name, value)
    if moved_home:
        await _recheck_regions(session, reviewer, assignments)
    reviewer.version += 1
    reviewer.updated_at = now()
    log.info("reviewer.updated", reviewer_id=str(reviewer.id), actor=actor)
    return reviewer


async def _check_subject_free(session: AsyncSession, reviewer: Reviewer) -> None:
    """The scoring and reporting services learn a reviewer's subject from the
    assignments and keep it for as long as the review grants access, completed
    ones included: a changed subject would leave the old one reading, and a new
    profile given the old one would inherit its access."""
    review_ids = await repository.granting_reviews(session, reviewer.id)
    if review_ids:
        raise ReviewerAssignedError(
            f"reviewer {reviewer.id} is assigned to review {', '.join(review_ids)}; "
            "a subject that reviews were shared with stays the reviewer's: register "
            "a new profile for the new identity",
            rule="a reviewer's subject changes only while no review in progress or "
            "completed has them assigned",
            review_ids=review_ids,
        )


def _subject_taken(subject: str) -> InvalidReviewInputError:
    return InvalidReviewInputError(
        f"a reviewer with the subject {subject} exists",
        field="subject",
        rule="one reviewer profile per token subject",
    )


async def _check_home_member(session: AsyncSession, member: str) -> None:
    if not await is_known_member(session, member):
        raise InvalidReviewInputError(
            f"{member} is not a WCO member",
            field="home_member",
            rule="a reviewer's home member is a member of the WCO member registry",
        )


def _check_profile_change(
    reviewer: Reviewer, profile: ReviewerProfile, open_reviews: list[Review]
) -> None:
    """A profile change must not undo what assignment checked (no reviewer of their
    own member), nor leave an inactive reviewer at work."""
    if profile.home_member != reviewer.home_member:
        conflicted = [
            str(r.id) for r in open_reviews if r.member == profile.home_member
        ]
        if conflicted:
            raise ConflictOfInterestError(
                f"reviewer {reviewer.id} is assigned to review {profile.home_member} "
                f"(review {', '.join(conflicted)}), which cannot be their home member",
                reviewer_ids=[str(reviewer.id)],
                review_ids=conflicted,
            )
    # An inactive reviewer is assigned nothing: one still at work on a review
    # would go on opening queries and giving verdicts in it.
    if reviewer.active and not profile.active and open_reviews:
        review_ids = [str(r.id) for r in open_reviews]
        raise ReviewerAssignedError(
            f"reviewer {reviewer.id} is assigned to review {', '.join(review_ids)}; "
            "remove them from those reviews before making them inactive",
            rule="a reviewer becomes inactive only while no review in progress "
            "has them assigned",
            review_ids=review_ids,
        )


async def _recheck_regions(
    session: AsyncSession,
    reviewer: Reviewer,
    assignments: list[tuple[Assignment, Review]],
) -> None:
    """A new home member may bring the reviewer into, or out of, the WCO region of
    a member they review: the same-region warning follows it."""
    regions = await regions_of(session, [reviewer.home_member])
    for assignment, review in assignments:
        same_region = regions.get(reviewer.home_member) == review.wco_region
        if same_region and not assignment.same_region:
            log.warning(
                "review.assignment.same_region",
                review_id=str(review.id),
                reviewer_id=str(reviewer.id),
            )
        assignment.same_region = same_region


def _profile(profile: ReviewerProfile) -> dict[str, object]:
    data = profile.model_dump()
    data["languages"] = sorted(set(profile.languages))
    data["expertise"] = sorted(set(profile.expertise))
    data["accreditation"] = str(profile.accreditation)
    return data


def accredited(reviewer: Reviewer, on: date) -> bool:
    return reviewer.active and (
        reviewer.accredited_until is None or reviewer.accredited_until >= on
    )


# Requests and assignments


async def request_review(
    session: AsyncSession, caller: Caller, request: ReviewRequest
) -> Review:
    require_role(caller, Role.NCP)
    submission = await session.get(Submission, request.submission_id)
    if submission is None or submission.member != caller.principal.member:
        raise ReviewNotFoundError(f"no submission {request.submission_id}")
    if submission.status != SubmissionStatus.SUBMITTED:
        raise SubmissionNotSubmittedError(
            f"the submission is {submission.status}; only a submitted one is reviewed",
            rule="a peer review is asked of a submitted submission",
            submission_status=submission.status,
        )
    running = await repository.active_review_of(session, submission.id)
    if running is not None:
        raise TransitionError(
            "a review of this submission is in progress",
            rule=ONE_REVIEW_AT_A_TIME,
            review_id=str(running.id),
        )
    revision = await session.get(Revision, (submission.id, submission.current_revision))
    assert revision is not None, "a submission's current revision is always stored"

    at = now()
    review = Review(
        id=uuid.uuid4(),
        submission_id=submission.id,
        cycle=submission.cycle,
        member=submission.member,
        wco_region=revision.member["wco_region"],
        revision=revision.number,
        state=ReviewState.REQUESTED,
        languages=sorted(set(request.languages)),
        focus_dimensions=sorted(set(request.focus_dimensions)),
        requested_by=caller.subject,
        requested_at=at,
        outcome=None,
        version=1,
        updated_at=at,
    )
    session.add(review)
    record_transition(
        session,
        review,
        caller.subject,
        action="requested",
        from_state=None,
        to_state=ReviewState.REQUESTED,
        reason=request.reason,
    )
    try:
        await session.flush()
    except IntegrityError:
        raise TransitionError(
            "a review of this submission is in progress", rule=ONE_REVIEW_AT_A_TIME
        ) from None
    await add_event(
        session,
        ReviewRequested(
            review_id=str(review.id),
            submission_id=review.submission_id,
            cycle=CycleRef.model_validate(review.cycle),
            member=review.member,
            revision=review.revision,
            requested_by=caller.subject,
        ),
        subject=str(review.id),
    )
    log.info("review.requested", review_id=str(review.id), revision=review.revision)
    return review


async def suggest_reviewers(
    session: AsyncSession, caller: Caller, review_id: uuid.UUID
) -> list[Suggestion]:
    require_role(caller, Role.SECRETARIAT)
    review = await visible_review(session, caller, review_id)

    today = now().date()
    reviewers = [
        r for r in await repository.all_reviewers(session) if accredited(r, today)
    ]
    regions = await regions_of(session, [r.home_member for r in reviewers])
    loads = await repository.workloads(session)
    candidates = [
        Candidate(
            reviewer_id=str(r.id),
            name=r.name,
            home_member=r.home_member,
            home_region=regions.get(r.home_member),
            languages=tuple(r.languages),
            expertise=tuple(r.expertise),
            workload=loads.get(r.id, 0),
        )
        for r in reviewers
    ]
    return rank_reviewers(
        candidates,
        member=review.member,
        region=review.wco_region,
        dimensions=review.focus_dimensions or _all_dimensions(review),
        languages=review.languages,
    )


def _all_dimensions(review: Review) -> list[str]:
    framework = framework_for(review.cycle)
    return [d.code for d in framework.dimensions] if framework else []


async def assign_reviewers(
    session: AsyncSession,
    caller: Caller,
    review_id: uuid.UUID,
    request: AssignmentRequest,
    *,
    seen: SeenVersions,
) -> Review:
    require_role(caller, Role.SECRETARIAT)
    review = await visible_review(session, caller, review_id, lock=True)
    check_version(review.version, seen, "review")
    if review.state not in ASSIGNABLE_STATES:
        raise TransitionError(f"a review that is {review.state} cannot be assigned")
    reviewer_ids = list(dict.fromkeys(request.reviewer_ids))
    # Shared locks: a profile change waits for this assignment, and is then checked
    # against it, or this one sees the changed profile.
    chosen = await repository.reviewers_by_ids(session, reviewer_ids, share=True)
    found = {r.id: r for r in chosen}
    reviewers = [found[r] for r in reviewer_ids if r in found]
    _check_assignable(review, reviewer_ids, reviewers)
    regions = await regions_of(session, [r.home_member for r in reviewers])

    if review.state == ReviewState.REQUESTED:
        move_review(
            session,
            review,
            ReviewState.ASSIGNED,
            caller.subject,
            action="assigned",
            reason=request.reason,
        )
    await _replace_assignments(
        session, review, reviewers, regions, actor=caller.subject, reason=request.reason
    )
    touch(review)
    subjects = {reviewer.id: reviewer.subject for reviewer in reviewers}
    await add_event(
        session,
        ReviewAssigned(
            review_id=str(review.id),
            submission_id=review.submission_id,
            member=review.member,
            reviewer_ids=tuple(str(r) for r in reviewer_ids),
            reviewer_subjects=tuple(subjects[r] for r in reviewer_ids),
            assigned_by=caller.subject,
        ),
        subject=str(review.id),
    )
    log.info("review.assigned", review_id=str(review.id), reviewers=len(reviewers))
    return review


def _check_assignable(
    review: Review, reviewer_ids: list[uuid.UUID], reviewers: list[Reviewer]
) -> None:
    known = {r.id for r in reviewers}
    unknown = [str(r) for r in reviewer_ids if r not in known]
    if unknown:
        raise InvalidReviewInputError("unknown reviewers", reviewer_ids=unknown)
    conflicted = [str(r.id) for r in reviewers if r.home_member == review.member]
    if conflicted:
        raise ConflictOfInterestError(
            f"a reviewer from {review.member} may not review {review.member}",
            reviewer_ids=conflicted,
        )
    today = now().date()
    unaccredited = [str(r.id) for r in reviewers if not accredited(r, today)]
    if unaccredited:
        raise InvalidReviewInputError(
            "reviewers without a current accreditation", reviewer_ids=unaccredited
        )


async def _replace_assignments(
    session: AsyncSession,
    review: Review,
    reviewers: list[Reviewer],
    regions: dict[str, str],
    *,
    actor: str,
    reason: str,
) -> None:
    """Keep the reviewers chosen again, remove the others and add the new ones, each
    recorded by name: an assignment row goes when its reviewer does."""
    chosen = {reviewer.id for reviewer in reviewers}
    kept = set()
    for assignment, reviewer in await repository.assigned_reviewers(session, review.id):
        if reviewer.id in chosen:
            kept.add(reviewer.id)
            continue
        await session.delete(assignment)
        _record_reviewer(session, review, reviewer, "reviewer_removed", actor, reason)
    await session.flush()

    at = now()
    for reviewer in reviewers:
        if reviewer.id in kept:
            continue
        same_region = regions.get(reviewer.home_member) == review.wco_region
        session.add(
            Assignment(
                review_id=review.id,
                reviewer_id=reviewer.id,
                assigned_by=actor,
                assigned_at=at,
                same_region=same_region,
            )
        )
        _record_reviewer(session, review, reviewer, "reviewer_added", actor, reason)
        if same_region:
            log.warning(
                "review.assignment.same_region",
                review_id=str(review.id),
                reviewer_id=str(reviewer.id),
            )


def _record_reviewer(
    session: AsyncSession,
    review: Review,
    reviewer: Reviewer,
    action: str,
    actor: str,
    reason: str,
) -> None:
    record_transition(
        session,
        review,
        actor,
        action=action,
        from_state=review.state,
        to_state=review.state,
        reason=f"{reviewer.name} ({reviewer.home_member}, reviewer {reviewer.id}): "
        f"{reason}",
    )


async def withdraw_review(
    session: AsyncSession,
    caller: Caller,
    review_id: uuid.UUID,
    *,
    seen: SeenVersions,
    reason: str,
) -> Review:
    review = await visible_review(session, caller, review_id, lock=True)
    require_role(caller, Role.NCP)
    check_version(review.version, seen, "review")
    if review.state not in ACTIVE_REVIEW_STATES:
        raise TransitionError(f"a review that is {review.state} cannot be withdrawn")

    move_review(
        session,
        review,
        ReviewState.WITHDRAWN,
        caller.subject,
        action="withdrawn",
        reason=reason,
    )
    touch(review)
    await add_event(
        session,
        ReviewWithdrawn(
            review_id=str(review.id),
            submission_id=review.submission_id,
            member=review.member,
            reason=reason,
            withdrawn_by=caller.subject,
        ),
        subject=str(review.id),
    )
    log.info("review.withdrawn", review_id=str(review.id))
    return review


# The reviewers' work


async def reviewing(
    session: AsyncSession,
    caller: Caller,
    review_id: uuid.UUID,
    *,
    seen: SeenVersions,
    work: str,
) -> Review:
    """The review, locked, for one of its assigned reviewers to work on; the first
    piece of work (named by `work`) puts an assigned review in review."""
    review = await visible_review(session, caller, review_id, lock=True)
    require_role(caller, Role.REVIEWER)
    check_version(review.version, seen, "review")
    if review.state not in REVIEWING_STATES:
        raise TransitionError(f"the review is {review.state}")

    if review.state == ReviewState.ASSIGNED:
        move_review(
            session,
            review,
            ReviewState.IN_REVIEW,
            caller.subject,
            action="started",
            reason=f"the first work of an assigned reviewer: {work}",
        )
    return review


async def open_query(
    session: AsyncSession,
    caller: Caller,
    review_id: uuid.UUID,
    opening: QueryOpening,
    *,
    seen: SeenVersions,
) -> Query:
    review = await reviewing(
        session, caller, review_id, seen=seen, work="a query opened"
    )
    await _check_query_target(session, review, opening)
    _check_due_date(opening.due_date, today=now().date())

    at = now()
    query = Query(
        id=uuid.uuid4(),
        review_id=review.id,
        kpi=opening.kpi,
        data_element=opening.data_element,
        year=opening.year,
        revision=review.revision,
        subject=opening.subject,
        due_date=opening.due_date,
        state=QueryState.OPEN,
        opened_by=caller.subject,
        opened_at=at,
        version=1,
    )
    session.add(query)
    await session.flush()
    session.add(_message(query, caller, opening.message, review.revision))
    record_transition(
        session,
        review,
        caller.subject,
        action="query_opened",
        from_state=None,
        to_state=QueryState.OPEN,
        reason=opening.subject,
        query_id=query.id,
    )
    # The review gained a query: whoever acts on it next must have seen that.
    touch(review)
    log.info("query.opened", review_id=str(review.id), query_id=str(query.id))
    return query


def _check_due_date(due_date: date, *, today: date) -> None:
    if due_date < today:
        raise InvalidReviewInputError(
            f"the due date {due_date} is in the past",
            field="due_date",
            rule="a query is due today or later",
        )
    latest = today + timedelta(days=MAX_QUERY_DUE_DAYS)
    if due_date > latest:
        raise InvalidReviewInputError(
            f"the due date {due_date} is after {latest}",
            field="due_date",
            rule=f"a query is due within {MAX_QUERY_DUE_DAYS} days of today",
        )


async def _check_query_target(
    session: AsyncSession, review: Review, opening: QueryOpening
) -> None:
    if opening.kpi is not None:
        _check_kpis(review, [opening.kpi], field="kpi")
        return

    revision = await session.get(Revision, (review.submission_id, review.revision))
    assert revision is not None
    present = {
        (v["data_element"], v["year"])
        for v in revision.values
        if v["data_element"] == opening.data_element
    }
    if not present or (
        opening.year is not None and (opening.data_element, opening.year) not in present
    ):
        raise InvalidReviewInputError(
            f"revision {review.revision} has no value of {opening.data_element}"
            + (f" for {opening.year}" if opening.year is not None else ""),
            field="data_element" if not present else "year",
        )


def _check_kpis(review: Review, kpis: list[str], *, field: str) -> None:
    framework = framework_for(review.cycle)
    if framework is None:
        return
    known = {kpi.code for kpi in framework.kpis}
    unknown = [kpi for kpi in kpis if kpi not in known]
    if unknown:
        raise InvalidReviewInputError(
            f"not KPIs of {framework.code} {framework.version}",
            field=field,
            kpis=unknown,
        )


def _message(query: Query, caller: Caller, body: str, revision: int) -> QueryMessage:
    return QueryMessage(
        query_id=query.id,
        author=caller.subject,
        author_role=str(caller.role),
        body=body,
        revision=revision,
        sent_at=now(),
    )


async def post_message(
    session: AsyncSession,
    caller: Caller,
    query_id: uuid.UUID,
    *,
    body: str,
    seen: SeenVersions,
) -> Query:
    """The administration's message answers the query; a reviewer's message on an
    answered query asks again and opens it."""
    query, review = await visible_query(session, caller, query_id, lock=True)
    require_role(caller, Role.NCP, Role.PREPARER, Role.REVIEWER)
    check_version(query.version, seen, "query")
    if query.state not in UNSETTLED_QUERY_STATES:
        raise TransitionError(f"the query is {query.state}")
    if review.state not in REVIEWING_STATES:
        raise TransitionError(f"the review is {review.state}")

    to_state = QueryState.OPEN if caller.role is Role.REVIEWER else QueryState.ANSWERED
    if to_state != query.state:
        action = (
            "query_answered" if to_state is QueryState.ANSWERED else "query_reopened"
        )
        record_transition(
            session,
            review,
            caller.subject,
            action=action,
            from_state=query.state,
            to_state=to_state,
            reason=body,
            query_id=query.id,
        )
        query.state = to_state
    session.add(_message(query, caller, body, review.revision))
    query.version += 1
    log.info("query.message.posted", query_id=str(query.id), state=query.state)
    return query


async def close_query(
    session: AsyncSession,
    caller: Caller,
    query_id: uuid.UUID,
    closing: QueryClosing,
    *,
    seen: SeenVersions,
) -> Query:
    query, review = await visible_query(session, caller, query_id, lock=True)
    require_role(caller, Role.REVIEWER)
    check_version(query.version, seen, "query")
    if query.state != QueryState.ANSWERED:
        raise TransitionError(
            f"only an answered query can be closed; it is {query.state}"
        )
    if review.state not in REVIEWING_STATES:
        raise TransitionError(f"the review is {review.state}")

    to_state = QueryState(closing.outcome.value)
    record_transition(
        session,
        review,
        caller.subject,
        action="query_closed",
        from_state=query.state,
        to_state=to_state,
        reason=closing.reason,
        query_id=query.id,
    )
    query.state = to_state
    query.closed_by = caller.subject
    query.closed_at = now()
    query.reservation = (
        closing.reason
        if closing.outcome is QueryClosure.ACCEPTED_WITH_RESERVATION
        else None
    )
    query.version += 1
    log.info("query.closed", query_id=str(query.id), state=query.state)
    return query


async def request_correction(
    session: AsyncSession,
    caller: Caller,
    review_id: uuid.UUID,
    request: CorrectionRequest,
    *,
    seen: SeenVersions,
) -> Correction:
    review = await reviewing(
        session, caller, review_id, seen=seen, work="a correction asked"
    )
    kpis = sorted(set(request.kpis))
    _check_kpis(review, kpis, field="kpis")
    await _check_correctable(session, review)

    correction = Correction(
        id=uuid.uuid4(),
        review_id=review.id,
        revision=review.revision,
        kpis=kpis,
        reason=request.reason,
        state=CorrectionState.REQUESTED,
        requested_by=caller.subject,
        requested_at=now(),
    )
    session.add(correction)
    record_transition(
        session,
        review,
        caller.subject,
        action="correction_requested",
        from_state=None,
        to_state=CorrectionState.REQUESTED,
        reason=request.reason,
        correction_id=correction.id,
    )
    touch(review)
    await add_event(
        session,
        CorrectionRequested(
            review_id=str(review.id),
            submission_id=review.submission_id,
            cycle=CycleRef.model_validate(review.cycle),
            member=review.member,
            revision=review.revision,
            kpis=tuple(kpis),
            reason=request.reason,
            requested_by=caller.subject,
        ),
        subject=str(review.id),
    )
    log.info(
        "review.correction.requested",
        review_id=str(review.id),
        correction_id=str(correction.id),
    )
    return correction


async def _check_correctable(session: AsyncSession, review: Review) -> None:
    """A correction can only be carried out on a submitted revision, one at a time:
    the submission service drops a request for a returned or accepted submission,
    and a second request would be returned with, or lost behind, the first."""
    pending = await pending_corrections(session, review)
    if pending:
        raise CorrectionPendingError(
            f"correction {pending[0].id} of revision {pending[0].revision} awaits "
            "its corrected revision",
            rule="one correction at a time: the next waits for the corrected revision",
            correction_id=str(pending[0].id),
        )
    submission = await session.get(Submission, review.submission_id)
    assert submission is not None, "a review's submission is always stored"
    if submission.status != SubmissionStatus.SUBMITTED:
        raise SubmissionNotSubmittedError(
            f"the submission is {submission.status}; only a submitted revision "
            "can be returned for corrections",
            rule="a correction is asked of a submitted submission",
            submission_status=submission.status,
        )


async def pending_corrections(
    session: AsyncSession, review: Review
) -> list[Correction]:
    return [
        c
        for c in await repository.corrections_of(session, review.id)
        if c.state in PENDING_CORRECTION_STATES
    ]


async def give_verdict(
    session: AsyncSession,
    caller: Caller,
    review_id: uuid.UUID,
    kpi: str,
    request: VerdictRequest,
    *,
    seen: SeenVersions,
) -> Review:
    review = await reviewing(
        session, caller, review_id, seen=seen, work=f"a verdict on {kpi}"
    )
    _check_kpis(review, [kpi], field="kpi")

    verdict = await session.get(GivenVerdict, (review.id, kpi))
    earlier = verdict.verdict if verdict is not None else None
    if verdict is None:
        verdict = GivenVerdict(review_id=review.id, kpi=kpi)
        session.add(verdict)
    verdict.verdict = str(request.verdict)
    verdict.reservation = request.reservation
    verdict.revision = review.revision
    verdict.given_by = caller.subject
    verdict.given_at = now()
    record_transition(
        session,
        review,
        caller.subject,
        action=f"verdict_given:{kpi}",
        from_state=earlier,
        to_state=request.verdict,
        reason=request.reservation or "validated without reservation",
    )
    touch(review)
    log.info("review.verdict.given", review_id=str(review.id), kpi=kpi)
    return review


async def complete_review(
    session: AsyncSession,
    caller: Caller,
    review_id: uuid.UUID,
    *,
    seen: SeenVersions,
    reason: str,
) -> Review:
    review = await reviewing(session, caller, review_id, seen=seen, work="completion")
    queries = await repository.queries_of(session, review.id)
    unsettled = [str(q.id) for q in queries if q.state in UNSETTLED_QUERY_STATES]
    if unsettled:
        raise OpenQueriesError(
            f"{len(unsettled)} queries are still open or answered", queries=unsettled
        )
    pending = await pending_corrections(session, review)
    if pending:
        raise CorrectionPendingError(
            f"correction {pending[0].id} awaits its corrected revision",
            rule="a review completes once every correction is carried out or lapsed",
            correction_id=str(pending[0].id),
        )
    verdicts = await repository.verdicts_of(session, review.id)
    if not verdicts:
        raise TransitionError("no KPI has a verdict yet")
    outdated = await outdated_verdicts(session, review, verdicts)
    if outdated:
        raise TransitionError(
            "some verdicts predate a change of their KPI's values", kpis=outdated
        )

    outcome = review_outcome(
        [Verdict(v.verdict) for v in verdicts], [QueryState(q.state) for q in queries]
    )
    move_review(
        session,
        review,
        ReviewState(outcome.value),
        caller.subject,
        action="completed",
        reason=reason,
    )
    review.outcome = outcome
    touch(review)
    await add_event(
        session,
        ReviewCompleted(
            review_id=str(review.id),
            submission_id=review.submission_id,
            cycle=CycleRef.model_validate(review.cycle),
            member=review.member,
            revision=review.revision,
            outcome=outcome,
            verdicts=tuple(
                KpiVerdict(
                    kpi=v.kpi, verdict=Verdict(v.verdict), reservation=v.reservation
                )
                for v in verdicts
            ),
            completed_by=caller.subject,
        ),
        subject=str(review.id),
    )
    log.info("review.completed", review_id=str(review.id), outcome=outcome)
    return review


async def outdated_verdicts(
    session: AsyncSession, review: Review, verdicts: list[GivenVerdict]
) -> list[str]:
    """KPIs whose verdict was given on a revision before their values changed."""
    moves = await repository.moves_of(session, review.id)
    return [
        verdict.kpi
        for verdict in verdicts
        if any(
            move.to_revision > verdict.revision
            and any(verdict.kpi in change["kpis"] for change in move.changes)
            for move in moves
        )
    ]
