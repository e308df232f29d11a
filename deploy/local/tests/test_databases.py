"""Each service gets a role and a schema of its own, and nothing of the others'."""

import asyncio
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from pmm_kit.migrations import alembic_config
from pmm_local.services import SERVICES
from pmm_local.stack import Infrastructure, prepare_databases

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
def database_urls(infrastructure: Infrastructure) -> dict[str, str]:
    return prepare_databases(infrastructure)


def head_revision(service_dir: Path) -> str | None:
    config = alembic_config(service_dir, database_url="", schema="")
    return ScriptDirectory.from_config(config).get_current_head()


def plain(url: str) -> str:
    return make_url(url).render_as_string(hide_password=False)


async def test_each_service_is_migrated_into_its_own_schema(
    infrastructure: Infrastructure, database_urls: dict[str, str]
) -> None:
    connection = await asyncpg.connect(plain(infrastructure.admin_url))
    try:
        rows = await connection.fetch(
            "SELECT table_schema, table_name, tableowner FROM information_schema.tables"
            " JOIN pg_tables ON schemaname = table_schema AND tablename = table_name"
            " WHERE table_schema = ANY($1::text[]) ORDER BY 1, 2",
            [service.schema for service in SERVICES],
        )
        versions = {
            service.schema: await connection.fetchval(
                f"SELECT version_num FROM {service.schema}.alembic_version"
            )
            for service in SERVICES
        }
    finally:
        await connection.close()

    tables = {
        (row["table_schema"], row["table_name"]): row["tableowner"] for row in rows
    }
    for service in SERVICES:
        for table in ("alembic_version", "dead_letter", "inbox", "outbox"):
            assert tables[(service.schema, table)] == f"pmm_{service.schema}"
    assert versions == {
        service.schema: head_revision(service.service_dir) for service in SERVICES
    }
    assert all(version is not None for version in versions.values())


async def test_migrating_again_changes_nothing(
    infrastructure: Infrastructure, database_urls: dict[str, str]
) -> None:
    assert await asyncio.to_thread(prepare_databases, infrastructure) == database_urls


async def test_the_scoring_role_cannot_read_the_submission_schema(
    database_urls: dict[str, str],
) -> None:
    scoring = await asyncpg.connect(plain(database_urls["scoring"]))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await scoring.fetch("SELECT * FROM submission.outbox")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await scoring.execute("CREATE TABLE submission.stolen (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await scoring.execute("CREATE TABLE public.shared (id int)")
        own = await scoring.fetchval("SELECT count(*) FROM scoring.outbox")
    finally:
        await scoring.close()

    # Other tests may have left events there: what matters is that it can read it.
    assert isinstance(own, int)


async def test_a_service_role_is_not_privileged(database_urls: dict[str, str]) -> None:
    review = await asyncpg.connect(plain(database_urls["review"]))
    try:
        flags = await review.fetchrow(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls"
            " FROM pg_roles WHERE rolname = current_user"
        )
    finally:
        await review.close()

    assert tuple(flags) == (False, False, False, False)
