"""Errors as RFC 9457 problem details (`application/problem+json`).

Each service has one base error deriving from `ProblemError`, with thin subclasses that
carry their HTTP status and a stable `type`. Domain code raises those; one handler here
renders them. Nothing else ever reaches a client, not even an unexpected fault's text.
"""

import sys
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pmm_kit.exact_json import RepeatedKeyError
from pmm_kit.text import shown

log = structlog.get_logger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:pmm:problem:"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


class ProblemError(Exception):
    """An error that has a place in the API: a status, a stable type and a title."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "The request cannot be carried out"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    def to_problem(self, instance: str) -> dict[str, Any]:
        return problem(
            status=self.status,
            slug=self.slug,
            title=self.title,
            detail=self.detail,
            instance=instance,
            **self.extensions,
        )


class NotFoundError(ProblemError):
    status = 404
    slug = "not-found"
    title = "Not found"


class ConflictError(ProblemError):
    status = 409
    slug = "conflict"
    title = "The request conflicts with the current state"


class PreconditionFailedError(ProblemError):
    status = 412
    slug = "precondition-failed"
    title = "The resource changed since it was read"


class UnauthorizedError(ProblemError):
    status = 401
    slug = "unauthorized"
    title = "Authentication is required"


class ForbiddenError(ProblemError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class PayloadTooLargeError(ProblemError):
    status = 413
    slug = "payload-too-large"
    title = "The request body is too large"


class UnsupportedMediaTypeError(ProblemError):
    status = 415
    slug = "unsupported-media-type"
    title = "The body's media type is not one this route reads"


class InvalidUrlError(ProblemError):
    """A path or query that holds text no service can read (see `pmm_kit.text`)."""

    status = 400
    slug = "invalid-url"
    title = "The URL holds text that no resource can be named by"


def problem(
    *, status: int, slug: str, title: str, detail: str, instance: str, **extra: Any
) -> dict[str, Any]:
    return {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }


def validation_errors(errors: Sequence[Any], body: Any = None) -> list[dict[str, Any]]:
    """Pydantic's errors as `{field, code, message}`, never echoing the input.
    `body` is the request's text when the framework could not parse it."""
    return [
        _json_error(error, body)
        if error["type"] == "json_invalid"
        else {
            "field": ".".join(str(part) for part in error["loc"]),
            "code": error["type"],
            "message": _message(error),
        }
        for error in errors
    ]


def _message(error: dict[str, Any]) -> str:
    # Pydantic puts "Value error, " before what a validator raised: the reader
    # gets the validator's own sentence.
    raised = error.get("ctx", {}).get("error")
    if error["type"] == "value_error" and raised is not None:
        return str(raised)
    return str(error["msg"])


def _json_error(error: dict[str, Any], body: Any) -> dict[str, Any]:
    # The framework names the parser's position as if it were a field
    # ("body.10") and its message is only "JSON decode error": the reason is in
    # the context, and the position reads better as a line and column.
    reason = error.get("ctx", {}).get("error") or error["msg"]
    position = error["loc"][-1]
    where = ""
    if isinstance(position, int) and isinstance(body, str):
        line = body.count("\n", 0, position) + 1
        column = position - body.rfind("\n", 0, position)
        where = f" at line {line} column {column}"
    return {
        "field": "body",
        "code": "json_invalid",
        "message": f"the body is not valid JSON{where}: {reason}",
    }


def unreadable_body_error(cause: BaseException | None) -> dict[str, Any] | None:
    """Why a body that the framework refused with a bare 400 could not be read,
    as a validation error; None when the cause is not one a client can fix."""
    if isinstance(cause, UnicodeDecodeError):
        byte = cause.object[cause.start]
        return {
            "field": "body",
            "code": "json_invalid",
            "message": f"the body is not valid JSON: byte {cause.start} (0x{byte:02x})"
            f" is not {cause.encoding.upper()}, and JSON is UTF-8 text",
        }
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        limit = sys.get_int_max_str_digits()
        return {
            "field": "body",
            "code": "number_too_long",
            "message": f"a number in the body has more than {limit} digits;"
            " no field takes one that long",
        }
    if isinstance(cause, RepeatedKeyError):
        return {
            "field": ".".join(str(part) for part in ("body", *cause.path)),
            "code": "json_duplicate_key",
            "message": f"'{shown(str(cause.path[-1]))}' is given twice in one object;"
            " JSON leaves open which is meant",
        }
    if isinstance(cause, RecursionError):
        return {
            "field": "body",
            "code": "json_too_deep",
            "message": "the body nests arrays or objects deeper than the parser"
            " follows; no request is shaped that deep",
        }
    return None


async def _on_problem(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, ProblemError)
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return ProblemResponse(
        error.to_problem(request.url.path), status_code=error.status, headers=headers
    )


async def _on_validation(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, RequestValidationError)
    return _validation_problem(request, validation_errors(error.errors(), error.body))


def _validation_problem(
    request: Request, errors: list[dict[str, Any]]
) -> ProblemResponse:
    body = problem(
        status=422,
        slug="validation",
        title="The request is not valid",
        detail="One or more fields are not valid; see `errors`.",
        instance=request.url.path,
        errors=errors,
    )
    return ProblemResponse(body, status_code=422)


async def _on_http(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, StarletteHTTPException)
    # The framework answers a body it cannot parse with a bare 400 "There was an
    # error parsing the body", the reason left in the chained exception.
    unreadable = unreadable_body_error(error.__cause__)
    if error.status_code == 400 and unreadable is not None:
        return _validation_problem(request, [unreadable])
    phrase = HTTPStatus(error.status_code).phrase
    body = problem(
        status=error.status_code,
        slug=phrase.lower().replace(" ", "-"),
        title=phrase,
        detail=str(error.detail),
        instance=request.url.path,
    )
    return ProblemResponse(body, status_code=error.status_code, headers=error.headers)


async def _on_unexpected(request: Request, error: Exception) -> ProblemResponse:
    log.exception("http.request.crashed", path=request.url.path)
    body = problem(
        status=500,
        slug="internal",
        title="Internal error",
        detail="The service could not answer; the error was logged.",
        instance=request.url.path,
    )
    return ProblemResponse(body, status_code=500)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
