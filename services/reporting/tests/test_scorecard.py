"""A scorecard shows the member beside each of its peer groups (all members, its WCO
region, income group and administration type), and says whether a peer review of it
was completed."""

from typing import Any

import pytest

from .helpers import (
    ServiceToStart,
    attributes,
    cycle_ref,
    electronic_share,
    participation,
    publish_and_wait,
    review_assigned,
    review_requested,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CYCLE = cycle_ref(2024)
SCORECARD = "/cycles/cycle-2024/members/{}/scorecard"
# code: (region, income group, administration type, TF.1.1)
MEMBERS = {
    "BRA": ("South America", "upper middle", "customs", "98.00"),
    "ARG": ("South America", "upper middle", "revenue authority", "90.00"),
    "CHL": ("South America", "high", "customs", "80.00"),
    "PER": ("South America", "upper middle", "customs", "70.00"),
    "FRA": ("Europe", "high", "customs", "60.00"),
    "COL": ("South America", "upper middle", "revenue authority", "50.00"),
}


def _events() -> list[Any]:
    events = []
    for seed, (code, (region, income, kind, share)) in enumerate(MEMBERS.items()):
        events += participation(
            CYCLE,
            attributes(code, region=region, income=income, administration=kind),
            electronic_share(share),
            seed=seed,
        )
    return events


def _tf_1_1(scorecard: Any) -> dict[str, Any]:
    line: dict[str, Any] = next(
        k for k in scorecard.json()["kpis"] if k["code"] == "TF.1.1"
    )
    return line


async def test_a_member_is_shown_beside_each_of_its_peer_groups(
    reporting_service: ServiceToStart,
) -> None:
    async with reporting_service as s:
        await publish_and_wait(s, _events())
        secretariat = await s.client.get(
            SCORECARD.format("BRA"), headers=s.token("secretariat")
        )
        public = await s.client.get(SCORECARD.format("BRA"))

    peers = {
        (cell["grouping"], cell["group"]): cell
        for cell in _tf_1_1(secretariat)["peers"]
    }
    public_peers = {
        (cell["grouping"], cell["group"]): cell for cell in _tf_1_1(public)["peers"]
    }
    # Brazil is in South America (5), upper middle income (4) and customs (4).
    assert {key: (cell["n"], cell["mean"]) for key, cell in peers.items()} == {
        ("all", "all"): (6, "74.6667"),
        ("wco_region", "South America"): (5, "77.6000"),
        ("income_group", "upper middle"): (4, "77.0000"),
        ("administration_type", "customs"): (4, "77.0000"),
    }
    assert peers[("income_group", "upper middle")]["median"] == "80.0000"
    assert peers[("administration_type", "customs")]["minimum"] == "60.00"
    assert set(public_peers) == set(peers)
    # Every value is restricted: the public gets no member's value, only n and
    # means of cells whose restricted part is safe.
    assert all(cell["median"] is None for cell in public_peers.values())
    assert _tf_1_1(public)["value"] is None


async def test_a_scorecard_says_no_peer_review_until_one_is_completed(
    reporting_service: ServiceToStart,
) -> None:
    async with reporting_service as s:
        await publish_and_wait(s, _events())
        never_asked = await s.client.get(SCORECARD.format("ARG"))
        await publish_and_wait(
            s,
            [
                review_requested(CYCLE, "BRA"),
                review_assigned(CYCLE, "BRA", {"reviewer-1": "subject-1"}),
            ],
        )
        under_review = await s.client.get(SCORECARD.format("BRA"))

    for scorecard in (never_asked, under_review):
        assert scorecard.status_code == 200
        assert scorecard.json()["peer_reviewed"] is False
        assert scorecard.json()["review_outcome"] is None
