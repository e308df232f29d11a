"""Alembic for one service: its version table lives inside its own schema.

Each service's `migrations/env.py` calls `run_migrations(metadata)`; `upgrade()` runs
them from code (the local stack, tests, the `migrate` command).
"""

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy.engine import Connection

from pmm_kit.db import create_engine
from pmm_kit.tables import messaging_metadata

VERSION_TABLE = "alembic_version"


def alembic_config(service_dir: Path, *, database_url: str, schema: str) -> Config:
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["schema"] = schema
    return config


def upgrade(service_dir: Path, *, database_url: str, schema: str) -> None:
    """Bring the service's schema to the newest revision (blocking)."""
    command.upgrade(
        alembic_config(service_dir, database_url=database_url, schema=schema), "head"
    )


def run_migrations(target_metadata: sa.MetaData | list[sa.MetaData]) -> None:
    """The body of every service's `env.py` (online mode only: we never emit SQL)."""
    config = context.config
    database_url: str = config.attributes["database_url"]
    schema: str = config.attributes["schema"]

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=VERSION_TABLE,
            version_table_schema=schema,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_engine(database_url, schema=schema, pool_size=1)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(migrate)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run())


def create_messaging_tables() -> None:
    """Create the outbox, inbox and dead-letter tables (the first revision of each
    service). A later change to them is a new revision in every service."""
    bind = op.get_bind()
    for table in messaging_metadata.sorted_tables:
        table.create(bind)


def drop_messaging_tables() -> None:
    bind = op.get_bind()
    for table in reversed(messaging_metadata.sorted_tables):
        table.drop(bind)
