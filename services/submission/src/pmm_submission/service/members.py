"""Members, their element mappings and their feed keys."""

import secrets
import uuid
from decimal import Decimal

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.auth import Principal
from pmm_kit.contracts.submission import MemberChanged
from pmm_kit.outbox import add_event
from pmm_methodology import DataElement, UnknownCodeError, reference_framework
from pmm_submission.deps import check_if_match, hash_api_key, now
from pmm_submission.domain import NUMERIC_TYPES, RuleViolation, nfc
from pmm_submission.errors import InvalidInputError, UnknownError
from pmm_submission.models import ApiKey, ElementMapping, Member
from pmm_submission.registry import attributes_of
from pmm_submission.units import check_declared_unit

log = structlog.get_logger(__name__)

API_KEY_PREFIX = "pmmk_"


async def list_members(session: AsyncSession) -> list[Member]:
    return list(await session.scalars(sa.select(Member).order_by(Member.code)))


async def get_member(session: AsyncSession, code: str, *, lock: bool = False) -> Member:
    query = sa.select(Member).where(Member.code == code)
    if lock:
        query = query.with_for_update()
    member = await session.scalar(query)
    if member is None:
        raise UnknownError(f"no member {code}")
    return member


async def update_member(
    session: AsyncSession,
    code: str,
    *,
    changes: dict[str, str | None],
    actor: Principal,
    if_match: str | None,
) -> Member:
    member = await get_member(session, code, lock=True)
    check_if_match(if_match, member.version)
    changed = {
        field: value
        for field, value in changes.items()
        if getattr(member, field) != value
    }
    # The same edit sent again changes nothing: no new version, no event.
    if not changed:
        return member

    for field, value in changed.items():
        setattr(member, field, value)
    member.version += 1
    member.updated_at = now()
    member.updated_by = actor.subject
    await session.flush()
    await add_event(
        session,
        MemberChanged(member=attributes_of(member), changed_by=actor.subject),
        subject=member.code,
    )
    log.info("member.changed", member=code, fields=sorted(changed))
    return member


async def list_mappings(session: AsyncSession, member: str) -> list[ElementMapping]:
    await get_member(session, member)
    query = sa.select(ElementMapping).where(ElementMapping.member == member)
    return list(await session.scalars(query.order_by(ElementMapping.name)))


async def put_mapping(
    session: AsyncSession,
    member: str,
    name: str,
    *,
    data_element: str,
    factor: Decimal,
    unit: str | None,
    actor: Principal,
) -> ElementMapping:
    await get_member(session, member)
    _check_name(name)
    try:
        element = reference_framework().data_element(data_element)
    except UnknownCodeError:
        raise InvalidInputError(
            f"no data element {data_element} in the framework",
            errors=[{"field": "data_element", "rule": "element.unknown"}],
        ) from None
    _check_factor(element, factor)
    declared = _declared_unit(element, unit)

    mapping = await session.get(ElementMapping, (member, nfc(name)))
    if mapping is None:
        mapping = ElementMapping(member=member, name=nfc(name))
        session.add(mapping)
    mapping.data_element = data_element
    mapping.factor = factor
    mapping.unit = declared
    mapping.updated_by = actor.subject
    mapping.updated_at = now()
    await session.flush()
    return mapping


def _check_name(name: str) -> None:
    # A feed's cells are read trimmed: a name stored with spaces around it could
    # never be matched, and every row under it would be refused as unmapped.
    if name == name.strip() and name:
        return

    message = (
        f"the name '{name}' has spaces around it; a feed's cells are read trimmed,"
        " so give the name without them"
    )
    raise InvalidInputError(
        message,
        errors=[{"field": "name", "rule": "name.spaces", "message": message}],
    )


def _check_factor(element: DataElement, factor: Decimal) -> None:
    # Only numbers are scaled: with any other factor, every feed row under the
    # name would be refused (`scale.not_numeric`).
    if element.type in NUMERIC_TYPES or factor == 1:
        return

    message = f"{element.code} is not a number: it takes no factor"
    raise InvalidInputError(
        message,
        errors=[{"field": "factor", "rule": "factor.not_numeric", "message": message}],
    )


def _declared_unit(element: DataElement, unit: str | None) -> str | None:
    if unit is None:
        return None
    try:
        return check_declared_unit(element, nfc(unit))
    except RuleViolation as violation:
        raise InvalidInputError(
            violation.message,
            errors=[
                {"field": "unit", "rule": violation.rule, "message": violation.message}
            ],
        ) from None


async def delete_mapping(session: AsyncSession, member: str, name: str) -> None:
    mapping = await session.get(ElementMapping, (member, nfc(name)))
    if mapping is None:
        raise UnknownError(f"no mapping '{name}' for {member}")
    await session.delete(mapping)


async def issue_api_key(
    session: AsyncSession, member: str, *, label: str, actor: Principal
) -> tuple[ApiKey, str]:
    await get_member(session, member)
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(
        id=uuid.uuid4(),
        member=member,
        label=label,
        key_sha256=hash_api_key(key),
        created_by=actor.subject,
        created_at=now(),
    )
    session.add(api_key)
    await session.flush()
    log.info("api_key.issued", member=member, api_key_id=str(api_key.id))
    return api_key, key


async def list_api_keys(session: AsyncSession, member: str) -> list[ApiKey]:
    query = sa.select(ApiKey).where(ApiKey.member == member)
    return list(await session.scalars(query.order_by(ApiKey.created_at)))


async def revoke_api_key(
    session: AsyncSession, member: str, key_id: uuid.UUID
) -> ApiKey:
    api_key = await session.get(ApiKey, key_id, with_for_update=True)
    if api_key is None or api_key.member != member:
        raise UnknownError(f"no API key {key_id} for {member}")

    if api_key.revoked_at is None:
        api_key.revoked_at = now()
        log.info("api_key.revoked", member=member, api_key_id=str(key_id))
    await session.flush()
    return api_key
