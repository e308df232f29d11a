"""The review tests need the review schema only: provision and migrate just that, so
that they neither wait on nor break with the other services' migrations."""

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pmm_kit.migrations import upgrade
from pmm_local.stack import Infrastructure
from pmm_local.testing import RunningService, ServiceStarter, truncate_schema
from pmm_review.main import create_app
from pmm_review.settings import ReviewSettings

SERVICE_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def review_database(infrastructure: Infrastructure) -> str:
    """The review role's database URL, its schema migrated to head."""
    url = (
        os.environ.get("PMM_REVIEW_DATABASE_URL")
        or infrastructure.provision(["review"])["review"]
    )
    upgrade(SERVICE_DIR, database_url=url, schema="review")
    return url


@pytest.fixture
async def review_service(
    run_service: ServiceStarter, review_database: str, isolated_nats: str
) -> AsyncIterator[RunningService]:
    """The review service on a clean schema and the test module's own NATS."""
    # A connection left in a transaction would make TRUNCATE wait for ever: fail
    # loudly instead.
    async with asyncio.timeout(60):
        await truncate_schema(review_database, "review")
    async with run_service(
        create_app, ReviewSettings, review_database, isolated_nats
    ) as service:
        yield service
