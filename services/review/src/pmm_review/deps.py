"""Request dependencies: the caller, and the version it saw (If-Match)."""

from typing import Annotated

from fastapi import Depends, Header, Response

from pmm_kit.app import UnitOfWorkDep
from pmm_kit.auth import Principal, require_principal
from pmm_review.access import Caller, caller_of
from pmm_review.errors import StaleVersionError, VersionRequiredError


async def current_caller(
    principal: Annotated[Principal, Depends(require_principal)],
    uow: UnitOfWorkDep,
) -> Caller:
    return await caller_of(uow.session, principal)


def seen_version(
    if_match: Annotated[
        str | None,
        Header(description="The ETag of the object as you last read it."),
    ] = None,
) -> int:
    if if_match is None:
        raise VersionRequiredError(
            "a change needs the If-Match header with the ETag you read"
        )

    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise StaleVersionError(f"{if_match} is not an ETag this service issued")
    return int(tag)


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


CallerDep = Annotated[Caller, Depends(current_caller)]
SeenVersion = Annotated[int, Depends(seen_version)]
