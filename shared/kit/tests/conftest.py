"""A schema of its own for the kit's tests, and a NATS server each test may stop."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pmm_kit.broker import Broker
from pmm_kit.db import create_engine, create_session_factory
from pmm_kit.tables import messaging_metadata
from pmm_local.servers import EmbeddedNats
from pmm_local.stack import Infrastructure

from .probe import probe_metadata

SCHEMA = "kit_test"


@pytest.fixture(scope="session")
def kit_database_url(infrastructure: Infrastructure) -> str:
    return infrastructure.provision([SCHEMA])[SCHEMA]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def engine(kit_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(kit_database_url, schema=SCHEMA, pool_size=5)
    async with engine.begin() as connection:
        await connection.run_sync(messaging_metadata.create_all)
        await connection.run_sync(probe_metadata.create_all)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("TRUNCATE outbox, inbox, dead_letter, probe_effects")
        )
    return create_session_factory(engine)


@pytest_asyncio.fixture(loop_scope="session")
async def broker(nats_server: EmbeddedNats) -> AsyncIterator[Broker]:
    broker = Broker(nats_server.url, name="kit-test")
    broker.start()
    await asyncio.wait_for(broker.wait_ready(), 10)
    yield broker
    await broker.close()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop()
