"""Benchmark of the feed import: a 100,000-row CSV history load, dry run and applied.

Starts its own PostgreSQL and NATS (`pmm_local.stack.Infrastructure`) in a temporary
folder, migrates the submission schema, runs the service in this process and sends
the feed as the Secretariat loads history: many members, many cycles. Prints rows per
second for each run and the process's peak resident memory.

    .tools/bin/uv run python services/submission/benchmarks/bench.py
"""

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from pmm_kit.auth import Role, mint_token
from pmm_kit.migrations import upgrade
from pmm_local.stack import Infrastructure
from pmm_methodology import reference_framework
from pmm_submission.domain import NUMERIC_TYPES
from pmm_submission.main import create_app
from pmm_submission.registry import registry_entries
from pmm_submission.settings import SubmissionSettings

ROWS = 100_000
FIRST_YEAR = 2012
CYCLES = 12
SERVICE_DIR = Path(__file__).resolve().parents[1]


def history_feed() -> bytes:
    """Rows for every (cycle, member, numeric element, T and T-1) until ROWS."""
    elements = [
        e.code for e in reference_framework().data_elements if e.type in NUMERIC_TYPES
    ]
    members = [entry.code for entry in registry_entries()]
    lines = ["member,cycle,data_element,year,value"]
    for member in members:
        for offset in range(CYCLES):
            year = FIRST_YEAR + offset
            for element in elements:
                for when in (year, year - 1):
                    lines.append(f"{member},H-{year},{element},{when},{len(lines)}.25")
                    if len(lines) > ROWS:
                        return ("\n".join(lines) + "\n").encode()
    raise RuntimeError("not enough combinations for the rows asked")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _timed(
    client: httpx.AsyncClient, feed: bytes, headers: dict[str, str], **params: str
) -> tuple[float, float, dict[str, Any]]:
    """Wall seconds, this process's CPU seconds (the service; PostgreSQL's work is
    in its own processes) and the report."""
    cpu = _cpu_seconds()
    started = time.perf_counter()
    response = await client.post(
        "/feeds",
        content=feed,
        params=params,
        headers={**headers, "content-type": "text/csv"},
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"the feed failed: {response.status_code} {response.text}")
    return elapsed, _cpu_seconds() - cpu, response.json()


async def _create_cycles(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    for offset in range(CYCLES):
        year = FIRST_YEAR + offset
        response = await client.post(
            "/cycles",
            json={
                "code": f"H-{year}",
                "reporting_year": year,
                "framework_code": "PMM",
                "framework_version": "1.0.0",
                "window_opens": f"{year + 1}-12-01",
                "window_closes": f"{year + 2}-03-31",
            },
            headers=headers,
        )
        response.raise_for_status()


async def run(infrastructure: Infrastructure, url: str) -> list[tuple[str, str]]:
    settings = SubmissionSettings(
        database_url=SecretStr(url),
        nats_url=infrastructure.nats_url,
        jwt_public_key_file=infrastructure.public_key,
        max_request_bytes=64 * 1024 * 1024,
        feed_job_rows=ROWS + 1,
        log_level="warning",
    )
    token = mint_token(infrastructure.private_key.read_text(), role=Role.SECRETARIAT)
    headers = {"Authorization": f"Bearer {token}"}
    feed = history_feed()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench"
        ) as client:
            await _create_cycles(client, headers)
            dry = await _timed(client, feed, headers, dry_run="true")
            applied = await _timed(client, feed, headers)
            again = await _timed(client, feed, headers)
    dry_report, report, again_report = dry[2], applied[2], again[2]
    assert dry_report["counts"]["create"] == ROWS
    assert report["counts"]["create"] == ROWS
    assert again_report["counts"]["unchanged"] == ROWS
    return [
        ("rows in the feed", f"{ROWS:,} ({len(feed) / 1e6:.1f} MB CSV)"),
        ("cycles", str(CYCLES)),
        ("dry run", _rate(dry)),
        ("applied (all created)", _rate(applied)),
        ("applied again (all unchanged)", _rate(again)),
        ("peak memory (process RSS)", f"{_peak_rss_mb():,.0f} MB"),
    ]


def _rate(run: tuple[float, float, dict[str, Any]]) -> str:
    wall, cpu, _ = run
    return f"{wall:.2f} s, {ROWS / wall:,.0f} rows/s (service CPU {cpu:.2f} s)"


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    with tempfile.TemporaryDirectory(prefix="pmm-submission-bench-") as folder:
        infrastructure = Infrastructure(Path(folder)).start()
        try:
            url = infrastructure.provision(["submission"])["submission"]
            upgrade(SERVICE_DIR, database_url=url, schema="submission")
            figures = asyncio.run(run(infrastructure, url))
        finally:
            infrastructure.stop()
    table = Table(title="Submission feed import: CSV history load by the Secretariat")
    table.add_column("measure")
    table.add_column("figure", justify="right")
    for measure, figure in figures:
        table.add_row(measure, figure)
    Console().print(table)


if __name__ == "__main__":
    main()
