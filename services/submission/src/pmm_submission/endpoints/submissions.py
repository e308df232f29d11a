"""A member's submission in a cycle: values, opt-outs, disclosure, workflow."""

import uuid

import sqlalchemy as sa
from fastapi import APIRouter, Response

from pmm_kit.app import UnitOfWorkDep
from pmm_kit.auth import Principal, Role
from pmm_kit.exact_json import ExactJsonRoute
from pmm_submission import examples
from pmm_submission.deps import (
    BODY_PROBLEMS,
    Caller,
    IfMatch,
    Ncp,
    Secretariat,
    check_if_match,
    ensure_member_access,
    etag,
    problems,
)
from pmm_submission.domain import framework_for
from pmm_submission.models import Submission
from pmm_submission.schemas import (
    DisclosureIn,
    ElementInPath,
    HistoryEntry,
    KpiInPath,
    MemberInPath,
    OptOutIn,
    ReasonIn,
    ReturnIn,
    RevisionInPath,
    RevisionOut,
    SubmissionOut,
    TransitionOut,
    ValueBatch,
    ValueIn,
    ValueItem,
    WriteResult,
    YearInPath,
)
from pmm_submission.service import submissions as service
from pmm_submission.service.cycles import get_cycle
from pmm_submission.views import findings_out, history_out, value_out

router = APIRouter(
    prefix="/cycles/{cycle_id}/submissions",
    tags=["submissions"],
    route_class=ExactJsonRoute,
)

READ_PROBLEMS = problems("unauthorized", "not-found", "validation")
WRITE_PROBLEMS = problems(
    "unauthorized",
    "not-found",
    "invalid-state",
    "precondition-failed",
    "invalid-input",
    *BODY_PROBLEMS,
)


@router.get("", responses=READ_PROBLEMS)
async def list_submissions(
    cycle_id: uuid.UUID, uow: UnitOfWorkDep, principal: Caller
) -> list[SubmissionOut]:
    """The cycle's submissions: all of them for the Secretariat, one's own for a
    member's NCP or preparer."""
    await get_cycle(uow.session, cycle_id)
    query = sa.select(Submission).where(Submission.cycle_id == cycle_id)
    if principal.role is not Role.SECRETARIAT:
        query = query.where(Submission.member == (principal.member or ""))
    found = await uow.session.scalars(query.order_by(Submission.member))
    return [await _view(uow, s) for s in found]


async def _view(uow: UnitOfWorkDep, submission: Submission) -> SubmissionOut:
    session = uow.session
    cycle = await get_cycle(session, submission.cycle_id)
    framework = framework_for(cycle.framework_code, cycle.framework_version)
    assessment = await service.assess(session, submission, cycle)
    return SubmissionOut(
        id=submission.id,
        cycle_id=submission.cycle_id,
        member=submission.member,
        state=submission.state,
        revision=submission.revision,
        version=submission.version,
        reopened_kpis=submission.reopened_kpis,
        values=[value_out(r) for r in await service.values_of(session, submission.id)],
        kpi_opt_outs=await service.opt_outs_of(session, submission.id),
        disclosure=await service.disclosure_of(session, submission.id, framework),
        findings=findings_out(assessment),
        can_submit=assessment.can_submit,
    )


async def _submission(
    uow: UnitOfWorkDep, cycle_id: uuid.UUID, member: str, principal: Principal
) -> Submission:
    ensure_member_access(principal, member)
    return await service.find_submission(uow.session, cycle_id, member)


@router.get("/{member}", responses=READ_PROBLEMS)
async def get_submission(
    cycle_id: uuid.UUID,
    member: MemberInPath,
    uow: UnitOfWorkDep,
    principal: Caller,
    response: Response,
) -> SubmissionOut:
    """The submission with every value, opt-out, disclosure level and the current
    validation findings. Its `ETag` is what `If-Match` takes on a write."""
    submission = await _submission(uow, cycle_id, member, principal)
    response.headers["ETag"] = etag(submission.version)
    return await _view(uow, submission)


@router.put("/{member}/values/{data_element}/{year}", responses=WRITE_PROBLEMS)
async def write_value(
    cycle_id: uuid.UUID,
    member: MemberInPath,
    data_element: ElementInPath,
    year: YearInPath,
    body: ValueIn,
    uow: UnitOfWorkDep,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> WriteResult:
    """Write one value (`provided` with a value, or `not_applicable` /
    `not_available` with a reason); answers with the findings now."""
    item = ValueItem(data_element=data_element, year=year, **body.model_dump())
    return await _write(uow, cycle_id, member, [item], principal, response, if_match)


@router.post("/{member}/values", responses=WRITE_PROBLEMS)
async def write_values(
    cycle_id: uuid.UUID,
    member: MemberInPath,
    body: ValueBatch,
    uow: UnitOfWorkDep,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> WriteResult:
    """Write a batch of values at once: all are written or none (each refusal names
    its row, field and rule); answers with the findings now."""
    return await _write(
        uow, cycle_id, member, body.values, principal, response, if_match
    )


async def _write(
    uow: UnitOfWorkDep,
    cycle_id: uuid.UUID,
    member: str,
    items: list[ValueItem],
    principal: Principal,
    response: Response,
    if_match: str | None,
) -> WriteResult:
    ensure_member_access(principal, member)
    writes = [
        service.ValueWrite(
            data_element=i.data_element,
            year=i.year,
            state=i.state,
            value=i.value,
            reason=i.reason,
            restatement_reason=i.restatement_reason,
        )
        for i in items
    ]
    submission, rows, assessment = await service.write_values(
        uow.session, cycle_id, member, writes, actor=principal, if_match=if_match
    )
    await uow.commit()
    response.headers["ETag"] = etag(submission.version)
    return WriteResult(
        submission_id=submission.id,
        state=submission.state,
        version=submission.version,
        values=[value_out(r) for r in rows],
        findings=findings_out(assessment),
        can_submit=assessment.can_submit,
    )


@router.put("/{member}/opt-outs/{kpi}", responses=WRITE_PROBLEMS)
async def opt_out(
    cycle_id: uuid.UUID,
    member: MemberInPath,
    kpi: KpiInPath,
    body: OptOutIn,
    uow: UnitOfWorkDep,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> WriteResult:
    """Opt out of a KPI for national reasons (a reason is required)."""
    return await _opt(
        uow, cycle_id, member, kpi, body.reason, principal, response, if_match
    )


@router.delete(
    "/{member}/opt-outs/{kpi}",
    responses=problems(
        "unauthorized",
        "not-found",
        "invalid-state",
        "precondition-failed",
        "invalid-input",
        "validation",
    ),
)
async def opt_in(
    cycle_id: uuid.UUID,
    member: MemberInPath,
    kpi: KpiInPath,
    uow: UnitOfWorkDep,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> WriteResult:
    """Withdraw an opt-out: the KPI is required again."""
    return await _opt(uow, cycle_id, member, kpi, None, principal, response, if_match)


async def _opt(
    uow: UnitOfWorkDep,
    cycle_id: uuid.UUID,
    member: str,
    kpi: str,
    reason: str | None,
    principal: Principal,
    response: Response,
    if_match: str | None,
) -> WriteResult:
    ensure_member_access(principal, member)
    submission, assessment = await service.set_opt_out(
        uow.session,
        cycle_id,
        member,
        kpi,
        reason=reason,
        actor=principal,
        if_match=if_match,
    )
    await uow.commit()
    response.headers["ETag"] = etag(submission.version)
    return WriteResult(
        submission_id=submission.id,
        state=submission.state,
        version=submission.version,
        values=[],
        findings=findings_out(assessment),
        can_submit=assessment.can_submit,
    )


@router.put(
    "/{member}/disclosure",
    responses={
        **problems(
            "unauthorized",
            "forbidden",
            "not-found",
            "invalid-state",
            "precondition-failed",
            "invalid-input",
            *BODY_PROBLEMS,
        ),
        200: {
            "description": "Every KPI's disclosure level.",
            "content": {"application/json": {"example": examples.DISCLOSURE}},
        },
    },
)
async def set_disclosure(
    cycle_id: uuid.UUID,
    member: MemberInPath,
    body: DisclosureIn,
    uow: UnitOfWorkDep,
    principal: Ncp,
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, str]:
    """Set the disclosure level of some KPIs (the member's NCP only); a KPI never
    set is `restricted`. Answers every KPI's level and the submission's new `ETag`.
    Emits `DisclosureChanged` with the full set."""
    ensure_member_access(principal, member)
    submission, levels = await service.set_disclosure(
        uow.session, cycle_id, member, body.levels, actor=principal, if_match=if_match
    )
    await uow.commit()
    response.headers["ETag"] = etag(submission.version)
    return {kpi: str(level) for kpi, level in levels.items()}


@router.post(
    "/{member}/submit",
    responses=problems(
        "unauthorized",
        "forbidden",
        "not-found",
        "invalid-state",
        "precondition-failed",
        "submission-incomplete",
        *BODY_PROBLEMS,
    ),
)
async def submit(
    cycle_id: uuid.UUID,
    member: MemberInPath,
    uow: UnitOfWorkDep,
    principal: Ncp,
    response: Response,
    body: ReasonIn | None = None,
    if_match: IfMatch = None,
) -> RevisionOut:
    """Submit (the member's NCP only): refused while a value is missing or a
    blocking finding stands; freezes a numbered revision and emits
    `SubmissionSubmitted` carrying all of it."""
    ensure_member_access(principal, member)
    submission, event = await service.submit(
        uow.session,
        cycle_id,
        member,
        actor=principal,
        reason=body.reason if body else None,
        if_match=if_match,
    )
    await uow.commit()
    response.headers["ETag"] = etag(submission.version)
    return RevisionOut(
        number=event.revision,
        submitted_at=event.submitted_at,
        submitted_by=event.submitted_by,
        content=event.model_dump(mode="json"),
    )


@router.post(
    "/{member}/return",
    responses=problems(
        "unauthorized",
        "forbidden",
        "not-found",
        "invalid-state",
        "precondition-failed",
        "invalid-input",
        *BODY_PROBLEMS,
    ),
)
async def return_submission(
    cycle_id: uuid.UUID,
    member: MemberInPath,
    body: ReturnIn,
    uow: UnitOfWorkDep,
    principal: Secretariat,
    response: Response,
    if_match: IfMatch = None,
) -> SubmissionOut:
    """Return a submitted revision for corrections of the named KPIs only
    (Secretariat); emits `SubmissionReturned`."""
    submission = await service.find_submission(uow.session, cycle_id, member, lock=True)
    check_if_match(if_match, submission.version)
    await service.return_submission(
        uow.session,
        submission,
        kpis=body.kpis,
        reason=body.reason,
        actor=principal.subject,
        review_id=None,
    )
    await uow.commit()
    response.headers["ETag"] = etag(submission.version)
    return await _view(uow, submission)


@router.post(
    "/{member}/accept",
    responses=problems(
        "unauthorized",
        "forbidden",
        "not-found",
        "invalid-state",
        "precondition-failed",
        *BODY_PROBLEMS,
    ),
)
async def accept(
    cycle_id: uuid.UUID,
    member: MemberInPath,
    uow: UnitOfWorkDep,
    principal: Secretariat,
    response: Response,
    body: ReasonIn | None = None,
    if_match: IfMatch = None,
) -> SubmissionOut:
    """Accept a submitted revision (Secretariat): the submission is closed; emits
    `SubmissionAccepted`."""
    submission = await service.accept(
        uow.session,
        cycle_id,
        member,
        actor=principal,
        reason=body.reason if body else None,
        if_match=if_match,
    )
    await uow.commit()
    response.headers["ETag"] = etag(submission.version)
    return await _view(uow, submission)


@router.get("/{member}/history", responses=READ_PROBLEMS)
async def submission_history(
    cycle_id: uuid.UUID, member: MemberInPath, uow: UnitOfWorkDep, principal: Caller
) -> list[HistoryEntry]:
    """Every change of every value: actor, channel, time, old and new."""
    submission = await _submission(uow, cycle_id, member, principal)
    changes = await service.history(uow.session, submission.id)
    return [history_out(c) for c in changes]


@router.get("/{member}/values/{data_element}/{year}/history", responses=READ_PROBLEMS)
async def value_history(
    cycle_id: uuid.UUID,
    member: MemberInPath,
    data_element: ElementInPath,
    year: YearInPath,
    uow: UnitOfWorkDep,
    principal: Caller,
) -> list[HistoryEntry]:
    """The changes of one value, oldest first."""
    submission = await _submission(uow, cycle_id, member, principal)
    changes = await service.history(
        uow.session, submission.id, data_element=data_element, year=year
    )
    return [history_out(c) for c in changes]


@router.get("/{member}/transitions", responses=READ_PROBLEMS)
async def submission_transitions(
    cycle_id: uuid.UUID, member: MemberInPath, uow: UnitOfWorkDep, principal: Caller
) -> list[TransitionOut]:
    """Every state change of the submission with its actor, time and reason."""
    submission = await _submission(uow, cycle_id, member, principal)
    found = await service.transitions(uow.session, submission.id)
    return [
        TransitionOut(
            from_state=t.from_state,
            to_state=t.to_state,
            actor=t.actor,
            at=t.at,
            reason=t.reason,
        )
        for t in found
    ]


@router.get("/{member}/revisions/{number}", responses=READ_PROBLEMS)
async def get_revision(
    cycle_id: uuid.UUID,
    member: MemberInPath,
    number: RevisionInPath,
    uow: UnitOfWorkDep,
    principal: Caller,
) -> RevisionOut:
    """A frozen revision exactly as its `SubmissionSubmitted` event carried it."""
    submission = await _submission(uow, cycle_id, member, principal)
    found = await service.revision(uow.session, submission.id, number)
    return RevisionOut(
        number=found.number,
        submitted_at=found.submitted_at,
        submitted_by=found.submitted_by,
        content=found.content,
    )
