"""`pmm-scoring`: serve the API, run the workers, run the migrations."""

import asyncio
import gc
from pathlib import Path

from pmm_kit.cli import service_cli
from pmm_kit.worker import run_worker
from pmm_scoring.consumers import subscriptions
from pmm_scoring.frameworks import known_frameworks
from pmm_scoring.settings import ScoringSettings

# Container allocations between two collections of the youngest generation (Python's
# default is 700): an assessment makes thousands, all freed by reference counting.
YOUNG_COLLECTION_THRESHOLD = 10_000

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
    prepare_worker_process()
    asyncio.run(run_worker(settings, subscriptions(settings)))


def prepare_worker_process() -> None:
    """Load the frameworks, then keep what lives as long as the process out of the
    garbage collector's way.

    The modules, the frameworks and their caches are some 130,000 objects: each full
    collection walked them all again, a pause of 50 to 100 ms every hundred or so
    submissions, which was the worker's slowest latency and a tenth of its time.
    Frozen, they are never walked again.
    """
    known_frameworks()
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)


def main() -> None:
    cli()
