"""The read models come from events alone, survive duplicates and stale revisions,
and a replay of the stream rebuilds them as they were."""

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from pmm_kit.contracts.common import DisclosureLevel
from pmm_kit.events import Contract
from pmm_reporting.models import KpiValue, MemberResult, table
from pmm_reporting.rebuild import rebuild_read_models

from .helpers import (
    ServiceToStart,
    accepted,
    assessment,
    attributes,
    cycle_opened,
    cycle_ref,
    electronic_share,
    member_changed,
    participation,
    publish,
    publish_and_wait,
    review_completed,
    scored,
    submitted,
    wait_applied,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CYCLE = cycle_ref(2024)
REPLAYED = cycle_ref(2024, "cycle-replayed")


async def test_a_scorecard_is_built_from_events_alone(
    reporting_service: ServiceToStart,
) -> None:
    member = attributes("BRA", region="South America")

    async with reporting_service as s:
        await publish_and_wait(
            s,
            [
                cycle_opened(CYCLE),
                member_changed(member),
                *participation(CYCLE, member, electronic_share("98.10")),
                review_completed(CYCLE, "BRA"),
            ],
        )
        response = await s.client.get(
            "/cycles/cycle-2024/members/BRA/scorecard", headers=s.token("secretariat")
        )

    scorecard = response.json()
    line = next(k for k in scorecard["kpis"] if k["code"] == "TF.1.1")
    paperless = next(o for o in scorecard["outcomes"] if o["code"] == "TF.1")
    facilitation = next(d for d in scorecard["dimensions"] if d["code"] == "TF")
    kpi_levels = [k["level"] for k in scorecard["kpis"] if k["outcome"] == "TF.1"]
    outcome_levels = [
        Decimal(o["level"]) for o in scorecard["outcomes"] if o["dimension"] == "TF"
    ]
    assert response.status_code == 200
    assert scorecard["cycle"]["code"] == "PMM-2024"
    assert scorecard["member"]["wco_region"] == "South America"
    assert scorecard["submission_status"] == "accepted"
    assert scorecard["peer_reviewed"] is True
    assert scorecard["review_outcome"] == "completed"
    assert (line["value"], line["level"], line["withheld"]) == ("98.10", "4", False)
    # Paperless trade averages its KPIs' levels (M2): 4, 4 and 1 make 3.
    assert kpi_levels == ["4", "4", "1"]
    assert (paperless["status"], paperless["level"]) == ("scored", "3.00")
    # The dimension is the mean of its eight outcome levels, all of them scored.
    assert len(outcome_levels) == 8
    assert facilitation["score"] == "2.40"
    assert round(sum(outcome_levels) / 8, 2) == Decimal("2.40")
    assert facilitation["coverage"] == {
        "scored": 8,
        "applicable": 8,
        "ratio": "1.0000",
    }


async def test_a_stale_revision_never_overwrites_a_newer_one(
    reporting_service: ServiceToStart,
) -> None:
    member = attributes("BRA")
    newer = assessment(2024, 1, electronic_share("90.00"))
    older = assessment(2024, 1, electronic_share("80.00"))

    async with reporting_service as s:
        await publish_and_wait(
            s,
            [
                submitted(CYCLE, member, revision=2),
                scored(CYCLE, "BRA", newer, revision=2),
                submitted(CYCLE, member, revision=1),
                scored(CYCLE, "BRA", older, revision=1),
                accepted(CYCLE, "BRA", revision=1),
            ],
        )
        async with s.runtime.sessions() as session:
            kpi_value = table(KpiValue)
            value = await session.scalar(
                sa.select(kpi_value.c.value).where(kpi_value.c.kpi == "TF.1.1")
            )
            revision = await session.scalar(sa.select(table(MemberResult).c.revision))

    assert (value, revision) == (Decimal("90.00"), 2)


# The live table, which only the Secretariat reads, is what a rebuild rebuilds.
LIVE = "/cycles/cycle-replayed/benchmarks?kpi=TF.1.1"


async def test_a_rebuild_replays_the_stream_into_the_same_read_models(
    reporting_service: ServiceToStart,
) -> None:
    events: list[Contract] = [cycle_opened(REPLAYED)]
    for number, code in enumerate(("BRA", "ARG", "CHL", "PER")):
        events += participation(
            REPLAYED,
            attributes(code, region="South America"),
            electronic_share(f"{90 + number}.50"),
            seed=number,
        )

    async with reporting_service as s:
        envelopes = await publish(s.runtime.broker.jetstream, events)
        await wait_applied(s.runtime.sessions, envelopes)
        before = await s.client.get(LIVE, headers=s.token("secretariat"))
        rows_before = await _read_model_rows(s)
        async with s.runtime.sessions() as session, session.begin():
            await session.execute(sa.text("DELETE FROM kpi_value"))
            await session.execute(
                sa.text("UPDATE submission SET disclosure = '{}', status = 'x'")
            )
            await session.execute(sa.text("UPDATE cycle SET version = version + 1"))
        emptied = await s.client.get(LIVE, headers=s.token("secretariat"))

        applied = await rebuild_read_models(
            s.runtime.sessions, s.runtime.broker.jetstream
        )
        after = await s.client.get(LIVE, headers=s.token("secretariat"))
        rows_after = await _read_model_rows(s)

    shares = {
        (member, kpi): value
        for member, kpi, _, value, _ in rows_before["kpi_value"]
        if kpi == "TF.1.1"
    }
    assert applied >= len(events)
    assert emptied.json()["cells"] == []
    assert after.json()["cells"] == before.json()["cells"]
    assert before.json()["cells"][0]["mean"] == "92.0000"
    assert shares == {
        ("ARG", "TF.1.1"): Decimal("91.50"),
        ("BRA", "TF.1.1"): Decimal("90.50"),
        ("CHL", "TF.1.1"): Decimal("92.50"),
        ("PER", "TF.1.1"): Decimal("93.50"),
    }
    assert len(rows_before["kpi_value"]) == 4 * 51
    assert rows_after == rows_before


async def _read_model_rows(s: Any) -> dict[str, list[tuple[Any, ...]]]:
    """What the read models hold of the replayed cycle, row by row (versions and
    times aside; the stream holds this module's other tests' events too)."""
    queries = {
        "kpi_value": "SELECT member, kpi, revision, value, level FROM kpi_value"
        " WHERE cycle_id = :cycle ORDER BY member, kpi",
        "submission": "SELECT submission_id, member, revision, status, wco_region,"
        " disclosure FROM submission WHERE cycle_id = :cycle ORDER BY submission_id",
        "member_result": "SELECT member, submission_id, revision, summary"
        " FROM member_result WHERE cycle_id = :cycle ORDER BY member",
    }
    rows = {}
    async with s.runtime.sessions() as session:
        for name, query in queries.items():
            found = await session.execute(sa.text(query), {"cycle": REPLAYED.cycle_id})
            rows[name] = [tuple(row) for row in found]
    return rows


async def test_a_scorecard_shows_the_trend_against_the_previous_cycle(
    reporting_service: ServiceToStart,
) -> None:
    earlier = cycle_ref(2022)
    member = attributes("BRA")
    public = {"TF.1.1": DisclosureLevel.PUBLIC}
    events = [
        *participation(
            earlier,
            member,
            {
                ("DECL_TOTAL", 2022): Decimal(10_000),
                ("DECL_ELECTRONIC", 2022): Decimal(8_000),
            },
            disclosure=public,
        ),
        *participation(CYCLE, member, electronic_share("90.00"), disclosure=public),
    ]

    async with reporting_service as s:
        await publish_and_wait(s, events)
        response = await s.client.get("/cycles/cycle-2024/members/BRA/scorecard")

    scorecard = response.json()
    line = next(k for k in scorecard["kpis"] if k["code"] == "TF.1.1")
    restricted = next(k for k in scorecard["kpis"] if k["code"] == "TF.1.2")
    assert scorecard["previous_cycle_id"] == "cycle-2022"
    assert (line["previous_value"], line["change"]) == ("80.00", "10.00")
    assert restricted["previous_value"] is None
    assert scorecard["audience"] == "public"
