"""Request dependencies: the caller, and the version it saw (If-Match)."""

import re
from typing import Annotated

from fastapi import Depends, Header, Response

from pmm_kit.app import UnitOfWorkDep
from pmm_kit.auth import Principal, require_principal
from pmm_review.access import Caller, caller_of
from pmm_review.domain import SeenVersions
from pmm_review.errors import StaleVersionError, VersionRequiredError


async def current_caller(
    principal: Annotated[Principal, Depends(require_principal)],
    uow: UnitOfWorkDep,
) -> Caller:
    return await caller_of(uow.session, principal)


# This service's ETags are a version's digits in quotes. At most 18 digits: a longer
# run is no version it issued, and int() would refuse some of them. It issues no weak
# tag and If-Match compares strongly (RFC 9110 §13.1.1), so W/"3" matches nothing, and
# neither does an unquoted 3.
_VERSION_TAG = re.compile(r'"([0-9]{1,18})"')


def seen_version(
    if_match: Annotated[
        list[str] | None,
        Header(
            description="The ETag of the object as you last read it; a list "
            "matches when any ETag in it is the current one."
        ),
    ] = None,
) -> SeenVersions:
    """The versions the caller names (RFC 9110: one If-Match field or several, each
    a comma-separated list). `*` names none: a change must say which version it saw,
    so it is refused like any ETag this service did not issue."""
    if not if_match:
        raise VersionRequiredError(
            "a change needs the If-Match header with the ETag you read"
        )

    tags = [tag.strip() for field in if_match for tag in field.split(",")]
    found = (_VERSION_TAG.fullmatch(tag) for tag in tags)
    seen = frozenset(int(match[1]) for match in found if match is not None)
    if not seen:
        raise StaleVersionError(
            f"{', '.join(if_match)} is not an ETag this service issued"
        )
    return seen


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


CallerDep = Annotated[Caller, Depends(current_caller)]
SeenVersion = Annotated[SeenVersions, Depends(seen_version)]
