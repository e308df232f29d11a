"""A pytest plugin: real PostgreSQL and NATS for the test session, and services on them.

Embedded servers in a temporary folder, unless `DATABASE_URL` and `NATS_URL` name
running ones (the URL must be an administrator's: the tests create roles and schemas).
Loaded by the workspace's root `conftest.py`.

A service's tests typically use:

- `service_databases`: every service's schema, provisioned and migrated once;
- `isolated_nats`: a NATS server of the test module's own, so that events of other
  modules' tests never reach its consumers;
- `run_service(...)`: the service's app with its lifespan running (relay, consumers),
  and an httpx client bound to it, plus `token(...)` headers for any role;
- `truncate_schema(...)`: a clean schema before a test;
- `schema_differences(...)`: whether the migrations build what the models describe.
"""

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import MetaData
from sqlalchemy.engine import make_url

from pmm_kit.auth import Role, mint_token
from pmm_kit.db import create_engine
from pmm_kit.runtime import ServiceRuntime
from pmm_kit.settings import ServiceSettings
from pmm_kit.tables import messaging_metadata
from pmm_local.servers import EmbeddedNats
from pmm_local.stack import Infrastructure, prepare_databases


@pytest.fixture(scope="session")
def infrastructure(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Infrastructure]:
    home = tmp_path_factory.mktemp("pmm-home")
    started = Infrastructure(Path(home)).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def service_databases(infrastructure: Infrastructure) -> dict[str, str]:
    """Each service's database URL (its own role), schema migrated to head."""
    return prepare_databases(infrastructure)


@pytest.fixture(scope="module")
def isolated_nats(
    tmp_path_factory: pytest.TempPathFactory, infrastructure: Infrastructure
) -> Iterator[str]:
    """A NATS server for this test module alone (the shared one if NATS_URL is set)."""
    if infrastructure.nats is None:
        yield infrastructure.nats_url
        return
    server = EmbeddedNats(Path(tmp_path_factory.mktemp("nats"))).start()
    try:
        yield server.url
    finally:
        server.stop()


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient
    settings: ServiceSettings
    private_key: str

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime

    def token(
        self, role: Role | str, member: str | None = None, subject: str | None = None
    ) -> dict[str, str]:
        """`Authorization` headers for a caller with this role (and member)."""
        bearer = mint_token(
            self.private_key, role=Role(role), member=member, subject=subject
        )
        return {"Authorization": f"Bearer {bearer}"}


ServiceStarter = Callable[..., Any]


@pytest.fixture
def run_service(infrastructure: Infrastructure) -> ServiceStarter:
    """`async with run_service(create_app, Settings, url, nats_url, **overrides)`."""

    @asynccontextmanager
    async def start(
        create_app: Callable[[Any], FastAPI],
        settings_class: type[ServiceSettings],
        database_url: str,
        nats_url: str,
        **overrides: Any,
    ) -> AsyncIterator[RunningService]:
        settings = settings_class(
            database_url=SecretStr(database_url),
            nats_url=nats_url,
            jwt_public_key_file=infrastructure.public_key,
            **overrides,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await app.state.runtime.broker.wait_ready()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                yield RunningService(
                    app, client, settings, infrastructure.private_key.read_text()
                )

    return start


async def truncate_schema(database_url: str, schema: str) -> None:
    """Empty every table of the schema but Alembic's version table."""
    connection = await asyncpg.connect(
        make_url(database_url).render_as_string(hide_password=False)
    )
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1"
            " AND tablename <> 'alembic_version'",
            schema,
        )
        if tables:
            names = ", ".join(f'{schema}."{row["tablename"]}"' for row in tables)
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


async def schema_differences(
    database_url: str, schema: str, metadata: MetaData
) -> list[Any]:
    """What Alembic's autogenerate finds between the migrated schema and the
    models, leaving out the tables the kit keeps (outbox, inbox, dead letters)."""
    engine = create_engine(database_url, schema=schema)
    kept_by_the_kit = set(messaging_metadata.tables) | {"alembic_version"}

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection)
        found = compare_metadata(context, metadata)
        return [d for d in found if not _concerns(d, kept_by_the_kit)]

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(differences)
    finally:
        await engine.dispose()


def _concerns(difference: Any, tables: set[str]) -> bool:
    items = difference if isinstance(difference, list) else [difference]
    for item in items:
        for part in item:
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if name in tables or getattr(table, "name", None) in tables:
                return True
    return False
