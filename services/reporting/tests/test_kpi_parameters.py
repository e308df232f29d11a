"""A KPI the cycle's framework lacks was answered 200 with no cells by
`/benchmarks`, which a reader could not tell from "nothing published". Every route
that names a KPI now answers such a KPI with a 404 `kpi-not-found` naming it, and
an empty or over-long one with a 422 naming the parameter; a known KPI with nothing
released is still a 200 without cells."""

from typing import Any

import pytest
from httpx import Response

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

CYCLE = cycle_ref(2024)
MEMBERS = {"FRA": "90.00", "DEU": "80.00", "ITA": "70.00"}
UNKNOWN_KPIS = ["NOPE", "rc.1.2", "tf.1.1", " TF.1.1"]
OVER_LONG = "K" * 30_000
BENCHMARKS = "/cycles/cycle-2024/benchmarks"
DISTRIBUTION = "/cycles/cycle-2024/kpis/{}/distribution.svg"
PEERS = "/cycles/cycle-2024/members/FRA/kpis/{}/peers.svg"


def _events() -> list[Any]:
    public = DisclosureLevel.PUBLIC
    return [cycle_opened(CYCLE), *shares_accepted(CYCLE, MEMBERS, level=public)]


def _not_found(response: Response) -> tuple[int, str, str]:
    problem = response.json()
    return response.status_code, problem["type"], problem["kpi"]


def _invalid(response: Response) -> tuple[int, list[str]]:
    return response.status_code, [e["field"] for e in response.json()["errors"]]


async def test_an_unknown_kpi_is_a_404_naming_it_on_every_route(
    reporting_service: ServiceToStart,
) -> None:
    async with reporting_service as s:
        await publish_and_wait(s, _events())
        before_publication = await s.client.get(f"{BENCHMARKS}?kpi=RC.1.2")
        await publish_report(s, CYCLE)
        known = await s.client.get(f"{BENCHMARKS}?kpi=TF.1.1&grouping=all")
        answers = {
            kpi: [
                await s.client.get(BENCHMARKS, params={"kpi": kpi}),
                await s.client.get(
                    BENCHMARKS, params={"kpi": kpi}, headers=s.token("secretariat")
                ),
                await s.client.get(DISTRIBUTION.format(kpi)),
                await s.client.get(PEERS.format(kpi)),
            ]
            for kpi in UNKNOWN_KPIS
        }

    not_found = "urn:pmm:problem:kpi-not-found"
    assert before_publication.status_code == 200
    assert before_publication.json()["publication"]["state"] == "not_yet_published"
    assert before_publication.json()["cells"] == []
    assert [(c["kpi"], c["n"], c["mean"]) for c in known.json()["cells"]] == [
        ("TF.1.1", 3, "80.0000")
    ]
    for kpi, responses in answers.items():
        assert [_not_found(r) for r in responses] == [(404, not_found, kpi)] * 4
        assert f"'{kpi}'" in responses[0].json()["detail"]


async def test_an_empty_or_over_long_kpi_is_a_422_naming_the_parameter(
    reporting_service: ServiceToStart,
) -> None:
    async with reporting_service as s:
        await publish_and_wait(s, _events())
        await publish_report(s, CYCLE)
        empty = await s.client.get(f"{BENCHMARKS}?kpi=")
        over_long = await s.client.get(BENCHMARKS, params={"kpi": OVER_LONG})
        unknown_grouping = await s.client.get(f"{BENCHMARKS}?grouping=NOPE")
        long_distribution = await s.client.get(DISTRIBUTION.format(OVER_LONG))
        long_peers = await s.client.get(PEERS.format(OVER_LONG))

    assert _invalid(empty) == (422, ["query.kpi"])
    assert empty.json()["errors"][0]["code"] == "string_too_short"
    assert _invalid(over_long) == (422, ["query.kpi"])
    assert over_long.json()["errors"][0]["code"] == "string_too_long"
    assert OVER_LONG not in over_long.text
    assert _invalid(unknown_grouping) == (422, ["query.grouping"])
    assert _invalid(long_distribution) == (422, ["path.kpi"])
    assert _invalid(long_peers) == (422, ["path.kpi"])
