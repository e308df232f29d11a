"""`pmm-reporting`: serve the API, run the migrations, rebuild the read models."""

import asyncio
from pathlib import Path

import nats
import typer
import uvicorn

from pmm_kit.db import create_engine, create_session_factory
from pmm_kit.migrations import upgrade
from pmm_reporting.rebuild import rebuild_read_models
from pmm_reporting.settings import ReportingSettings

SERVICE_DIR = Path(__file__).resolve().parents[2]

cli = typer.Typer(help="The PMM reporting service.", no_args_is_help=True)


@cli.command()
def serve() -> None:
    """Serve the HTTP API (with the outbox relay and the event consumers)."""
    settings = ReportingSettings()
    uvicorn.run(
        "pmm_reporting.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        server_header=False,
    )


@cli.command()
def migrate() -> None:
    """Bring the service's schema to the newest revision."""
    settings = ReportingSettings()
    upgrade(
        SERVICE_DIR,
        database_url=settings.database_url.get_secret_value(),
        schema=settings.schema_name,
    )


@cli.command()
def rebuild() -> None:
    """Empty the read models and rebuild them by replaying the event stream."""
    applied = asyncio.run(_rebuild(ReportingSettings()))
    typer.echo(f"read models rebuilt from {applied} events")


async def _rebuild(settings: ReportingSettings) -> int:
    engine = create_engine(
        settings.database_url.get_secret_value(), schema=settings.schema_name
    )
    client = await nats.connect(settings.nats_url, connect_timeout=5)
    try:
        sessions = create_session_factory(engine)
        return await rebuild_read_models(sessions, client.jetstream(timeout=10))
    finally:
        await client.drain()
        await engine.dispose()


def main() -> None:
    cli()
