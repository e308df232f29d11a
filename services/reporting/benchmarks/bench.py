"""Latency of benchmark queries and scorecards with a full load.

187 members, 51 KPIs and 5 cycles are loaded into the read models through the same
projections the event consumer runs, then the API is called in process (httpx on the
ASGI app, with its real PostgreSQL and NATS) and the 50th and 99th percentiles are
printed. Each cycle's report is published first: readers other than the
Secretariat read the cells a report froze, the Secretariat the live table (timed
too). Embedded servers in a temporary folder, unless DATABASE_URL and NATS_URL name
running ones.

    .tools/bin/uv run python services/reporting/benchmarks/bench.py
"""

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from pmm_kit.auth import Role, mint_token
from pmm_kit.contracts.common import (
    CycleRef,
    DisclosureLevel,
    MemberAttributes,
    Window,
)
from pmm_kit.contracts.scoring import ScoresComputed
from pmm_kit.contracts.submission import (
    CycleOpened,
    SubmissionAccepted,
    SubmissionSubmitted,
)
from pmm_kit.events import Contract, Envelope
from pmm_kit.migrations import upgrade
from pmm_local.services import SERVICES
from pmm_local.stack import Infrastructure
from pmm_methodology import DataValue, ElementType, compute, reference_framework
from pmm_reporting.main import create_app
from pmm_reporting.projections import apply_event
from pmm_reporting.settings import ReportingSettings

MEMBERS = 187
CYCLES = (2016, 2018, 2020, 2022, 2024)
SAMPLES = 400
TARGETS_MS = {"benchmarks": 20.0, "scorecard": 10.0}
# Each member's first scorecard is built (one SQL statement, then Python); a repeated
# read of unchanged figures comes from the scorecard cache. Both are reported.
REGIONS = (
    "East and Southern Africa",
    "Europe",
    "Far East, South and South East Asia, Australasia and the Pacific Islands",
    "North of Africa, Near and Middle East",
    "South America, North America, Central America and the Caribbean",
    "West and Central Africa",
)
INCOME_GROUPS = ("high", "upper middle", "lower middle", "low", None)
ADMINISTRATION_TYPES = ("customs", "revenue authority", "customs and border")
FRAMEWORK = reference_framework()


def member_codes() -> list[str]:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [
        f"{letters[n // 26 // 26 % 26]}{letters[n // 26 % 26]}{letters[n % 26]}"
        for n in range(MEMBERS)
    ]


def member_attributes(code: str, rng: random.Random) -> MemberAttributes:
    return MemberAttributes(
        code=code,
        name=f"Administration {code}",
        wco_region=rng.choice(REGIONS),
        income_group=rng.choice(INCOME_GROUPS),
        administration_type=rng.choice(ADMINISTRATION_TYPES),
        geography=None,
    )


def data_values(year: int, rng: random.Random) -> dict[tuple[str, int], DataValue]:
    values = {}
    for element in FRAMEWORK.data_elements:
        for when in (year, year - 1):
            values[(element.code, when)] = DataValue.provided(
                _plausible(element.type, element.allowed, element.code, rng)
            )
    return values


def _plausible(
    kind: ElementType, allowed: tuple[str, ...], code: str, rng: random.Random
) -> Any:
    if kind is ElementType.BOOLEAN:
        return rng.random() < 0.8
    if kind is ElementType.ENUM:
        return rng.choice(allowed)
    if kind is ElementType.DURATION:
        return Decimal(rng.randint(1, 200))
    if kind is ElementType.PERCENT:
        return Decimal(rng.randint(0, 100))
    if code.endswith(("_TOTAL", "_CUSTOMS", "_FORECAST", "_INSPECTED", "_REQUESTS")):
        return Decimal(rng.randint(500_000, 5_000_000))
    return Decimal(rng.randint(0, 400_000))


def cycle_events(
    year: int, members: list[MemberAttributes], rng: random.Random
) -> list[Contract]:
    cycle = CycleRef(
        cycle_id=f"cycle-{year}",
        reporting_year=year,
        framework_code=FRAMEWORK.code,
        framework_version=FRAMEWORK.version,
    )
    opens = datetime(year + 1, 12, 1, tzinfo=UTC).date()
    events: list[Contract] = [
        CycleOpened(
            cycle=cycle,
            code=f"PMM-{year}",
            window=Window(opens=opens, closes=opens + timedelta(days=120)),
            opened_by="secretariat",
        )
    ]
    levels = list(DisclosureLevel)
    for member in members:
        submission_id = f"sub-{year}-{member.code}"
        now = datetime.now(UTC)
        result = compute(FRAMEWORK, year, data_values(year, rng))
        disclosure = {kpi.code: rng.choice(levels) for kpi in FRAMEWORK.kpis}
        events += [
            SubmissionSubmitted(
                submission_id=submission_id,
                cycle=cycle,
                member=member,
                revision=1,
                submitted_at=now,
                submitted_by=f"ncp-{member.code}",
                values=(),
                kpi_opt_outs=(),
                disclosure=disclosure,
                restatements=(),
            ),
            ScoresComputed(
                calculation_id=str(uuid.uuid4()),
                submission_id=submission_id,
                cycle=cycle,
                member=member.code,
                revision=1,
                computed_at=now,
                trigger="bench",
                current=True,
                assessment=result.model_dump(mode="json"),
            ),
            SubmissionAccepted(
                submission_id=submission_id,
                cycle=cycle,
                member=member.code,
                revision=1,
                accepted_by="secretariat",
            ),
        ]
    return events


async def load(app: Any, events: list[Contract]) -> None:
    sessions = app.state.runtime.sessions
    for start in range(0, len(events), 300):
        async with sessions() as session, session.begin():
            for payload in events[start : start + 300]:
                envelope = Envelope.wrap(payload, correlation_id="bench")
                await apply_event(session, payload, envelope)


class ServerTimer:
    """Times each request inside the ASGI app, from the call to the response's
    last byte: the service's latency, without the test client's own overhead."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.timings: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.timings.append((time.perf_counter() - started) * 1000)


async def measure(
    timer: ServerTimer,
    call: Callable[[int], Awaitable[httpx.Response]],
    samples: int = SAMPLES,
) -> tuple[float, float, float]:
    """p50 and p99 inside the service, and p99 as the client saw it (ms)."""
    timer.timings.clear()
    client_timings = []
    for n in range(samples):
        started = time.perf_counter()
        response = await call(n)
        client_timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    cuts = statistics.quantiles(timer.timings, n=100, method="inclusive")
    client = statistics.quantiles(client_timings, n=100, method="inclusive")
    return cuts[49], cuts[98], client[98]


async def run(home: Path) -> None:
    infrastructure = Infrastructure(home).start()
    try:
        reporting = next(s for s in SERVICES if s.name == "reporting")
        urls = await asyncio.to_thread(infrastructure.provision, [reporting.schema])
        url = urls[reporting.schema]
        await asyncio.to_thread(
            upgrade, reporting.service_dir, database_url=url, schema=reporting.schema
        )
        settings = ReportingSettings(
            database_url=SecretStr(url),
            nats_url=infrastructure.nats_url,
            jwt_public_key_file=infrastructure.public_key,
            run_consumers=False,
            log_level="warning",
        )
        await bench(infrastructure, settings)
    finally:
        infrastructure.stop()


async def bench(infrastructure: Infrastructure, settings: ReportingSettings) -> None:
    # A fixed seed: the same load on every run, so figures compare across runs.
    rng = random.Random(20261203)  # noqa: S311
    members = [member_attributes(code, rng) for code in member_codes()]
    app = create_app(settings)
    private_key = infrastructure.private_key.read_text()
    bearer = mint_token(private_key, role=Role.NCP, member="AAB")
    ncp = {"Authorization": f"Bearer {bearer}"}
    bearer = mint_token(private_key, role=Role.SECRETARIAT)
    secretariat = {"Authorization": f"Bearer {bearer}"}
    public: dict[str, str] = {}
    async with app.router.lifespan_context(app):
        started = time.perf_counter()
        for year in CYCLES:
            await load(app, cycle_events(year, members, rng))
        loaded = time.perf_counter() - started
        print(f"loaded {MEMBERS} members x {len(CYCLES)} cycles in {loaded:.1f} s")

        timer = ServerTimer(app)
        transport = httpx.ASGITransport(app=timer)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://x"
        ) as client:
            kpis = [kpi.code for kpi in FRAMEWORK.kpis]
            started = time.perf_counter()
            await client.get("/cycles/cycle-2024/benchmarks", headers=secretariat)
            cold = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            for year in CYCLES:
                published = await client.post(
                    f"/cycles/cycle-{year}/reports", headers=secretariat
                )
                published.raise_for_status()
            publishing = (time.perf_counter() - started) * 1000 / len(CYCLES)
            for year in CYCLES:
                await client.get(f"/cycles/cycle-{year}/benchmarks")
                await client.get(
                    f"/cycles/cycle-{year}/benchmarks", headers=secretariat
                )

            figures = {
                "benchmarks, one KPI": await measure(
                    timer,
                    lambda n: client.get(
                        f"/cycles/cycle-{CYCLES[n % 5]}/benchmarks",
                        params={"kpi": kpis[n % len(kpis)]},
                        headers=public,
                    ),
                ),
                "benchmarks, whole cycle": await measure(
                    timer,
                    lambda n: client.get(f"/cycles/cycle-{CYCLES[n % 5]}/benchmarks"),
                ),
                "benchmarks, live, one KPI": await measure(
                    timer,
                    lambda n: client.get(
                        f"/cycles/cycle-{CYCLES[n % 5]}/benchmarks",
                        params={"kpi": kpis[n % len(kpis)]},
                        headers=secretariat,
                    ),
                ),
                "scorecard, first read": await measure(
                    timer,
                    lambda n: client.get(
                        f"/cycles/cycle-2024/members/{members[n].code}/scorecard",
                        headers=ncp,
                    ),
                    samples=MEMBERS,
                ),
                "scorecard, read again": await measure(
                    timer,
                    lambda n: client.get(
                        f"/cycles/cycle-2024/members/{members[n % MEMBERS].code}"
                        "/scorecard",
                        headers=ncp,
                    ),
                ),
            }
    print(f"first benchmark table of a cycle (computed, not cached): {cold:.1f} ms")
    print(f"publication of a cycle's report (its table computed): {publishing:.1f} ms")
    print("in the service (client-observed p99 in brackets):")
    for name, (p50, p99, client_p99) in figures.items():
        target = TARGETS_MS[name.split(",")[0]]
        verdict = "ok" if p99 < target else "OVER TARGET"
        print(
            f"  {name:<26} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms "
            f"({client_p99:6.2f} ms)  target p99 < {target:.0f} ms: {verdict}"
        )


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    with tempfile.TemporaryDirectory(prefix="pmm-reporting-bench-") as home:
        asyncio.run(run(Path(home)))


if __name__ == "__main__":
    main()
