"""The migrations create exactly the tables the models describe."""

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pmm_kit.db import create_engine
from pmm_kit.tables import messaging_metadata
from pmm_scoring.models import Base

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_migrated_schema_matches_the_models(scoring_database: str) -> None:
    engine = create_engine(scoring_database, schema="scoring")

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection)
        found = compare_metadata(context, Base.metadata)
        tables = set(messaging_metadata.tables) | {"alembic_version"}
        return [d for d in found if not _about(d, tables)]

    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(differences)
    finally:
        await engine.dispose()

    assert found == []


def _about(difference: Any, tables: set[str]) -> bool:
    """Whether a difference concerns one of `tables` (kept by the kit)."""
    items = difference if isinstance(difference, list) else [difference]
    for item in items:
        for part in item:
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if name in tables or getattr(table, "name", None) in tables:
                return True
    return False
