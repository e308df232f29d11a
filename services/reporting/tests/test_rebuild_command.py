"""`pmm-reporting rebuild` replays the stream into empty read models."""

import asyncio

import asyncpg
import nats
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from pmm_kit.broker import ensure_stream
from pmm_local.testing import truncate_schema
from pmm_reporting.cli import cli

from .helpers import attributes, cycle_ref, electronic_share, participation, publish

CYCLE = cycle_ref(2024, "cycle-rebuilt")


async def _publish_stream(nats_url: str) -> None:
    client = await nats.connect(nats_url)
    try:
        jetstream = client.jetstream()
        await ensure_stream(jetstream)
        events = []
        for seed, code in enumerate(("FRA", "DEU", "ITA")):
            events += participation(
                CYCLE, attributes(code), electronic_share("75.00"), seed=seed
            )
        await publish(jetstream, events)
    finally:
        await client.drain()


async def _count(database_url: str, query: str) -> int:
    url = make_url(database_url).render_as_string(hide_password=False)
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval(query))
    finally:
        await connection.close()


def test_the_rebuild_command_replays_the_stream(
    service_databases: dict[str, str], isolated_nats: str
) -> None:
    url = service_databases["reporting"]
    asyncio.run(truncate_schema(url, "reporting"))
    asyncio.run(_publish_stream(isolated_nats))
    environment = {"DATABASE_URL": url, "NATS_URL": isolated_nats}

    outcome = CliRunner().invoke(cli, ["rebuild"], env=environment)

    values = asyncio.run(_count(url, "SELECT count(*) FROM reporting.kpi_value"))
    accepted = asyncio.run(
        _count(
            url, "SELECT count(*) FROM reporting.submission WHERE status = 'accepted'"
        )
    )
    assert outcome.exit_code == 0, outcome.output
    assert "read models rebuilt from 9 events" in outcome.output
    assert (values, accepted) == (3 * 51, 3)
