"""The application factory every service uses: middleware, errors, health, metrics."""

import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import parse_qsl

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request, Response, params
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pmm_kit import metrics
from pmm_kit.auth import TokenVerifier
from pmm_kit.consumers import Subscription
from pmm_kit.db import UnitOfWork
from pmm_kit.errors import (
    InvalidUrlError,
    PayloadTooLargeError,
    ProblemResponse,
    UnsupportedMediaTypeError,
    install_problem_handlers,
)
from pmm_kit.logs import bind_correlation_id, clear_context, configure_logging
from pmm_kit.runtime import ServiceRuntime
from pmm_kit.settings import ServiceSettings
from pmm_kit.text import (
    MESSAGES,
    json_may_hold_faults,
    shown,
    text_fault,
    text_faults,
)

log = structlog.get_logger(__name__)

CORRELATION_ID_HEADER = "x-correlation-id"
_MAX_CORRELATION_ID = 128


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    subscriptions: Sequence[Subscription] = (),
) -> FastAPI:
    configure_logging(
        service=settings.service,
        log_format=settings.resolved_log_format,
        level=settings.log_level,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime(settings, subscriptions=subscriptions)
        app.state.runtime = runtime
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPIOffline(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(check_json_body)],
    )
    app.state.settings = settings
    app.state.token_verifier = TokenVerifier.from_settings(settings)
    install_problem_handlers(app)
    app.include_router(_operations_router())
    for router in routers:
        app.include_router(router, dependencies=[Depends(check_query)])
    # The last added runs first: every answer, a refused body's too, is logged,
    # measured and carries the correlation id.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(UrlTextMiddleware)
    app.add_middleware(RequestContextMiddleware, service=settings.service)
    return app


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """One transaction per request; the use case commits, leaving rolls back."""
    async with runtime_of(request).unit_of_work() as uow:
        yield uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]

JSON_MEDIA_TYPE = "application/json"


async def check_json_body(request: Request) -> None:
    """Every route's dependency, run before the body is validated: a route that
    reads a JSON body refuses another media type (415), and any text in the body
    that no service can keep (422, naming the field and the rule `text.nul` or
    `text.surrogate`), so that neither reaches a handler or the database. A route
    that reads its body itself (a feed) checks it itself."""
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    if body_field is None or isinstance(body_field.field_info, params.Form):
        return
    body = await request.body()
    if not body:
        return

    content_type = request.headers.get("content-type", "")
    if not is_json_media_type(content_type):
        raise UnsupportedMediaTypeError(
            f"this route reads a JSON body: send it with Content-Type: "
            f"{JSON_MEDIA_TYPE}, not '{shown(content_type) or 'none'}'",
            expected=JSON_MEDIA_TYPE,
        )
    if not json_may_hold_faults(body):
        return
    # The framework has parsed the body already (and refused it if it is not
    # JSON); this reads its parsed document again.
    faults = text_faults(await request.json())
    if faults:
        raise RequestValidationError(
            [
                {
                    "type": fault.rule,
                    "loc": ("body", *fault.location),
                    "msg": fault.message,
                    "input": None,
                }
                for fault in faults
            ]
        )


async def check_query(request: Request) -> None:
    """Every service route's dependency: a query parameter the route does not take,
    or one given twice, is refused (422 naming it, `query.unknown` or
    `query.repeated`) rather than ignored. A misspelt `dryRun=true` would otherwise
    apply a feed meant as a trial, and `dry_run=true&dry_run=false` leaves open
    which was meant. No route takes a list in its query."""
    route = request.scope.get("route")
    if not request.query_params or not isinstance(route, APIRoute):
        return
    # A few fields of a few dependencies, walked only when a query is given.
    taken = frozenset(_query_names(route.dependant))
    given = Counter(name for name, _ in request.query_params.multi_items())
    errors = [
        _query_error(name, "query.unknown", _unknown_message(name, taken))
        for name in given
        if name not in taken
    ] + [
        _query_error(name, "query.repeated", f"'{shown(name)}' is given {n} times")
        for name, n in given.items()
        if name in taken and n > 1
    ]
    if errors:
        raise RequestValidationError(errors)


def _query_names(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names


def _unknown_message(name: str, taken: frozenset[str]) -> str:
    if not taken:
        return f"'{shown(name)}' is not a parameter of this route, which takes none"
    return f"'{shown(name)}' is not a parameter of this route; it takes " + ", ".join(
        sorted(taken)
    )


def _query_error(name: str, rule: str, message: str) -> dict[str, Any]:
    return {"type": rule, "loc": ("query", name), "msg": message, "input": None}


def is_json_media_type(content_type: str) -> bool:
    """What the framework parses as JSON: `application/json` or `application/*+json`,
    with any parameters."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == JSON_MEDIA_TYPE or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"description": "A dependency is down"}})
    async def readyz(request: Request) -> JSONResponse:
        """The database and NATS are reachable: the service can do its work."""
        checks = await runtime_of(request).readiness()
        ready = all(state == "ok" for state in checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


class RequestContextMiddleware:
    """Correlation id in and out, one log line and one latency sample per request."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        correlation_id = _incoming_correlation_id(scope) or str(uuid.uuid4())
        clear_context()
        bind_correlation_id(correlation_id)
        status = 500
        started = time.perf_counter()

        async def send_with_header(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append(
                    (CORRELATION_ID_HEADER.encode(), correlation_id.encode())
                )
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            metrics.REQUEST_SECONDS.labels(
                self.service, scope["method"], template, str(status)
            ).observe(elapsed)
            if template not in {"/healthz", "/readyz", "/metrics"}:
                log.info(
                    "http.request",
                    method=scope["method"],
                    route=template,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )


def _incoming_correlation_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name != CORRELATION_ID_HEADER.encode():
            continue
        text: str = value.decode("latin-1")
        if 0 < len(text) <= _MAX_CORRELATION_ID and text.isprintable():
            return text
    return None


class UrlTextMiddleware:
    """Refuse a path or query holding text no service can keep (a NUL from `%00`)
    with a 400 problem naming it, before any route or database sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors = _url_text_errors(scope)
        if not errors:
            await self.app(scope, receive, send)
            return

        error = InvalidUrlError(
            "the URL holds text that no resource can be named by; see `errors`",
            errors=errors,
        )
        path = shown(scope["path"])
        response = ProblemResponse(error.to_problem(path), status_code=error.status)
        await response(scope, receive, send)


def _url_text_errors(scope: Scope) -> list[dict[str, str]]:
    errors = []
    rule = text_fault(scope["path"])
    if rule is not None:
        errors.append({"field": "path", "code": rule, "message": MESSAGES[rule]})
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        rule = text_fault(name) or text_fault(value)
        if rule is not None:
            field = f"query.{shown(name)}"
            errors.append({"field": field, "code": rule, "message": MESSAGES[rule]})
    return errors


class BodySizeLimitMiddleware:
    """Refuse a body over the limit, declared or streamed, before a handler reads it."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.max_bytes
        ):
            await self._refuse(scope, receive, send)
            return

        received = 0
        too_large = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                too_large = True
                raise PayloadTooLargeError(self._detail(), limit=self.max_bytes)
            return message

        async def send_or_refuse(message: Message) -> None:
            # The framework may turn our exception into another answer (a 400 for
            # an unreadable body); the caller must hear the real reason.
            if not too_large:
                await send(message)
                return
            if message["type"] == "http.response.start":
                await self._refuse(scope, receive, send)

        await self.app(scope, counting_receive, send_or_refuse)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLargeError(self._detail(), limit=self.max_bytes)
        response = ProblemResponse(error.to_problem(scope["path"]), status_code=413)
        await response(scope, receive, send)

    def _detail(self) -> str:
        return f"the body may not exceed {self.max_bytes} bytes"
