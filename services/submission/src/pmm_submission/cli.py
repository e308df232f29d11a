"""`pmm-submission`: serve the API, run the migrations."""

import asyncio
from pathlib import Path

import typer
import uvicorn

from pmm_kit.migrations import upgrade
from pmm_kit.runtime import ServiceRuntime
from pmm_submission.registry import load_registry
from pmm_submission.settings import SubmissionSettings

SERVICE_DIR = Path(__file__).resolve().parents[2]

cli = typer.Typer(help="The PMM submission service.", no_args_is_help=True)


@cli.command()
def serve() -> None:
    """Serve the HTTP API (with the outbox relay and the event consumers)."""
    settings = SubmissionSettings()
    uvicorn.run(
        "pmm_submission.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        server_header=False,
    )


@cli.command()
def migrate() -> None:
    """Bring the service's schema to the newest revision."""
    settings = SubmissionSettings()
    upgrade(
        SERVICE_DIR,
        database_url=settings.database_url.get_secret_value(),
        schema=settings.schema_name,
    )


@cli.command("load-members")
def load_members() -> None:
    """Register the shipped WCO members missing from the schema (idempotent)."""
    settings = SubmissionSettings()

    async def load() -> int:
        runtime = ServiceRuntime(settings)
        try:
            async with runtime.unit_of_work() as uow:
                added = await load_registry(uow.session)
                await uow.commit()
            return added
        finally:
            await runtime.engine.dispose()

    added = asyncio.run(load())
    typer.echo(f"{added} member(s) registered")


def main() -> None:
    cli()
