"""`pmm-reporting rebuild` replays the stream into empty read models."""

import asyncio
from decimal import Decimal
from typing import Any

import asyncpg
import nats
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from pmm_kit.broker import ensure_stream
from pmm_local.testing import truncate_schema
from pmm_reporting.cli import cli
from pmm_reporting.projections import numeric_value

from .helpers import (
    assessment,
    attributes,
    cycle_ref,
    electronic_share,
    participation,
    publish,
)

CYCLE = cycle_ref(2024, "cycle-rebuilt")
SHARES = {"FRA": "75.00", "DEU": "80.50", "ITA": "66.25"}


async def _publish_stream(nats_url: str) -> None:
    client = await nats.connect(nats_url)
    try:
        jetstream = client.jetstream()
        await ensure_stream(jetstream)
        events = []
        for seed, (code, share) in enumerate(SHARES.items()):
            events += participation(
                CYCLE, attributes(code), electronic_share(share), seed=seed
            )
        await publish(jetstream, events)
    finally:
        await client.drain()


async def _rows(database_url: str, query: str) -> list[tuple[Any, ...]]:
    url = make_url(database_url).render_as_string(hide_password=False)
    connection = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await connection.fetch(query)]
    finally:
        await connection.close()


def _expected_values() -> dict[tuple[str, str], Decimal | None]:
    """Each member's KPI values as the methodology computes them from its data."""
    return {
        (code, kpi["code"]): numeric_value(kpi.get("value"))
        for seed, (code, share) in enumerate(SHARES.items())
        for kpi in assessment(2024, seed, electronic_share(share))["kpis"]
    }


def test_the_rebuild_command_replays_the_stream(
    service_databases: dict[str, str], isolated_nats: str
) -> None:
    url = service_databases["reporting"]
    asyncio.run(truncate_schema(url, "reporting"))
    asyncio.run(_publish_stream(isolated_nats))
    environment = {"DATABASE_URL": url, "NATS_URL": isolated_nats}

    outcome = CliRunner().invoke(cli, ["rebuild"], env=environment)

    values = asyncio.run(
        _rows(url, "SELECT member, kpi, value FROM reporting.kpi_value")
    )
    submissions = asyncio.run(
        _rows(url, "SELECT member, revision, status FROM reporting.submission")
    )
    stored = {(member, kpi): value for member, kpi, value in values}
    assert outcome.exit_code == 0, outcome.output
    assert "read models rebuilt from 9 events" in outcome.output
    assert len(values) == 3 * 51
    assert stored == _expected_values()
    assert {key: stored[key] for key in stored if key[1] == "TF.1.1"} == {
        (code, "TF.1.1"): Decimal(share) for code, share in SHARES.items()
    }
    assert sorted(submissions) == [
        ("DEU", 1, "accepted"),
        ("FRA", 1, "accepted"),
        ("ITA", 1, "accepted"),
    ]
