"""Request plumbing: exact JSON numbers, callers, member scoping, API keys, ETags."""

import hashlib
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute

from pmm_kit.app import UnitOfWorkDep
from pmm_kit.auth import Principal, Role, optional_principal, require_principal
from pmm_kit.errors import PROBLEM_MEDIA_TYPE, UnauthorizedError
from pmm_submission.errors import NotAllowedError, StaleError, UnknownError
from pmm_submission.models import ApiKey

API_KEY_HEADER = "X-Api-Key"


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a number", name, 0)


def exact_json(body: bytes) -> Any:
    """JSON with every number exact (Decimal) and NaN or Infinity refused."""
    return json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)


class _ExactJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = exact_json(await self.body())
        return self._json


class ExactJsonRoute(APIRoute):
    """A route whose JSON body keeps numbers as typed: `98.10` stays `98.10`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact_handler(request: Request) -> Response:
            return await handler(_ExactJsonRequest(request.scope, request.receive))

        return exact_handler


Caller = Annotated[Principal, Depends(require_principal)]


async def _secretariat(principal: Caller) -> Principal:
    if principal.role is not Role.SECRETARIAT:
        raise NotAllowedError("this needs the role secretariat")
    return principal


async def _ncp(principal: Caller) -> Principal:
    if principal.role is not Role.NCP:
        raise NotAllowedError("this needs the role ncp")
    return principal


Secretariat = Annotated[Principal, Depends(_secretariat)]
Ncp = Annotated[Principal, Depends(_ncp)]


def ensure_member_access(principal: Principal, member: str) -> None:
    """Another member's data does not exist for a member-scoped caller."""
    if not principal.can_act_for(member):
        raise UnknownError(f"no member {member} here")


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def _feed_caller(
    uow: UnitOfWorkDep,
    principal: Annotated[Principal | None, Depends(optional_principal)],
    api_key: Annotated[str | None, Header(alias=API_KEY_HEADER)] = None,
) -> Principal:
    if principal is not None:
        return principal
    if api_key is None:
        raise UnauthorizedError(f"a bearer token or an {API_KEY_HEADER} is required")

    found = await uow.session.scalar(
        sa.select(ApiKey).where(ApiKey.key_sha256 == hash_api_key(api_key))
    )
    if found is None or found.revoked_at is not None:
        raise UnauthorizedError("the API key is unknown or revoked")
    # An API key acts as a preparer of its member, and only feeds accept it.
    return Principal(
        subject=f"api-key:{found.id}", role=Role.PREPARER, member=found.member
    )


FeedCaller = Annotated[Principal, Depends(_feed_caller)]


def check_if_match(if_match: str | None, version: int) -> None:
    if if_match is None:
        return

    if if_match.strip() not in {etag(version), f"W/{etag(version)}", "*"}:
        raise StaleError(
            "the object changed since you read it", current_etag=etag(version)
        )


def etag(version: int) -> str:
    return f'"{version}"'


IfMatch = Annotated[
    str | None,
    Header(description="The ETag read before; refused with 412 when stale."),
]


def now() -> datetime:
    return datetime.now(UTC)


_PROBLEM_EXAMPLES: dict[int, tuple[str, str, str, dict[str, Any]]] = {
    401: (
        "unauthorized",
        "Authentication is required",
        "a bearer token is required",
        {},
    ),
    403: ("forbidden", "Not allowed", "this needs the role ncp", {}),
    404: ("not-found", "Not found", "no member FRA here", {}),
    409: (
        "invalid-state",
        "The object's state does not allow this",
        "the submission is submitted; only draft or returned ones take values",
        {},
    ),
    412: (
        "precondition-failed",
        "The resource changed since it was read",
        "the object changed since you read it",
        {"current_etag": '"4"'},
    ),
    413: (
        "payload-too-large",
        "The request body is too large",
        "a feed may have at most 250000 rows",
        {"limit": 250000},
    ),
    415: (
        "unsupported-feed",
        "The feed's format is not one this service reads",
        "send text/csv, application/json or an XLSX workbook",
        {},
    ),
    422: (
        "invalid-input",
        "A value breaks a rule",
        "DECL_TOTAL 2024: 'abc' is not a number",
        {"errors": [{"field": "value", "row": None, "rule": "value.number"}]},
    ),
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` with a problem-details example for each status (and for
    422, which any request with a malformed parameter can get)."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 422}):
        slug, title, detail, extra = _PROBLEM_EXAMPLES[status]
        example = {
            "type": f"urn:pmm:problem:{slug}",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": "/cycles/0d4f.../submissions/BRA",
            **extra,
        }
        responses[status] = {
            "description": title,
            "content": {PROBLEM_MEDIA_TYPE: {"example": example}},
        }
    return responses
