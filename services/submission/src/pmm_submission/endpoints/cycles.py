"""Cycles: the Secretariat creates, opens and closes them and grants extensions."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from pmm_kit.app import UnitOfWorkDep
from pmm_kit.auth import Principal, Role, optional_principal
from pmm_kit.exact_json import ExactJsonRoute
from pmm_submission.deps import (
    BODY_PROBLEMS,
    IfMatch,
    Secretariat,
    etag,
    problems,
)
from pmm_submission.models import Extension
from pmm_submission.schemas import (
    CycleCreate,
    CycleOut,
    ExtensionIn,
    ExtensionOut,
    ReasonIn,
    TransitionOut,
)
from pmm_submission.service import cycles as service
from pmm_submission.service.submissions import transitions
from pmm_submission.views import cycle_out, extension_out

router = APIRouter(prefix="/cycles", tags=["cycles"], route_class=ExactJsonRoute)
MaybeCaller = Annotated[Principal | None, Depends(optional_principal)]
# How the public reads who changed a cycle: the organisation, not its people.
SECRETARIAT_AS_ACTOR = "WCO Secretariat"
TRANSITION_PROBLEMS = problems(
    "unauthorized",
    "forbidden",
    "not-found",
    "invalid-state",
    "precondition-failed",
    *BODY_PROBLEMS,
)


@router.post(
    "",
    status_code=201,
    responses=problems(
        "unauthorized", "forbidden", "invalid-state", "invalid-input", *BODY_PROBLEMS
    ),
)
async def create_cycle(
    body: CycleCreate, uow: UnitOfWorkDep, principal: Secretariat, response: Response
) -> CycleOut:
    """Create a cycle in `draft`: reporting year T (T-1 is derived), framework code
    and version (the reference framework is PMM 1.0.0) and the submission window."""
    cycle = await service.create_cycle(
        uow.session, **body.model_dump(), actor=principal
    )
    await uow.commit()
    response.headers["ETag"] = etag(cycle.version)
    return cycle_out(cycle, [])


@router.get("", responses=problems("unauthorized"))
async def list_cycles(uow: UnitOfWorkDep, principal: MaybeCaller) -> list[CycleOut]:
    """Every cycle with its state and window. Public; an extension is its member's
    data, shown only to the Secretariat and to that member's own roles."""
    cycles = await service.list_cycles(uow.session)
    return [
        cycle_out(
            c, _visible(await service.extensions_of(uow.session, c.id), principal)
        )
        for c in cycles
    ]


@router.get(
    "/{cycle_id}", responses=problems("unauthorized", "not-found", "validation")
)
async def get_cycle(
    cycle_id: uuid.UUID, uow: UnitOfWorkDep, principal: MaybeCaller, response: Response
) -> CycleOut:
    """One cycle; its `ETag` is what `If-Match` takes on a transition. Public; its
    extensions are shown as in the list of cycles."""
    cycle = await service.get_cycle(uow.session, cycle_id)
    response.headers["ETag"] = etag(cycle.version)
    extensions = await service.extensions_of(uow.session, cycle_id)
    return cycle_out(cycle, _visible(extensions, principal))


def _visible(
    extensions: list[Extension], principal: Principal | None
) -> list[Extension]:
    if principal is None:
        return []
    return [e for e in extensions if principal.can_act_for(e.member)]


@router.post("/{cycle_id}/open", responses=TRANSITION_PROBLEMS)
async def open_cycle(
    cycle_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: Secretariat,
    response: Response,
    body: ReasonIn | None = None,
    if_match: IfMatch = None,
) -> CycleOut:
    """`draft` → `open`: data entry starts; emits `CycleOpened`."""
    cycle = await service.open_cycle(
        uow.session,
        cycle_id,
        actor=principal,
        reason=body.reason if body else None,
        if_match=if_match,
    )
    await uow.commit()
    response.headers["ETag"] = etag(cycle.version)
    return cycle_out(cycle, await service.extensions_of(uow.session, cycle_id))


@router.post("/{cycle_id}/close", responses=TRANSITION_PROBLEMS)
async def close_cycle(
    cycle_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: Secretariat,
    response: Response,
    body: ReasonIn | None = None,
    if_match: IfMatch = None,
) -> CycleOut:
    """`open` → `closed`: entry stops except by extension; emits `CycleClosed`."""
    cycle = await service.close_cycle(
        uow.session,
        cycle_id,
        actor=principal,
        reason=body.reason if body else None,
        if_match=if_match,
    )
    await uow.commit()
    response.headers["ETag"] = etag(cycle.version)
    return cycle_out(cycle, await service.extensions_of(uow.session, cycle_id))


@router.post(
    "/{cycle_id}/extensions",
    status_code=201,
    responses={
        200: {
            "model": ExtensionOut,
            "description": "The same extension stood already; nothing changed",
        },
        **problems(
            "unauthorized",
            "forbidden",
            "not-found",
            "invalid-state",
            "invalid-input",
            *BODY_PROBLEMS,
        ),
    },
)
async def grant_extension(
    cycle_id: uuid.UUID,
    body: ExtensionIn,
    uow: UnitOfWorkDep,
    principal: Secretariat,
    response: Response,
) -> ExtensionOut:
    """Let one member go on entering data until a date, with a reason; emits
    `ExtensionGranted`. A new date or reason replaces the member's extension (201);
    the same date and reason again change nothing and answer 200 with the
    extension as it stands."""
    extension, granted = await service.grant_extension(
        uow.session,
        cycle_id,
        member=body.member,
        until=body.until,
        reason=body.reason,
        actor=principal,
    )
    await uow.commit()
    if not granted:
        response.status_code = 200
    return extension_out(extension)


@router.get("/{cycle_id}/transitions", responses=problems("not-found", "validation"))
async def cycle_transitions(
    cycle_id: uuid.UUID, uow: UnitOfWorkDep, caller: MaybeCaller
) -> list[TransitionOut]:
    """Every state change of the cycle with its time, reason and actor. Public; the
    actor, a member of the Secretariat's staff, is named to the Secretariat only
    (`WCO Secretariat` to anyone else)."""
    await service.get_cycle(uow.session, cycle_id)
    found = await transitions(uow.session, cycle_id)
    staff = caller is not None and caller.role is Role.SECRETARIAT
    return [
        TransitionOut(
            from_state=t.from_state,
            to_state=t.to_state,
            actor=t.actor if staff else SECRETARIAT_AS_ACTOR,
            at=t.at,
            reason=t.reason,
        )
        for t in found
    ]
