"""`make bench`: throughput and latency of the event backbone and the stack's start.

Runs on embedded servers in a temporary folder (or those DATABASE_URL and NATS_URL
name) and prints one line per figure; the README's performance section records them.
"""

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit.broker import Broker
from pmm_kit.consumers import ConsumerRunner, ReceivedEvent, Subscription
from pmm_kit.db import UnitOfWork, create_engine, create_session_factory
from pmm_kit.events import Contract
from pmm_kit.outbox import OutboxRelay, RelaySettings, add_event
from pmm_kit.tables import messaging_metadata
from pmm_local.servers import free_port
from pmm_local.services import SERVICES
from pmm_local.stack import Infrastructure

SCHEMA = "bench"
EVENTS = 5000
STEADY_RATE = 50
STEADY_SECONDS = 10


class BenchmarkTicked(Contract):
    """A benchmark's event (not part of the platform's contracts)."""

    producer = "bench"
    entity = "tick"
    event = "sent"

    sequence: int
    sent_at: float


async def _prepare(infrastructure: Infrastructure) -> async_sessionmaker[AsyncSession]:
    url = await asyncio.to_thread(infrastructure.provision, [SCHEMA])
    engine = create_engine(url[SCHEMA], schema=SCHEMA, pool_size=10)
    async with engine.begin() as connection:
        await connection.run_sync(messaging_metadata.create_all)
        await connection.execute(sa.text("TRUNCATE outbox, inbox, dead_letter"))
    return create_session_factory(engine)


async def _write(
    sessions: async_sessionmaker[AsyncSession], relay: OutboxRelay, n: int
) -> None:
    async with UnitOfWork(sessions, on_outbox_committed=relay.wake) as uow:
        await add_event(uow.session, BenchmarkTicked(sequence=n, sent_at=time.time()))
        await uow.commit()


async def _throughput(
    sessions: async_sessionmaker[AsyncSession], broker: Broker
) -> tuple[float, float]:
    """Events per second written (one transaction each), then relayed and consumed."""
    relay = OutboxRelay(
        sessions, broker, service="bench", settings=RelaySettings(batch_size=500)
    )
    started = time.perf_counter()
    for start in range(0, EVENTS, 50):
        await asyncio.gather(
            *(_write(sessions, relay, n) for n in range(start, start + 50))
        )
    written = time.perf_counter() - started

    consumed_all = asyncio.Event()
    count = 0

    async def tally(session: AsyncSession, event: ReceivedEvent) -> None:
        nonlocal count
        count += 1
        if count >= EVENTS:
            consumed_all.set()

    subscription = Subscription(
        "bench-throughput", (BenchmarkTicked.event_type(),), tally, batch_size=200
    )
    runner = ConsumerRunner(sessions, broker, subscription)
    started = time.perf_counter()
    relay.start()
    runner.start()
    await consumed_all.wait()
    consumed = time.perf_counter() - started
    await runner.stop()
    await relay.stop()
    return EVENTS / written, EVENTS / consumed


async def _latency(
    sessions: async_sessionmaker[AsyncSession], broker: Broker
) -> list[float]:
    """Milliseconds from a committed write to the consumer's committed effect."""
    latencies: list[float] = []
    total = STEADY_RATE * STEADY_SECONDS
    measured_all = asyncio.Event()

    async def measure(session: AsyncSession, event: ReceivedEvent) -> None:
        assert isinstance(event.payload, BenchmarkTicked)
        latencies.append((time.time() - event.payload.sent_at) * 1000)
        if len(latencies) >= total:
            measured_all.set()

    relay = OutboxRelay(sessions, broker, service="bench")
    subscription = Subscription(
        "bench-latency", (BenchmarkTicked.event_type(),), measure
    )
    async with sessions() as session, session.begin():
        await session.execute(sa.text("TRUNCATE outbox, inbox"))
    await broker.jetstream.purge_stream("PMM")
    runner = ConsumerRunner(sessions, broker, subscription)
    relay.start()
    runner.start()
    for n in range(total):
        await _write(sessions, relay, n)
        await asyncio.sleep(1 / STEADY_RATE)
    await measured_all.wait()
    await runner.stop()
    await relay.stop()
    return latencies


def _stack_start_seconds(home: Path) -> float:
    """Seconds from `pmm up` to every service answering /readyz."""
    environment = {"PMM_HOME": str(home)}
    for service in SERVICES:
        environment[f"{service.env_prefix}_PORT"] = str(free_port())
    pmm = str(Path(sys.executable).parent / "pmm")
    started = time.perf_counter()
    process = subprocess.Popen(
        [pmm, "up", "--no-job"],
        env={**os.environ, **environment},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not (home / "stack.json").exists():
        if process.poll() is not None:
            raise RuntimeError("pmm up failed; run it by hand to see why")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    process.send_signal(signal.SIGINT)
    process.wait(60)
    return elapsed


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _run(home: Path) -> dict[str, str]:
    infrastructure = Infrastructure(home / "servers").start()
    try:
        sessions = await _prepare(infrastructure)
        broker = Broker(infrastructure.nats_url, name="bench")
        broker.start()
        await broker.wait_ready()
        written, consumed = await _throughput(sessions, broker)
        latencies = await _latency(sessions, broker)
        await broker.close()
    finally:
        infrastructure.stop()
    median, p99 = statistics.median(latencies), _percentile(latencies, 0.99)
    return {
        f"events written, one transaction each ({EVENTS})": f"{written:,.0f} /s",
        f"events relayed and consumed ({EVENTS})": f"{consumed:,.0f} /s",
        f"write to consumer commit, median at {STEADY_RATE}/s": f"{median:.1f} ms",
        f"write to consumer commit, p99 at {STEADY_RATE}/s": f"{p99:.1f} ms",
    }


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    with tempfile.TemporaryDirectory(prefix="pmm-bench-") as folder:
        home = Path(folder)
        figures = asyncio.run(_run(home))
        first = _stack_start_seconds(home / "stack")
        again = _stack_start_seconds(home / "stack")
    figures["pmm up to all services ready, first run"] = f"{first:.1f} s"
    figures["pmm up to all services ready, data kept"] = f"{again:.1f} s"
    table = Table(title="PMM benchmarks")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        table.add_row(name, value)
    Console().print(table)


if __name__ == "__main__":
    main()
