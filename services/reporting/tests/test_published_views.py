"""Readers other than the Secretariat get benchmark cells only as the cycle's latest
report froze them for their audience: polling before and after an acceptance shows
nothing move until the next report, and before the first there are no cells."""

from typing import Any

import pytest

from pmm_kit.contracts.common import DisclosureLevel
from pmm_reporting.suppression import ALL_MEMBERS

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
KPI = "TF.1.1"
BENCHMARKS = "/cycles/cycle-2024/benchmarks"
SCORECARD = "/cycles/cycle-2024/members/FRA/scorecard"


def _participations(members: dict[str, str], first_seed: int = 0) -> list[Any]:
    """Their TF.1.1 at WCO level: the public sees none of the values, WCO-level
    readers all of them."""
    return shares_accepted(
        CYCLE, members, level=DisclosureLevel.WCO, first_seed=first_seed
    )


def _everyone(response: Any) -> dict[str, Any]:
    cells = {
        (c["grouping"], c["group"]): c
        for c in response.json()["cells"]
        if c["kpi"] == KPI
    }
    everyone: dict[str, Any] = cells[ALL_MEMBERS]
    return everyone


def _peers(scorecard: Any) -> list[dict[str, Any]]:
    line = next(k for k in scorecard.json()["kpis"] if k["code"] == KPI)
    peers: list[dict[str, Any]] = line["peers"]
    return peers


async def _reads(s: Any) -> dict[str, Any]:
    """What the public and a WCO-level reader get of every view made of cells."""
    ncp = s.token("ncp", "ARG")
    return {
        "public": await s.client.get(BENCHMARKS),
        "wco": await s.client.get(BENCHMARKS, headers=ncp),
        "public scorecard": await s.client.get(SCORECARD),
        "wco scorecard": await s.client.get(SCORECARD, headers=ncp),
        "public csv": await s.client.get(f"{BENCHMARKS}.csv"),
        "wco csv": await s.client.get(f"{BENCHMARKS}.csv", headers=ncp),
        "public themes": await s.client.get("/cycles/cycle-2024/instruments"),
        "wco themes": await s.client.get("/cycles/cycle-2024/sdg-targets", headers=ncp),
    }


async def test_polling_around_an_acceptance_shows_nothing_until_the_next_report(
    reporting_service: ServiceToStart,
) -> None:
    first = {"FRA": "90.00", "DEU": "80.00", "ITA": "70.00"}
    late = _participations({"ESP": "61.00"}, first_seed=3)
    later = _participations({"POL": "55.00", "PRT": "45.00"}, first_seed=4)

    async with reporting_service as s:
        await publish_and_wait(s, [cycle_opened(CYCLE), *_participations(first)])
        unpublished = await _reads(s)
        live_before = await s.client.get(BENCHMARKS, headers=s.token("secretariat"))
        first_id = await publish_report(s)
        before = await _reads(s)
        await publish_and_wait(s, late)
        after_one = await _reads(s)
        live_after = await s.client.get(BENCHMARKS, headers=s.token("secretariat"))
        await publish_and_wait(s, later)
        after_three = await _reads(s)
        second_id = await publish_report(s)
        republished = await _reads(s)

    for name in ("public", "wco"):
        assert unpublished[name].json()["publication"] == {
            "state": "not_yet_published",
            "report_id": None,
            "published_at": None,
        }
        assert unpublished[name].json()["cells"] == []
        assert unpublished[f"{name} csv"].text.count("\r\n") == 1
        assert {
            (p["suppression_reason"], p["mean"])
            for p in _peers(unpublished[f"{name} scorecard"])
        } == {("not_yet_published", None)}
    assert all(
        kpi["cells"] == []
        for name in ("public themes", "wco themes")
        for theme in unpublished[name].json()["themes"]
        for kpi in theme["kpis"]
    )
    assert unpublished["public themes"].json()["publication"]["state"] == (
        "not_yet_published"
    )
    # The Secretariat reads the live table, which moves with the acceptance.
    assert live_before.json()["publication"]["state"] == "live"
    assert (_everyone(live_before)["n"], _everyone(live_before)["mean"]) == (
        3,
        "80.0000",
    )
    assert (_everyone(live_after)["n"], _everyone(live_after)["mean"]) == (
        4,
        "75.2500",
    )
    # The others read the first report, byte for byte, until the second.
    for name, response in before.items():
        assert after_one[name].content == response.content, name
        assert after_three[name].content == response.content, name
    assert before["public"].json()["publication"]["report_id"] == first_id
    assert before["wco"].json()["publication"]["report_id"] == first_id
    public, wco = _everyone(before["public"]), _everyone(before["wco"])
    assert (public["n"], public["mean"], public["median"]) == (3, "80.0000", None)
    assert public["order_statistics_withheld"] is True
    assert (wco["n"], wco["mean"], wco["median"]) == (3, "80.0000", "80.0000")
    assert wco["order_statistics_withheld"] is False
    assert _peers(before["wco scorecard"])[0]["minimum"] == "70.00"
    # The second report holds against the first (three members more: safe), and
    # is what everyone reads now.
    public, wco = _everyone(republished["public"]), _everyone(republished["wco"])
    assert republished["public"].json()["publication"]["report_id"] == second_id
    assert republished["wco"].json()["publication"]["report_id"] == second_id
    assert (public["n"], public["mean"], public["median"]) == (6, "66.8333", None)
    assert (wco["n"], wco["mean"], wco["median"]) == (6, "66.8333", "65.5000")
    assert _peers(republished["public scorecard"])[0]["n"] == 6


async def test_a_member_reads_its_own_values_live_and_its_peers_as_published(
    reporting_service: ServiceToStart,
) -> None:
    members = {"FRA": "90.00", "DEU": "80.00", "ITA": "70.00"}
    late = _participations({"ESP": "61.00"}, first_seed=3)

    async with reporting_service as s:
        await publish_and_wait(s, [cycle_opened(CYCLE), *_participations(members)])
        await publish_report(s)
        own_before = await s.client.get(SCORECARD, headers=s.token("ncp", "FRA"))
        await publish_and_wait(s, late)
        own_after = await s.client.get(SCORECARD, headers=s.token("ncp", "FRA"))
        late_member = await s.client.get(
            "/cycles/cycle-2024/members/ESP/scorecard", headers=s.token("ncp", "ARG")
        )

    line = next(k for k in own_after.json()["kpis"] if k["code"] == KPI)
    assert line["value"] == "90.00"
    assert _peers(own_after) == _peers(own_before)
    assert _peers(own_after)[0]["n"] == 3
    # A value disclosed at WCO level reaches a WCO-level reader as soon as it is
    # accepted: it is the member's own, not an aggregate to subtract.
    late_line = next(k for k in late_member.json()["kpis"] if k["code"] == KPI)
    assert late_line["value"] == "61.00"
    assert _peers(late_member)[0]["n"] == 3


async def test_only_the_secretariat_reads_the_live_view(
    reporting_service: ServiceToStart,
) -> None:
    members = {"FRA": "90.00", "DEU": "80.00", "ITA": "70.00"}

    async with reporting_service as s:
        await publish_and_wait(s, [cycle_opened(CYCLE), *_participations(members)])
        report_id = await publish_report(s)
        secretariat = s.token("secretariat")
        as_published = await s.client.get(
            BENCHMARKS, params={"view": "public"}, headers=secretariat
        )
        as_wco = await s.client.get(
            BENCHMARKS, params={"view": "wco"}, headers=secretariat
        )
        public = await s.client.get(BENCHMARKS)
        wco = await s.client.get(BENCHMARKS, headers=s.token("ncp", "ARG"))
        ncp_asks_live = await s.client.get(
            BENCHMARKS, params={"view": "live"}, headers=s.token("ncp", "ARG")
        )
        public_asks_wco = await s.client.get(BENCHMARKS, params={"view": "wco"})
        public_asks_live = await s.client.get(BENCHMARKS, params={"view": "live"})

    assert as_published.json() == public.json()
    assert as_wco.json() == wco.json()
    assert as_published.json()["publication"]["report_id"] == report_id
    for refused in (ncp_asks_live, public_asks_wco, public_asks_live):
        assert refused.status_code == 403
        assert refused.json()["type"] == "urn:pmm:problem:view-forbidden"
    assert ncp_asks_live.json()["view"] == "live"
