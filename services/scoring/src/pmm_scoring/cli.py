"""`pmm-scoring`: serve the API, run the workers, run the migrations."""

import asyncio
from pathlib import Path

import typer
import uvicorn

from pmm_kit.migrations import upgrade
from pmm_kit.worker import run_worker
from pmm_scoring.consumers import subscriptions
from pmm_scoring.settings import ScoringSettings

SERVICE_DIR = Path(__file__).resolve().parents[2]

cli = typer.Typer(help="The PMM scoring service.", no_args_is_help=True)


@cli.command()
def serve() -> None:
    """Serve the HTTP API (with the outbox relay; workers compute the scores)."""
    settings = ScoringSettings()
    uvicorn.run(
        "pmm_scoring.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        server_header=False,
    )


@cli.command()
def migrate() -> None:
    """Bring the service's schema to the newest revision."""
    settings = ScoringSettings()
    upgrade(
        SERVICE_DIR,
        database_url=settings.database_url.get_secret_value(),
        schema=settings.schema_name,
    )


@cli.command()
def worker() -> None:
    """Compute scores from submission events; run as many as the load needs."""
    settings = ScoringSettings(run_consumers=True)
    asyncio.run(run_worker(settings, subscriptions(settings)))


def main() -> None:
    cli()
