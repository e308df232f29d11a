"""`pmm-reporting`: serve the API, run the migrations, rebuild the read models."""

import asyncio
from pathlib import Path

import nats
import typer

from pmm_kit.cli import service_cli
from pmm_kit.db import create_engine, create_session_factory
from pmm_reporting.rebuild import rebuild_read_models
from pmm_reporting.settings import ReportingSettings

cli = service_cli(
    name="reporting",
    settings=ReportingSettings,
    service_dir=Path(__file__).resolve().parents[2],
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
