"""The scoring tests need the scoring schema only: provision and migrate just that, so
that they do not wait on (or break with) other services' migrations."""

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from pmm_kit.migrations import upgrade
from pmm_local.stack import Infrastructure
from pmm_local.testing import RunningService
from pmm_scoring.main import create_app
from pmm_scoring.settings import ScoringSettings

SERVICE_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def scoring_database(infrastructure: Infrastructure) -> str:
    """The scoring role's database URL, its schema migrated to head."""
    url = (
        os.environ.get("PMM_SCORING_DATABASE_URL")
        or infrastructure.provision(["scoring"])["scoring"]
    )
    upgrade(SERVICE_DIR, database_url=url, schema="scoring")
    return url


@pytest.fixture(scope="module")
def start_scoring(
    infrastructure: Infrastructure, scoring_database: str, isolated_nats: str
) -> Callable[[], AbstractAsyncContextManager[RunningService]]:
    """Like `run_service`, for a service that a whole test module shares; it
    consumes events in-process (no worker needed)."""

    @asynccontextmanager
    async def start() -> AsyncIterator[RunningService]:
        settings = ScoringSettings(
            database_url=SecretStr(scoring_database),
            nats_url=isolated_nats,
            jwt_public_key_file=infrastructure.public_key,
            run_consumers=True,
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
