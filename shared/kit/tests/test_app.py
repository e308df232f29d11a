"""A service built with the kit's app factory, against real PostgreSQL and NATS."""

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from fastapi import APIRouter, Depends
from pydantic import BaseModel, SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit.app import UnitOfWorkDep, create_service_app
from pmm_kit.auth import Principal, Role, mint_token, require_principal, require_role
from pmm_kit.errors import NotFoundError
from pmm_kit.outbox import add_event
from pmm_kit.settings import ServiceSettings
from pmm_kit.tables import outbox
from pmm_local.stack import Infrastructure

from .conftest import SCHEMA
from .probe import ProbeRecorded

pytestmark = pytest.mark.asyncio(loop_scope="session")


class ProbeIn(BaseModel):
    value: int


class NoteIn(BaseModel):
    text: str
    tags: list[str] = []


def probe_router() -> APIRouter:
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(
        principal: Annotated[Principal, Depends(require_principal)],
    ) -> dict[str, str | None]:
        return {"role": principal.role, "member": principal.member}

    @router.post("/probes", status_code=201)
    async def record_probe(
        probe: ProbeIn,
        uow: UnitOfWorkDep,
        principal: Annotated[Principal, Depends(require_role(Role.SECRETARIAT))],
    ) -> dict[str, str]:
        envelope = await add_event(uow.session, ProbeRecorded(value=probe.value))
        await uow.commit()
        return {"event_id": str(envelope.id)}

    @router.post("/notes")
    async def store_note(note: NoteIn, uow: UnitOfWorkDep) -> dict[str, str]:
        # PostgreSQL reads the text, as a handler storing it would make it do.
        read = await uow.session.scalar(sa.select(sa.literal(note.text, sa.Text)))
        return {"text": str(read)}

    @router.get("/words/{word}")
    async def read_word(
        word: str, uow: UnitOfWorkDep, suffix: str = ""
    ) -> dict[str, str]:
        read = await uow.session.scalar(sa.select(sa.literal(word + suffix, sa.Text)))
        return {"word": str(read)}

    @router.get("/missing/{thing}")
    async def missing(thing: str) -> None:
        raise NotFoundError(f"no {thing} here", thing=thing)

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals")

    return router


@pytest.fixture(scope="session")
def settings(infrastructure: Infrastructure, kit_database_url: str) -> ServiceSettings:
    return ServiceSettings(
        service="kit-test",
        schema_name=SCHEMA,
        database_url=SecretStr(kit_database_url),
        nats_url=infrastructure.nats_url,
        jwt_public_key_file=infrastructure.public_key,
        max_request_bytes=1000,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def client(
    settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with _running(settings) as c:
        yield c


@asynccontextmanager
async def _running(settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(
        settings, title="test", description="test", routers=[probe_router()]
    )
    async with app.router.lifespan_context(app):
        await app.state.runtime.broker.wait_ready()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


def token(infrastructure: Infrastructure, role: Role, member: str | None = None) -> str:
    return mint_token(infrastructure.private_key.read_text(), role=role, member=member)


async def test_readyz_checks_the_database_and_nats(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "nats": "ok"},
    }


async def test_readyz_answers_503_when_the_database_is_unreachable(
    settings: ServiceSettings,
) -> None:
    broken = settings.model_copy(
        update={"database_url": SecretStr("postgresql://nobody:x@127.0.0.1:1/none")}
    )
    app = create_service_app(broken, title="t", description="t")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            response = await c.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unreachable")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_render_without_internet_access(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)

    assert response.status_code == 200
    assert assets
    assert all(asset.startswith("/") for asset in assets), assets
    for asset in assets:
        assert (await client.get(asset)).status_code == 200, asset
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "test"


async def test_metrics_expose_request_latency_by_route(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/missing/thing")

    text = (await client.get("/metrics")).text

    assert (
        'pmm_http_request_duration_seconds_count{method="GET",route="/missing/{thing}",'
        'service="kit-test",status="404"}'
    ) in text
    assert 'pmm_outbox_backlog{service="kit-test"}' in text


async def test_a_valid_token_names_the_caller(
    client: httpx.AsyncClient, infrastructure: Infrastructure
) -> None:
    bearer = token(infrastructure, Role.NCP, "BRA")

    response = await client.get(
        "/whoami", headers={"Authorization": f"Bearer {bearer}"}
    )

    assert response.json() == {"role": "ncp", "member": "BRA"}


async def test_an_event_written_by_a_request_carries_its_correlation_id(
    client: httpx.AsyncClient,
    infrastructure: Infrastructure,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers = {
        "Authorization": f"Bearer {token(infrastructure, Role.SECRETARIAT)}",
        "X-Correlation-ID": "corr-http-7",
    }

    response = await client.post("/probes", json={"value": 7}, headers=headers)

    assert response.status_code == 201
    assert response.headers["x-correlation-id"] == "corr-http-7"
    event_id = uuid.UUID(response.json()["event_id"])
    async with sessions() as session:
        row = (await session.execute(sa.select(outbox))).one()
    assert (row.event_id, row.correlation_id) == (event_id, "corr-http-7")


async def test_a_role_that_is_not_allowed_gets_403_and_writes_nothing(
    client: httpx.AsyncClient,
    infrastructure: Infrastructure,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers = {"Authorization": f"Bearer {token(infrastructure, Role.NCP, 'KEN')}"}

    response = await client.post("/probes", json={"value": 7}, headers=headers)

    assert response.status_code == 403
    assert response.json()["type"] == "urn:pmm:problem:forbidden"
    async with sessions() as session:
        assert (await session.execute(sa.select(outbox))).all() == []


async def test_invalid_input_is_a_problem_naming_the_field(
    client: httpx.AsyncClient, infrastructure: Infrastructure
) -> None:
    headers = {"Authorization": f"Bearer {token(infrastructure, Role.SECRETARIAT)}"}

    response = await client.post("/probes", json={"value": "many"}, headers=headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:pmm:problem:validation"
    assert problem["errors"] == [
        {
            "field": "body.value",
            "code": "int_parsing",
            "message": (
                "Input should be a valid integer, unable to parse string as an integer"
            ),
        }
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"value": 7,\n "x": 1,}',
            "the body is not valid JSON at line 2 column 9: Expecting property name"
            " enclosed in double quotes",
        ),
        (
            b'{"value": 7, "note": "caf\xe9"}',
            "the body is not valid JSON: byte 25 (0xe9) is not UTF-8, and JSON is"
            " UTF-8 text",
        ),
    ],
)
async def test_a_body_that_is_not_json_is_a_problem_saying_why(
    client: httpx.AsyncClient,
    infrastructure: Infrastructure,
    sessions: async_sessionmaker[AsyncSession],
    body: bytes,
    message: str,
) -> None:
    headers = {
        "Authorization": f"Bearer {token(infrastructure, Role.SECRETARIAT)}",
        "Content-Type": "application/json",
    }

    response = await client.post("/probes", content=body, headers=headers)

    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:pmm:problem:validation"
    assert problem["errors"] == [
        {"field": "body", "code": "json_invalid", "message": message}
    ]
    async with sessions() as session:
        assert (await session.execute(sa.select(outbox))).all() == []


async def test_a_number_too_long_to_read_is_a_problem_saying_so(
    settings: ServiceSettings,
    infrastructure: Infrastructure,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers = {
        "Authorization": f"Bearer {token(infrastructure, Role.SECRETARIAT)}",
        "Content-Type": "application/json",
    }
    body = '{"value": ' + "9" * 4301 + "}"

    async with _running(settings.model_copy(update={"max_request_bytes": 10_000})) as c:
        response = await c.post("/probes", content=body, headers=headers)

    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:pmm:problem:validation"
    assert problem["errors"] == [
        {
            "field": "body",
            "code": "number_too_long",
            "message": "a number in the body has more than 4300 digits; no field"
            " takes one that long",
        }
    ]
    async with sessions() as session:
        assert (await session.execute(sa.select(outbox))).all() == []


async def test_a_body_nested_too_deep_to_read_is_a_problem_saying_so(
    settings: ServiceSettings, infrastructure: Infrastructure
) -> None:
    headers = {
        "Authorization": f"Bearer {token(infrastructure, Role.SECRETARIAT)}",
        "Content-Type": "application/json",
    }
    body = "[" * 100_000 + "]" * 100_000

    async with _running(
        settings.model_copy(update={"max_request_bytes": 300_000})
    ) as c:
        response = await c.post("/probes", content=body, headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "body",
            "code": "json_too_deep",
            "message": "the body nests arrays or objects deeper than the parser"
            " follows; no request is shaped that deep",
        }
    ]


async def test_a_domain_error_is_rendered_as_problem_details(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/missing/cycle")

    assert response.status_code == 404
    assert response.json() == {
        "type": "urn:pmm:problem:not-found",
        "title": "Not found",
        "status": 404,
        "detail": "no cycle here",
        "instance": "/missing/cycle",
        "thing": "cycle",
    }


async def test_an_unknown_route_is_a_problem_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")

    assert response.status_code == 404
    assert response.json()["type"] == "urn:pmm:problem:not-found"


async def test_an_unexpected_fault_reveals_nothing(
    infrastructure: Infrastructure, settings: ServiceSettings
) -> None:
    app = create_service_app(
        settings, title="t", description="t", routers=[probe_router()]
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        response = await c.get("/crash")

    assert response.status_code == 500
    assert "secret" not in response.text
    assert response.json()["type"] == "urn:pmm:problem:internal"


async def test_a_body_over_the_limit_is_refused_with_413(
    client: httpx.AsyncClient, infrastructure: Infrastructure
) -> None:
    headers = {"Authorization": f"Bearer {token(infrastructure, Role.SECRETARIAT)}"}
    big = '{"value": 1, "padding": "' + "x" * 2000 + '"}'

    declared = await client.post("/probes", content=big, headers=headers)

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b" " * 400

    streamed = await client.post("/probes", content=stream(), headers=headers)

    assert declared.status_code == 413
    assert declared.json()["type"] == "urn:pmm:problem:payload-too-large"
    assert declared.json()["limit"] == 1000
    assert "x-correlation-id" in declared.headers
    assert streamed.status_code == 413
    assert streamed.json()["limit"] == 1000
    metrics = (await client.get("/metrics")).text
    assert 'route="/probes",service="kit-test",status="413"}' in metrics
    assert 'route="/probes",service="kit-test",status="400"}' not in metrics


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (b'{"text": "a\\u0000b"}', "body.text", "text.nul"),
        (b'{"text": "a\\ud800"}', "body.text", "text.surrogate"),
        (b'{"text": "a\xed\xa0\x80"}', "body.text", "text.surrogate"),
        (b'{"text": "ok", "tags": ["a", "\\uDC01"]}', "body.tags.1", "text.surrogate"),
        (b'{"text": "ok", "t\\u0000": 1}', "body.t\\u0000", "text.nul"),
    ],
)
async def test_text_no_service_can_keep_is_refused_naming_field_and_rule(
    client: httpx.AsyncClient, body: bytes, field: str, rule: str
) -> None:
    response = await client.post(
        "/notes", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:pmm:problem:validation"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, rule)]


async def test_escaped_characters_that_are_text_pass(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"text": "\\ud83d\\ude00 \\u00e9 \\\\u0000"}'

    response = await client.post(
        "/notes", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 200
    assert response.json() == {"text": "\U0001f600 \u00e9 \\u0000"}


@pytest.mark.parametrize("content_type", ["text/plain", None])
async def test_a_json_body_under_another_media_type_is_refused_with_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}

    response = await client.post(
        "/notes", content=b'{"text": "hello"}', headers=headers
    )

    assert response.status_code == 415
    problem = response.json()
    assert problem["type"] == "urn:pmm:problem:unsupported-media-type"
    assert problem["expected"] == "application/json"
    assert "Content-Type: application/json" in problem["detail"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/words/a%00b", "path"),
        ("/words/ab?suffix=%00", "query.suffix"),
        ("/words/ab?x%00=1", "query.x\\u0000"),
        ("/nowhere%00", "path"),
    ],
)
async def test_a_nul_in_the_url_is_refused_with_400_naming_where(
    client: httpx.AsyncClient, url: str, field: str
) -> None:
    response = await client.get(url)

    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "urn:pmm:problem:invalid-url"
    assert problem["errors"] == [
        {
            "field": field,
            "code": "text.nul",
            "message": "the text holds a NUL character (U+0000), which cannot be "
            "stored",
        }
    ]
    assert "x-correlation-id" in response.headers


async def test_a_clean_url_reaches_its_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/words/caf%C3%A9?suffix=s")

    assert response.json() == {"word": "cafés"}


async def test_a_query_parameter_unknown_or_given_twice_is_refused_naming_it(
    client: httpx.AsyncClient,
) -> None:
    unknown = await client.get("/words/ab?sufix=s")
    twice = await client.get("/words/ab?suffix=s&suffix=t")
    none_taken = await client.get("/missing/x?verbose=1")
    health = await client.get("/healthz?probe=1")

    assert unknown.status_code == twice.status_code == none_taken.status_code == 422
    assert unknown.json()["errors"] == [
        {
            "field": "query.sufix",
            "code": "query.unknown",
            "message": "'sufix' is not a parameter of this route; it takes suffix",
        }
    ]
    assert twice.json()["errors"] == [
        {
            "field": "query.suffix",
            "code": "query.repeated",
            "message": "'suffix' is given 2 times",
        }
    ]
    assert none_taken.json()["errors"][0]["message"] == (
        "'verbose' is not a parameter of this route, which takes none"
    )
    # Operations routes (probes, metrics) are the platform's, not the API's.
    assert health.status_code == 200
