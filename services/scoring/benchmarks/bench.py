"""Scoring workers under load: submissions computed per second with one and with two
`pmm-scoring worker` processes, and the time from a submit to its stored calculation
at a steady rate.

    .tools/bin/uv run python services/scoring/benchmarks/bench.py [--profile]

Starts embedded PostgreSQL and NATS in a temporary folder, migrates the scoring
schema, publishes `submission submitted` events as the submission service's relay
does (each with different values, so nothing can be answered from a cache) and runs
the workers as real processes. `--profile` instead runs the consumer in this process
under cProfile and prints where the time goes.
"""

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Self

import nats
import sqlalchemy as sa
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from pmm_kit.broker import ensure_stream
from pmm_kit.contracts.common import CycleRef, MemberAttributes, ValueState
from pmm_kit.contracts.scoring import ScoresComputed
from pmm_kit.contracts.submission import SubmissionSubmitted, SubmittedValue
from pmm_kit.db import create_engine
from pmm_kit.events import CORRELATION_HEADER, Envelope
from pmm_kit.logs import configure_logging
from pmm_kit.migrations import upgrade
from pmm_kit.runtime import ServiceRuntime
from pmm_local.stack import Infrastructure
from pmm_scoring.cli import prepare_worker_process
from pmm_scoring.consumers import SUBMISSIONS_CONSUMER, subscriptions
from pmm_scoring.settings import ScoringSettings

SERVICE_DIR = Path(__file__).resolve().parents[1]
WORKER = Path(sys.executable).parent / "pmm-scoring"
BACKLOG = 3000
WARM_UP_SECONDS = 3.0
WINDOW_SECONDS = 15.0
LATENCY_WORKERS = 2
STEADY_RATES = (10, 50)
STEADY_SECONDS = 8
LATENCY_DEADLINE_SECONDS = 60.0
PROFILED_EVENTS = 600
LOGGED_LINES_SHOWN = 20
TARGET_PER_SECOND = 500
TARGET_SCALING = 1.6
TARGET_LATENCY_RATE = 50
TARGET_P99_MS = 100.0

console = Console()


@cache
def _complete_values() -> tuple[SubmittedValue, ...]:
    """The methodology library's hand-checked complete, consistent submission."""
    vectors = resources.files("pmm_methodology").joinpath("vectors")
    case = json.loads(vectors.joinpath("complete-submission.json").read_text())
    return tuple(
        SubmittedValue(
            data_element=entry["element"],
            year=entry["year"],
            state=ValueState.PROVIDED,
            value=entry["value"],
            reason=None,
        )
        for entry in case["cases"][0]["values"]
    )


def _submitted(phase: str, number: int) -> SubmissionSubmitted:
    """A submission whose figures differ with `number`: no two have equal inputs."""
    values = tuple(
        value.model_copy(update={"value": str(200000 + number)})
        if (value.data_element, value.year) == ("DECL_TOTAL", 2022)
        else value
        for value in _complete_values()
    )
    member = chr(65 + number // 676 % 26) + chr(65 + number // 26 % 26)
    member += chr(65 + number % 26)
    return SubmissionSubmitted(
        submission_id=f"{phase}-{number}",
        cycle=CycleRef(
            cycle_id=phase,
            reporting_year=2022,
            framework_code="PMM",
            framework_version="1.0.0",
        ),
        member=MemberAttributes(
            code=member,
            name=f"Customs {member}",
            wco_region="Europe",
            income_group=None,
            administration_type=None,
            geography=None,
        ),
        revision=1,
        submitted_at=datetime.now(UTC),
        submitted_by="bench",
        values=values,
        kpi_opt_outs=(),
        disclosure={},
        restatements=(),
    )


async def _publish(jetstream: JetStreamContext, payload: SubmissionSubmitted) -> None:
    envelope = Envelope.wrap(payload, correlation_id=f"bench-{uuid.uuid4().hex[:8]}")
    await jetstream.publish(
        envelope.type,
        envelope.model_dump_json().encode(),
        headers={
            "Nats-Msg-Id": str(envelope.id),
            CORRELATION_HEADER: envelope.correlation_id,
        },
    )


async def _publish_many(jetstream: JetStreamContext, phase: str, count: int) -> None:
    for start in range(0, count, 100):
        await asyncio.gather(
            *(
                _publish(jetstream, _submitted(phase, n))
                for n in range(start, min(count, start + 100))
            )
        )


async def _stored(engine: AsyncEngine, phase: str) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(
            sa.text("SELECT count(*) FROM calculation WHERE cycle_id = :phase"),
            {"phase": phase},
        )
    return int(count or 0)


async def _until_stored(engine: AsyncEngine, phase: str, count: int) -> None:
    while True:
        if await _stored(engine, phase) >= count:
            return
        await asyncio.sleep(0.05)


class Workers:
    """`pmm-scoring worker` processes against the benchmark's servers."""

    def __init__(self, environment: dict[str, str], logs: Path) -> None:
        self._environment = environment
        self._logs = logs
        self._processes: list[subprocess.Popen[bytes]] = []
        self._started = 0

    def start(self, count: int) -> None:
        for _ in range(count):
            self._started += 1
            with (self._logs / f"worker-{self._started}.log").open("wb") as log:
                self._processes.append(
                    subprocess.Popen(
                        [str(WORKER), "worker"],
                        env=self._environment,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )

    def cpu_seconds(self) -> float:
        """CPU time the running workers used so far (Linux `/proc`)."""
        ticks = 0
        for process in self._processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1]
            user, system = fields.split()[11:13]
            ticks += int(user) + int(system)
        return ticks / os.sysconf("SC_CLK_TCK")

    def logged(self) -> list[str]:
        """What the workers logged (warnings and errors: they run at `warning`)."""
        return [
            line
            for path in sorted(self._logs.glob("worker-*.log"))
            for line in path.read_text(errors="replace").splitlines()
            if line.strip()
        ]

    def stop(self) -> None:
        for process in self._processes:
            process.send_signal(signal.SIGTERM)
        for process in self._processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()


async def _wait_pulling(jetstream: JetStreamContext, workers: int) -> None:
    while True:
        try:
            info = await jetstream.consumer_info("PMM", SUBMISSIONS_CONSUMER)
            if (info.num_waiting or 0) >= workers:
                return
        except nats.js.errors.NotFoundError:
            pass
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Throughput:
    per_second: float
    cpu_ms_per_submission: float


async def _throughput(
    jetstream: JetStreamContext, engine: AsyncEngine, workers: Workers, count: int
) -> Throughput:
    """Submissions per second stored by `count` workers working off a backlog
    published beforehand, over a fixed window that starts once all of them run."""
    phase = f"throughput-{count}-{uuid.uuid4().hex[:6]}"
    await _publish_many(jetstream, phase, BACKLOG)
    workers.start(count)
    await _until_stored(engine, phase, 1)
    await asyncio.sleep(WARM_UP_SECONDS)

    stored_before, started = await _stored(engine, phase), time.perf_counter()
    cpu_before = workers.cpu_seconds()
    stored_after = stored_before
    while time.perf_counter() - started < WINDOW_SECONDS and stored_after < BACKLOG:
        await asyncio.sleep(0.2)
        stored_after = await _stored(engine, phase)
    elapsed = time.perf_counter() - started
    cpu = workers.cpu_seconds() - cpu_before
    workers.stop()
    # What the window left over must not reach the next phase's workers.
    await jetstream.purge_stream("PMM")
    computed = stored_after - stored_before
    return Throughput(computed / elapsed, cpu * 1000 / max(computed, 1))


@dataclass(frozen=True)
class Latencies:
    """Every published event's latency in ms; those that never arrived count as the
    deadline, so that a lost event can only make the figures worse."""

    milliseconds: list[float]
    missing: int

    @classmethod
    def of(cls, published: dict[str, float], arrived: dict[str, float]) -> Self:
        deadline = LATENCY_DEADLINE_SECONDS
        return cls(
            [arrived.get(event, deadline) * 1000 for event in published],
            sum(1 for event in published if event not in arrived),
        )

    def median(self) -> float | None:
        return statistics.median(self.milliseconds) if self.milliseconds else None

    def p99(self) -> float | None:
        return _percentile(self.milliseconds, 0.99)


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _latency(
    client: Client,
    jetstream: JetStreamContext,
    workers: Workers,
    *,
    rate: int,
    seconds: int,
) -> Latencies:
    """Milliseconds from a publish to its `scores computed` event, which the worker's
    relay publishes only after the calculation committed, for every event published:
    one that has not arrived by the deadline counts as the deadline."""
    phase = f"latency-{rate}-{uuid.uuid4().hex[:6]}"
    published: dict[str, float] = {}
    arrived: dict[str, float] = {}
    total = rate * seconds
    done = asyncio.Event()

    async def on_scores(message: Msg) -> None:
        received = time.perf_counter()
        submission_id = Envelope.model_validate_json(message.data).data["submission_id"]
        if submission_id in published:
            arrived.setdefault(submission_id, received - published[submission_id])
        if len(arrived) >= total:
            done.set()

    subscription = await client.subscribe(ScoresComputed.event_type(), cb=on_scores)
    workers.start(LATENCY_WORKERS)
    await _wait_pulling(jetstream, LATENCY_WORKERS)
    events = [_submitted(phase, n) for n in range(total)]
    next_at = time.perf_counter()
    for event in events:
        next_at += 1 / rate
        published[event.submission_id] = time.perf_counter()
        await _publish(jetstream, event)
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), LATENCY_DEADLINE_SECONDS)
    await subscription.unsubscribe()
    workers.stop()
    return Latencies.of(published, arrived)


def _prepare(home: Path) -> tuple[Infrastructure, str]:
    infrastructure = Infrastructure(home).start()
    url = infrastructure.provision(["scoring"])["scoring"]
    upgrade(SERVICE_DIR, database_url=url, schema="scoring")
    return infrastructure, url


async def _measure(infrastructure: Infrastructure, url: str, logs: Path) -> bool:
    """Measure and print; False if an event never came back (timing never fails
    the run, a lost event does)."""
    client = await nats.connect(infrastructure.nats_url)
    jetstream = client.jetstream(timeout=10)
    await ensure_stream(jetstream)
    engine = create_engine(url, schema="scoring", pool_size=2)
    workers = Workers(
        {
            **os.environ,
            "DATABASE_URL": url,
            "NATS_URL": infrastructure.nats_url,
            "PMM_LOG_LEVEL": "warning",
        },
        logs,
    )
    try:
        one = await _throughput(jetstream, engine, workers, 1)
        two = await _throughput(jetstream, engine, workers, 2)
        latencies = {
            rate: await _latency(
                client, jetstream, workers, rate=rate, seconds=STEADY_SECONDS
            )
            for rate in STEADY_RATES
        }
    finally:
        workers.stop()
        await engine.dispose()
        await client.drain()
    met = _print(one, two, latencies)
    console.print(f"Every target met: {'yes' if met else 'no'}.")
    logged = workers.logged()
    if logged:
        console.print(f"The workers logged {len(logged)} warnings or errors:")
        for line in logged[:LOGGED_LINES_SHOWN]:
            console.print(f"  {line}", markup=False, highlight=False)
    lost = sum(measured.missing for measured in latencies.values())
    if lost:
        console.print(
            f"[red]{lost} submissions never came back as `scores computed` within "
            f"{LATENCY_DEADLINE_SECONDS:.0f} s; each counted as the deadline.[/red]"
        )
    return not lost


def _print(one: Throughput, two: Throughput, latencies: dict[int, Latencies]) -> bool:
    """The figures beside their targets; True if every target is met."""
    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    table = Table(
        title=f"PMM scoring workers ({os.cpu_count()} cores, load average {load})"
    )
    for column in ("figure", "value", "target", "met"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    verdicts: list[bool] = []

    def row(figure: str, value: str, target: str = "", met: bool | None = None) -> None:
        if met is not None:
            verdicts.append(met)
        shown = "" if met is None else ("yes" if met else "[red]no[/red]")
        table.add_row(figure, value, target, shown)

    window = f"over {WINDOW_SECONDS:.0f} s of a backlog"
    row(
        f"submissions computed, 1 worker, {window}",
        f"{one.per_second:,.1f} /s",
        f">= {TARGET_PER_SECOND} /s",
        one.per_second >= TARGET_PER_SECOND,
    )
    row(f"submissions computed, 2 workers, {window}", f"{two.per_second:,.1f} /s")
    scaling = two.per_second / one.per_second if one.per_second else 0.0
    row(
        "2 workers / 1 worker",
        f"{scaling:.2f}x",
        f">= {TARGET_SCALING}x",
        scaling >= TARGET_SCALING,
    )
    row("worker CPU per submission (1 worker)", f"{one.cpu_ms_per_submission:.2f} ms")
    row("worker CPU per submission (2 workers)", f"{two.cpu_ms_per_submission:.2f} ms")
    for rate, measured in latencies.items():
        _latency_rows(row, rate, measured)
    console.print(table)
    return all(verdicts)


def _latency_rows(
    row: Callable[[str, str, str, bool | None], None], rate: int, measured: Latencies
) -> None:
    steady = f"at {rate}/s, {LATENCY_WORKERS} workers"
    total = len(measured.milliseconds)
    arrived = f"{total - measured.missing} of {total} arrived"
    median, p99 = measured.median(), measured.p99()
    row(f"submit to stored, median {steady}", _ms(median), "", None)
    if rate != TARGET_LATENCY_RATE:
        row(f"submit to stored, p99 {steady} ({arrived})", _ms(p99), "", None)
        return
    row(
        f"submit to stored, p99 {steady} ({arrived})",
        _ms(p99),
        f"< {TARGET_P99_MS:.0f} ms",
        p99 is not None and p99 < TARGET_P99_MS and measured.missing == 0,
    )


def _ms(value: float | None) -> str:
    return "none measured" if value is None else f"{value:.1f} ms"


async def _profile(infrastructure: Infrastructure, url: str) -> None:
    """The consumer in this process, under cProfile, over a backlog of submissions,
    once the first batch (loading the framework, opening connections) is stored."""
    settings = ScoringSettings(
        database_url=SecretStr(url),
        nats_url=infrastructure.nats_url,
        run_consumers=True,
        log_level="warning",
    )
    configure_logging(
        service=settings.service,
        log_format=settings.resolved_log_format,
        level=settings.log_level,
    )
    runtime = ServiceRuntime(settings, subscriptions=subscriptions(settings))
    client = await nats.connect(infrastructure.nats_url)
    jetstream = client.jetstream(timeout=10)
    await ensure_stream(jetstream)
    phase = f"profile-{uuid.uuid4().hex[:6]}"
    await _publish_many(jetstream, phase, PROFILED_EVENTS)
    prepare_worker_process()
    await runtime.start()
    await _until_stored(runtime.engine, phase, 1)

    profiler = cProfile.Profile()
    stored_before = await _stored(runtime.engine, phase)
    started, cpu_before = time.perf_counter(), time.process_time()
    profiler.enable()
    await _until_stored(runtime.engine, phase, PROFILED_EVENTS)
    profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    await runtime.stop()
    await client.drain()

    profiled = PROFILED_EVENTS - stored_before
    console.print(
        f"{profiled} submissions: {profiled / elapsed:,.0f}/s and "
        f"{cpu * 1000 / profiled:.2f} ms of CPU each under the profiler"
    )
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(50)
    stats.sort_stats("tottime").print_stats(40)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the consumer in this process under cProfile instead of measuring",
    )
    arguments = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pmm-scoring-bench-") as folder:
        home = Path(folder)
        infrastructure, url = _prepare(home)
        try:
            if arguments.profile:
                asyncio.run(_profile(infrastructure, url))
                return 0
            return 0 if asyncio.run(_measure(infrastructure, url, home)) else 1
        finally:
            infrastructure.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
