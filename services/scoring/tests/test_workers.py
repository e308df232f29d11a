"""`pmm-scoring worker` processes share one work queue: every submitted revision is
computed exactly once, whatever the number of workers and even if one is killed."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import nats
import pytest
import pytest_asyncio
from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit.broker import ensure_stream
from pmm_kit.db import create_engine, create_session_factory
from pmm_local.testing import truncate_schema
from pmm_scoring.consumers import SUBMISSIONS_CONSUMER

from .helpers import calculations_stored, eventually, publish, scalar, submitted

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.slow]

EVENTS = 120
WORKER = Path(sys.executable).parent / "pmm-scoring"

StartWorker = Callable[[str], subprocess.Popen[bytes]]


@pytest.fixture
def start_worker(
    scoring_database: str, isolated_nats: str, tmp_path: Path
) -> Iterator[StartWorker]:
    """Start a real worker process; its log goes to `tmp_path/<name>.log`."""
    started: list[subprocess.Popen[bytes]] = []
    environment = {
        **os.environ,
        "DATABASE_URL": scoring_database,
        "NATS_URL": isolated_nats,
        "PMM_LOG_FORMAT": "json",
        # A killed worker's messages go to another one after this long.
        "PMM_SCORING_ACK_WAIT_SECONDS": "5",
    }

    def start(name: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [str(WORKER), "worker"],
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(
    scoring_database: str,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await truncate_schema(scoring_database, "scoring")
    engine = create_engine(scoring_database, schema="scoring", pool_size=2)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def jetstream(isolated_nats: str) -> AsyncIterator[JetStreamContext]:
    client: Client = await nats.connect(isolated_nats)
    jetstream = client.jetstream()
    await ensure_stream(jetstream)
    yield jetstream
    await client.drain()


def _member(number: int) -> str:
    return "Q" + chr(65 + number // 26 % 26) + chr(65 + number % 26)


async def _publish_revisions(jetstream: JetStreamContext, count: int) -> None:
    for number in range(count):
        await publish(
            jetstream,
            submitted(
                member=_member(number),
                cycle_id="cycle-workers",
                changes={"DECL_TOTAL": str(200000 + number)},
            ),
        )


async def _workers_waiting(jetstream: JetStreamContext, count: int) -> None:
    """Every worker is pulling from the shared consumer."""

    async def waiting() -> bool:
        try:
            info = await jetstream.consumer_info("PMM", SUBMISSIONS_CONSUMER)
        except nats.js.errors.NotFoundError:
            return False
        return (info.num_waiting or 0) >= count

    await eventually(waiting, within=60)


async def _all_acknowledged(jetstream: JetStreamContext) -> None:
    async def drained() -> bool:
        info = await jetstream.consumer_info("PMM", SUBMISSIONS_CONSUMER)
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    await eventually(drained, within=60)


async def _computed_once_each(
    sessions: async_sessionmaker[AsyncSession], count: int
) -> None:
    calculations = await scalar(sessions, "SELECT count(*) FROM calculation")
    distinct = await scalar(
        sessions,
        "SELECT count(DISTINCT (submission_id, revision)) FROM calculation",
    )
    events = await scalar(
        sessions,
        "SELECT count(*) FROM outbox WHERE subject = 'pmm.scoring.scores.computed.v1'",
    )
    dead_letters = await scalar(sessions, "SELECT count(*) FROM dead_letter")
    assert (calculations, distinct, events, dead_letters) == (count, count, count, 0)


def _computed_by(log: Path) -> int:
    lines = log.read_text().splitlines()
    return sum(
        1
        for line in lines
        if line.startswith("{") and json.loads(line).get("event") == "scores.computed"
    )


async def test_two_workers_compute_every_event_exactly_once(
    start_worker: StartWorker,
    sessions: async_sessionmaker[AsyncSession],
    jetstream: JetStreamContext,
    tmp_path: Path,
) -> None:
    workers = [start_worker("first"), start_worker("second")]
    await _workers_waiting(jetstream, 2)

    await _publish_revisions(jetstream, EVENTS)
    await calculations_stored(sessions, EVENTS, within=90)
    await _all_acknowledged(jetstream)
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
        await asyncio.to_thread(worker.wait, 15)

    await _computed_once_each(sessions, EVENTS)
    shares = [_computed_by(tmp_path / f"{name}.log") for name in ("first", "second")]
    # Log lines only show that both took part; the rows above prove exactly once.
    assert all(share > 0 for share in shares), shares


async def test_a_worker_killed_mid_batch_loses_nothing(
    start_worker: StartWorker,
    sessions: async_sessionmaker[AsyncSession],
    jetstream: JetStreamContext,
) -> None:
    await _publish_revisions(jetstream, EVENTS)
    doomed = start_worker("doomed")
    await calculations_stored(sessions, 10, within=60)

    doomed.send_signal(signal.SIGKILL)
    await asyncio.to_thread(doomed.wait, 15)
    in_hand = await jetstream.consumer_info("PMM", SUBMISSIONS_CONSUMER)
    stored_when_killed = await scalar(sessions, "SELECT count(*) FROM calculation")
    start_worker("survivor")
    await calculations_stored(sessions, EVENTS, within=90)
    await _all_acknowledged(jetstream)

    assert in_hand.num_ack_pending > 0
    assert stored_when_killed < EVENTS
    await _computed_once_each(sessions, EVENTS)
