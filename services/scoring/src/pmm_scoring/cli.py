"""`pmm-scoring`: serve the API, run the workers, run the migrations."""

import asyncio
from pathlib import Path

from pmm_kit.cli import service_cli
from pmm_kit.worker import run_worker
from pmm_scoring.consumers import subscriptions
from pmm_scoring.settings import ScoringSettings

cli = service_cli(
    name="scoring",
    settings=ScoringSettings,
    service_dir=Path(__file__).resolve().parents[2],
    serves="with the outbox relay; workers compute the scores",
)


@cli.command()
def worker() -> None:
    """Compute scores from submission events; run as many as the load needs."""
    settings = ScoringSettings(run_consumers=True)
    asyncio.run(run_worker(settings, subscriptions(settings)))


def main() -> None:
    cli()
