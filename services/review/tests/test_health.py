"""The review service starts on its migrated schema and reports itself ready."""

import pytest

from pmm_local.testing import ServiceStarter
from pmm_review.main import create_app
from pmm_review.settings import ReviewSettings

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_service_is_ready_and_documents_itself(
    run_service: ServiceStarter, review_database: str, isolated_nats: str
) -> None:
    service = run_service(create_app, ReviewSettings, review_database, isolated_nats)

    async with service as s:
        ready = await s.client.get("/readyz")
        openapi = await s.client.get("/openapi.json")

    assert ready.json()["checks"] == {"database": "ok", "nats": "ok"}
    assert openapi.json()["info"]["title"] == "PMM review service"
