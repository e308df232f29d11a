"""Members (public), their attributes, element mappings and feed keys."""

import uuid

from fastapi import APIRouter, Response

from pmm_kit.app import UnitOfWorkDep
from pmm_kit.auth import Role
from pmm_kit.exact_json import ExactJsonRoute
from pmm_submission.deps import (
    BODY_PROBLEMS,
    Caller,
    IfMatch,
    Ncp,
    Secretariat,
    ensure_member_access,
    etag,
    problems,
)
from pmm_submission.domain import nfc
from pmm_submission.errors import NotAllowedError
from pmm_submission.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    IssuedApiKey,
    MappingIn,
    MappingNameInPath,
    MappingOut,
    MemberInPath,
    MemberOut,
    MemberPatch,
)
from pmm_submission.service import members as service
from pmm_submission.views import api_key_out, mapping_out, member_out

router = APIRouter(prefix="/members", tags=["members"], route_class=ExactJsonRoute)


@router.get("")
async def list_members(uow: UnitOfWorkDep) -> list[MemberOut]:
    """The WCO member registry: 187 Members and the European Union. Public."""
    return [member_out(m) for m in await service.list_members(uow.session)]


@router.get("/{code}", responses=problems("not-found", "validation"))
async def get_member(
    code: MemberInPath, uow: UnitOfWorkDep, response: Response
) -> MemberOut:
    """One member with its region, income group and the Secretariat's attributes."""
    member = await service.get_member(uow.session, code)
    response.headers["ETag"] = etag(member.version)
    return member_out(member)


@router.patch(
    "/{code}",
    responses=problems(
        "unauthorized", "forbidden", "not-found", "precondition-failed", *BODY_PROBLEMS
    ),
)
async def update_member(
    code: MemberInPath,
    body: MemberPatch,
    uow: UnitOfWorkDep,
    principal: Secretariat,
    response: Response,
    if_match: IfMatch = None,
) -> MemberOut:
    """Set a member's administration type or geography (Secretariat); emits
    `MemberChanged` with the full record."""
    changes = body.model_dump(exclude_unset=True)
    member = await service.update_member(
        uow.session, code, changes=changes, actor=principal, if_match=if_match
    )
    await uow.commit()
    response.headers["ETag"] = etag(member.version)
    return member_out(member)


@router.get(
    "/{code}/mappings",
    responses=problems("unauthorized", "not-found", "validation"),
)
async def list_mappings(
    code: MemberInPath, uow: UnitOfWorkDep, principal: Caller
) -> list[MappingOut]:
    """The member's own names for framework data elements, used by its feeds."""
    ensure_member_access(principal, code)
    return [mapping_out(m) for m in await service.list_mappings(uow.session, code)]


@router.put(
    "/{code}/mappings/{name:path}",
    responses=problems("unauthorized", "not-found", "invalid-input", *BODY_PROBLEMS),
)
async def put_mapping(
    code: MemberInPath,
    name: MappingNameInPath,
    body: MappingIn,
    uow: UnitOfWorkDep,
    principal: Caller,
) -> MappingOut:
    """Map one of the member's names to a data element, with an exact factor
    (e.g. `1000000` for a figure kept in millions) and the unit its figures come in
    (`EUR`, `hours`). NCP, preparer or Secretariat.

    A name is any text up to 200 characters, `/` included, with no spaces around
    it (`name.spaces`): a feed's cells are read trimmed. A yes/no or code element
    takes no factor (`factor.not_numeric`) and no unit (`unit.not_applicable`)."""
    ensure_member_access(principal, code)
    mapping = await service.put_mapping(
        uow.session,
        code,
        nfc(name),
        data_element=body.data_element,
        factor=body.factor,
        unit=body.unit,
        actor=principal,
    )
    await uow.commit()
    return mapping_out(mapping)


@router.delete(
    "/{code}/mappings/{name:path}",
    status_code=204,
    responses=problems("unauthorized", "not-found", "validation"),
)
async def delete_mapping(
    code: MemberInPath, name: MappingNameInPath, uow: UnitOfWorkDep, principal: Caller
) -> None:
    """Forget one of the member's names."""
    ensure_member_access(principal, code)
    await service.delete_mapping(uow.session, code, name)
    await uow.commit()


@router.post(
    "/{code}/api-keys",
    status_code=201,
    responses=problems("unauthorized", "forbidden", "not-found", *BODY_PROBLEMS),
)
async def issue_api_key(
    code: MemberInPath, body: ApiKeyIn, uow: UnitOfWorkDep, principal: Ncp
) -> IssuedApiKey:
    """Issue a feed key for the member (its NCP only). The key is shown once; it
    can only send feeds."""
    ensure_member_access(principal, code)
    api_key, key = await service.issue_api_key(
        uow.session, code, label=body.label, actor=principal
    )
    await uow.commit()
    return IssuedApiKey(**api_key_out(api_key), key=key)


@router.get(
    "/{code}/api-keys",
    responses=problems("unauthorized", "forbidden", "not-found", "validation"),
)
async def list_api_keys(
    code: MemberInPath, uow: UnitOfWorkDep, principal: Caller
) -> list[ApiKeyOut]:
    """The member's feed keys (never the keys themselves)."""
    ensure_member_access(principal, code)
    _ncp_or_secretariat(principal.role)
    keys = await service.list_api_keys(uow.session, code)
    return [ApiKeyOut(**api_key_out(k)) for k in keys]


@router.delete(
    "/{code}/api-keys/{key_id}",
    responses=problems("unauthorized", "forbidden", "not-found", "validation"),
)
async def revoke_api_key(
    code: MemberInPath, key_id: uuid.UUID, uow: UnitOfWorkDep, principal: Caller
) -> ApiKeyOut:
    """Revoke a feed key at once (the member's NCP or the Secretariat)."""
    ensure_member_access(principal, code)
    _ncp_or_secretariat(principal.role)
    api_key = await service.revoke_api_key(uow.session, code, key_id)
    await uow.commit()
    return ApiKeyOut(**api_key_out(api_key))


def _ncp_or_secretariat(role: Role) -> None:
    if role not in (Role.NCP, Role.SECRETARIAT):
        raise NotAllowedError("this needs the role ncp or secretariat")
