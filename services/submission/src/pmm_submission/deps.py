"""Request plumbing: callers, member scoping, API keys, ETags, problem examples."""

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Header

from pmm_kit.app import UnitOfWorkDep
from pmm_kit.auth import Principal, Role, optional_principal, require_principal
from pmm_kit.errors import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    PayloadTooLargeError,
    ProblemError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
)
from pmm_submission.errors import (
    FeedFailedError,
    FeedRejectedError,
    FeedTooLargeError,
    IdempotencyConflictError,
    IncompleteError,
    InvalidInputError,
    NotAllowedError,
    StaleError,
    StateError,
    UnknownError,
    UnreadableFeedError,
    UnsupportedFeedError,
)
from pmm_submission.models import ApiKey

API_KEY_HEADER = "X-Api-Key"


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
    """RFC 9110's If-Match: a list of ETags, one of which must be the current one
    by strong comparison (a weak `W/"3"` never matches), or `*`, which any existing
    object matches. Without the header the write goes ahead."""
    if if_match is None:
        return

    listed = {tag.strip() for tag in if_match.split(",")}
    if "*" in listed or etag(version) in listed:
        return
    raise StaleError("the object changed since you read it", current_etag=etag(version))


def etag(version: int) -> str:
    return f'"{version}"'


IfMatch = Annotated[
    str | None,
    Header(
        description="The ETag read before (a list of them, or `*`, as RFC 9110 "
        "allows; a weak `W/` tag never matches); 412 when none is current. "
        "Without it the write goes ahead."
    ),
]


def now() -> datetime:
    return datetime.now(UTC)


_INSTANCE = "/cycles/0d4f5e6a-7b8c-4d9e-8f01-23456789abcd/submissions/BRA"


def _example(error: type[ProblemError], detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": PROBLEM_TYPE_BASE + error.slug,
        "title": error.title,
        "status": error.status,
        "detail": detail,
        "instance": _INSTANCE,
        **extra,
    }


_REJECTED_FEED = {
    "feed_id": "5b0c4f3e-2a1d-4c6b-9e8f-7a6b5c4d3e2f",
    "dry_run": False,
    "mode": "merge",
    "partial": False,
    "applied": False,
    "rows_total": 2,
    "rows_accepted": 1,
    "rows_rejected": 1,
    "counts": {"create": 1, "update": 0, "unchanged": 0, "remove": 0},
    "diff": [],
    "diff_truncated": False,
    "rejected": [
        {
            "row": 3,
            "column": "year",
            "rule": "year.not_calendar",
            "message": "'FY2023/24' is not a calendar year: a fiscal or part-year "
            "figure is not placed in one",
        }
    ],
    "findings": [],
}

# Every problem the service answers, by the name its routes document it under.
PROBLEM_EXAMPLES: dict[str, dict[str, Any]] = {
    "unauthorized": _example(UnauthorizedError, "a bearer token is required"),
    "forbidden": _example(NotAllowedError, "this needs the role ncp"),
    "not-found": _example(UnknownError, "no member FRA here"),
    "invalid-state": _example(
        StateError,
        "the submission is submitted; only draft or returned ones change",
        state="submitted",
    ),
    "idempotency-key-reused": _example(
        IdempotencyConflictError,
        "this Idempotency-Key was used with another request",
        feed_id="5b0c4f3e-2a1d-4c6b-9e8f-7a6b5c4d3e2f",
    ),
    "feed-failed": _example(
        FeedFailedError,
        "the feed sent with this Idempotency-Key failed and applied nothing; send it"
        " again with a new key",
        feed_id="5b0c4f3e-2a1d-4c6b-9e8f-7a6b5c4d3e2f",
    ),
    "precondition-failed": _example(
        StaleError, "the object changed since you read it", current_etag='"4"'
    ),
    "body-too-large": _example(
        PayloadTooLargeError, "the body may not exceed 10485760 bytes", limit=10485760
    ),
    "feed-too-large": _example(
        FeedTooLargeError,
        "a feed may have at most 250000 rows",
        limit=250000,
        rows=250001,
    ),
    "unsupported-media-type": _example(
        UnsupportedMediaTypeError,
        "this route reads a JSON body: send it with Content-Type: application/json,"
        " not 'text/plain'",
        expected="application/json",
    ),
    "unreadable-feed": _example(
        UnreadableFeedError,
        'the JSON body is nested deeper than any feed is: a feed is {"rows": '
        "[{...}, ...]}",
        errors=[{"row": None, "column": None, "rule": "json.depth"}],
    ),
    "unsupported-feed": _example(
        UnsupportedFeedError,
        "'text/plain' is not a feed format: send text/csv, application/json or an"
        " XLSX workbook",
    ),
    "invalid-input": _example(
        InvalidInputError,
        "1 value(s) break a rule; nothing was written",
        errors=[
            {
                "row": 0,
                "field": "value",
                "data_element": "DECL_TOTAL",
                "year": 2024,
                "rule": "value.number",
                "message": "'abc' is not a number",
            }
        ],
    ),
    "validation": {
        "type": PROBLEM_TYPE_BASE + "validation",
        "title": "The request is not valid",
        "status": 422,
        "detail": "One or more fields are not valid; see `errors`.",
        "instance": _INSTANCE,
        "errors": [
            {
                "field": "body.actor",
                "code": "extra_forbidden",
                "message": "Extra inputs are not permitted",
            }
        ],
    },
    "submission-incomplete": _example(
        IncompleteError,
        "1 blocking finding(s)",
        findings=[
            {
                "rule": "completeness.missing",
                "severity": "error",
                "element": "DECL_TOTAL",
                "year": 2024,
                "kpi": None,
                "message": "no value or state given; read by TF.1.1",
            }
        ],
    ),
    "feed-rejected": _example(
        FeedRejectedError, "1 row(s) rejected; nothing was applied", **_REJECTED_FEED
    ),
}

# What any request with a body may get besides its route's own problems.
BODY_PROBLEMS = ("validation", "body-too-large", "unsupported-media-type")


def problems(*names: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` with one example per problem the route can answer, by
    its name in `PROBLEM_EXAMPLES`, grouped by HTTP status."""
    responses: dict[int | str, dict[str, Any]] = {}
    for name in dict.fromkeys(names):
        example = PROBLEM_EXAMPLES[name]
        response = responses.setdefault(
            example["status"],
            {"description": example["title"], "content": {PROBLEM_MEDIA_TYPE: {}}},
        )
        examples = response["content"][PROBLEM_MEDIA_TYPE].setdefault("examples", {})
        examples[name] = {"summary": example["title"], "value": example}
    return dict(sorted(responses.items(), key=lambda item: str(item[0])))
