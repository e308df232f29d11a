"""The migrations create exactly the tables the models describe."""

import pytest

from pmm_local.testing import schema_differences
from pmm_review.models import Base

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_migrated_schema_matches_the_models(
    service_databases: dict[str, str],
) -> None:
    found = await schema_differences(
        service_databases["review"], "review", Base.metadata
    )

    assert found == []
