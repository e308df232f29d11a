"""`pmm-submission`: serve the API, run the migrations."""

import asyncio
from pathlib import Path

import typer

from pmm_kit.cli import service_cli
from pmm_kit.runtime import ServiceRuntime
from pmm_submission.registry import load_registry
from pmm_submission.settings import SubmissionSettings

cli = service_cli(
    name="submission",
    settings=SubmissionSettings,
    service_dir=Path(__file__).resolve().parents[2],
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
