"""Cycles: create, open, close, and extensions for one member."""

import uuid
from datetime import date

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.auth import Principal
from pmm_kit.contracts.common import CycleRef, Window
from pmm_kit.contracts.submission import CycleClosed, CycleOpened, ExtensionGranted
from pmm_kit.outbox import add_event
from pmm_submission.deps import check_if_match, now
from pmm_submission.domain import CycleState, framework_for
from pmm_submission.errors import InvalidInputError, StateError, UnknownError
from pmm_submission.models import Cycle, Extension, Transition
from pmm_submission.service.members import get_member

log = structlog.get_logger(__name__)


def cycle_ref(cycle: Cycle) -> CycleRef:
    return CycleRef(
        cycle_id=str(cycle.id),
        reporting_year=cycle.reporting_year,
        framework_code=cycle.framework_code,
        framework_version=cycle.framework_version,
    )


async def create_cycle(
    session: AsyncSession,
    *,
    code: str,
    reporting_year: int,
    framework_code: str,
    framework_version: str,
    window_opens: date,
    window_closes: date,
    actor: Principal,
) -> Cycle:
    _check_framework(framework_code, framework_version)
    if window_closes < window_opens:
        raise InvalidInputError(
            "the window closes before it opens",
            errors=[{"field": "window_closes", "rule": "window.order"}],
        )
    # Codes are ASCII; two that differ only in case would read as one cycle to a
    # person typing a feed's cycle column, so they may not both exist.
    same_code = sa.func.lower(Cycle.code) == code.lower()
    existing = await session.scalar(sa.select(Cycle.code).where(same_code))
    if existing is not None:
        raise StateError(f"a cycle {existing} exists already")

    cycle = Cycle(
        id=uuid.uuid4(),
        code=code,
        reporting_year=reporting_year,
        framework_code=framework_code,
        framework_version=framework_version,
        window_opens=window_opens,
        window_closes=window_closes,
        state=CycleState.DRAFT,
        version=1,
        created_at=now(),
        created_by=actor.subject,
    )
    session.add(cycle)
    await record_transition(
        session, "cycle", cycle.id, None, CycleState.DRAFT, actor.subject, None
    )
    log.info("cycle.created", cycle_id=str(cycle.id), code=code)
    return cycle


def _check_framework(code: str, version: str) -> None:
    try:
        framework_for(code, version)
    except LookupError as error:
        raise InvalidInputError(
            str(error),
            errors=[{"field": "framework_version", "rule": "framework.unknown"}],
        ) from None


async def record_transition(
    session: AsyncSession,
    entity: str,
    entity_id: uuid.UUID,
    from_state: str | None,
    to_state: str,
    actor: str,
    reason: str | None,
) -> None:
    session.add(
        Transition(
            entity=entity,
            entity_id=entity_id,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            at=now(),
            reason=reason,
        )
    )
    await session.flush()


async def get_cycle(
    session: AsyncSession, cycle_id: uuid.UUID, *, lock: bool = False
) -> Cycle:
    query = sa.select(Cycle).where(Cycle.id == cycle_id)
    if lock:
        query = query.with_for_update()
    cycle = await session.scalar(query)
    if cycle is None:
        raise UnknownError(f"no cycle {cycle_id}")
    return cycle


async def list_cycles(session: AsyncSession) -> list[Cycle]:
    query = sa.select(Cycle).order_by(Cycle.reporting_year, Cycle.code)
    return list(await session.scalars(query))


async def extensions_of(session: AsyncSession, cycle_id: uuid.UUID) -> list[Extension]:
    query = sa.select(Extension).where(Extension.cycle_id == cycle_id)
    return list(await session.scalars(query.order_by(Extension.member)))


async def _transition(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    *,
    expected: CycleState,
    target: CycleState,
    actor: Principal,
    reason: str | None,
    if_match: str | None,
) -> Cycle:
    cycle = await get_cycle(session, cycle_id, lock=True)
    check_if_match(if_match, cycle.version)
    if cycle.state != expected:
        raise StateError(
            f"the cycle is {cycle.state}; only {_a(expected)} cycle can become "
            f"{target}",
            state=cycle.state,
        )

    await record_transition(
        session, "cycle", cycle.id, cycle.state, target, actor.subject, reason
    )
    cycle.state = target
    cycle.version += 1
    await session.flush()
    return cycle


async def open_cycle(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    *,
    actor: Principal,
    reason: str | None,
    if_match: str | None,
) -> Cycle:
    cycle = await _transition(
        session,
        cycle_id,
        expected=CycleState.DRAFT,
        target=CycleState.OPEN,
        actor=actor,
        reason=reason,
        if_match=if_match,
    )
    window = Window(opens=cycle.window_opens, closes=cycle.window_closes)
    event = CycleOpened(
        cycle=cycle_ref(cycle), code=cycle.code, window=window, opened_by=actor.subject
    )
    await add_event(session, event, subject=str(cycle.id))
    log.info("cycle.opened", cycle_id=str(cycle.id))
    return cycle


async def close_cycle(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    *,
    actor: Principal,
    reason: str | None,
    if_match: str | None,
) -> Cycle:
    cycle = await _transition(
        session,
        cycle_id,
        expected=CycleState.OPEN,
        target=CycleState.CLOSED,
        actor=actor,
        reason=reason,
        if_match=if_match,
    )
    event = CycleClosed(cycle=cycle_ref(cycle), closed_by=actor.subject)
    await add_event(session, event, subject=str(cycle.id))
    log.info("cycle.closed", cycle_id=str(cycle.id))
    return cycle


async def grant_extension(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    *,
    member: str,
    until: date,
    reason: str,
    actor: Principal,
) -> tuple[Extension, bool]:
    """The member's extension, granted or moved to `until`, and whether anything
    changed: granting again what stands (same date, same reason) keeps who granted
    it and when, and emits no event."""
    cycle = await get_cycle(session, cycle_id, lock=True)
    await get_member(session, member)
    if cycle.state == CycleState.DRAFT:
        raise StateError("a draft cycle takes no extension; open it first")
    if until < now().date():
        raise InvalidInputError(
            "an extension ends today or later",
            errors=[{"field": "until", "rule": "extension.past"}],
        )

    extension = await session.get(Extension, (cycle.id, member))
    if extension is not None and (extension.until, extension.reason) == (
        until,
        reason,
    ):
        return extension, False
    if extension is None:
        extension = Extension(cycle_id=cycle.id, member=member)
        session.add(extension)
    extension.until = until
    extension.reason = reason
    extension.granted_by = actor.subject
    extension.granted_at = now()
    await session.flush()
    event = ExtensionGranted(
        cycle=cycle_ref(cycle),
        member=member,
        until=until,
        reason=reason,
        granted_by=actor.subject,
    )
    await add_event(session, event, subject=str(cycle.id))
    log.info("cycle.extension.granted", cycle_id=str(cycle.id), member=member)
    return extension, True


async def entry_allowed(
    session: AsyncSession, cycle: Cycle, member: str, actor: Principal
) -> bool:
    """Entry is open in an open cycle, by extension after it, and always for the
    Secretariat (it loads the history of past cycles)."""
    if cycle.state == CycleState.OPEN or actor.role == "secretariat":
        return True
    if cycle.state != CycleState.CLOSED:
        return False
    extension = await session.get(Extension, (cycle.id, member))
    return extension is not None and extension.until >= now().date()


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"
