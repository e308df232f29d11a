"""`pmm-submission`: serve the API, run the migrations."""

from pathlib import Path

import typer
import uvicorn

from pmm_kit.migrations import upgrade
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


def main() -> None:
    cli()
