"""A path names a cycle by its id or by its code (`/cycles/PMM-2023/benchmarks`), as
the submission service's feeds do; both give the same answer."""

import uuid
from typing import Any

import pytest

from pmm_kit.contracts.common import DisclosureLevel

from .helpers import (
    ServiceToStart,
    cycle_opened,
    cycle_ref,
    publish_and_wait,
    publish_report,
    shares_accepted,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CYCLE_ID = str(uuid.UUID(int=2024))
CYCLE = cycle_ref(2024, CYCLE_ID)
MEMBERS = {"FRA": "90.00", "DEU": "80.00", "ITA": "70.00"}


def _seed_events() -> list[Any]:
    public = DisclosureLevel.PUBLIC
    return [cycle_opened(CYCLE), *shares_accepted(CYCLE, MEMBERS, level=public)]


@pytest.fixture
async def reporting(reporting_service: ServiceToStart) -> Any:
    async with reporting_service as s:
        await publish_and_wait(s, _seed_events())
        yield s


async def test_the_cycle_code_reads_what_the_cycle_id_reads(reporting: Any) -> None:
    client, ncp = reporting.client, reporting.token("ncp", "FRA")
    await publish_report(reporting, CYCLE)
    paths = (
        "/benchmarks?kpi=TF.1.1",
        "/members/FRA/scorecard",
        "/sdg-targets",
        "/benchmarks.csv",
    )

    by_id = [await client.get(f"/cycles/{CYCLE_ID}{p}", headers=ncp) for p in paths]
    by_code = [await client.get(f"/cycles/PMM-2024{p}", headers=ncp) for p in paths]

    assert [r.status_code for r in by_code] == [200] * len(paths)
    assert [r.content for r in by_code] == [r.content for r in by_id]
    benchmarks = by_code[0].json()
    assert benchmarks["cycle"]["cycle_id"] == CYCLE_ID
    assert benchmarks["cycle"]["code"] == "PMM-2024"
    (cell,) = [c for c in benchmarks["cells"] if c["grouping"] == "all"]
    assert (cell["n"], cell["median"]) == (3, "80.0000")


async def test_a_report_is_published_and_listed_under_the_cycle_code(
    reporting: Any,
) -> None:
    client, secretariat = reporting.client, reporting.token("secretariat")

    published = await client.post("/cycles/PMM-2024/reports", headers=secretariat)
    listed = await client.get("/cycles/PMM-2024/reports")
    listed_to_staff = await client.get("/cycles/PMM-2024/reports", headers=secretariat)
    snapshot = await client.get(f"/reports/{published.json()['report_id']}")

    assert published.status_code == 201, published.text
    assert published.json()["cycle_id"] == CYCLE_ID
    assert [r["report_id"] for r in listed.json()] == [published.json()["report_id"]]
    # The public reads who published as the organisation; staff read the person.
    subject = published.json()["published_by"]
    assert subject not in ("", "WCO Secretariat")
    assert listed.json()[0]["published_by"] == "WCO Secretariat"
    assert snapshot.json()["published_by"] == "WCO Secretariat"
    assert subject not in snapshot.text
    assert listed_to_staff.json()[0]["published_by"] == subject


async def test_a_code_of_no_cycle_is_not_found_and_says_so(reporting: Any) -> None:
    response = await reporting.client.get("/cycles/PMM-1999/benchmarks")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "no cycle 'PMM-1999'"


async def test_a_code_two_cycles_share_names_neither(reporting: Any) -> None:
    # The submission service keeps codes unique; this read model takes the events
    # as they come, and a guess between two cycles could show the wrong one.
    await publish_and_wait(reporting, [cycle_opened(cycle_ref(2024, "cycle-other"))])

    by_code = await reporting.client.get("/cycles/PMM-2024/benchmarks")
    by_id = await reporting.client.get(f"/cycles/{CYCLE_ID}/benchmarks")

    assert by_code.status_code == 404
    assert "names 2 cycles" in by_code.json()["detail"]
    assert by_id.status_code == 200
    assert by_id.json()["cycle"]["cycle_id"] == CYCLE_ID
