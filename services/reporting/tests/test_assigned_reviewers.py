"""The reviewers assigned to a member's peer review read that member's restricted
values of the reviewed cycle, from `review.assigned` on, as long as the review is not
withdrawn (a completed review still opens what was reviewed); to anyone else a
reviewer is WCO level.

The events name reviewers as the review service does: by its own ids, which no token
carries, and by their token subjects, which is what reading is matched on."""

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from pmm_kit.contracts.common import CycleRef, DisclosureLevel
from pmm_kit.events import Contract, Envelope
from pmm_reporting.rebuild import rebuild_read_models

from .helpers import (
    ServiceToStart,
    attributes,
    cycle_ref,
    electronic_share,
    participation,
    publish_and_wait,
    publish_envelopes,
    review_assigned,
    review_completed,
    review_requested,
    review_withdrawn,
    wait_applied,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CYCLE = cycle_ref(2024)
EARLIER = cycle_ref(2023)
# The module's stream keeps every test's events: a rebuild replays them all.
REBUILT = cycle_ref(2024, "cycle-reviewed-rebuilt")
ANA_ID, CARLA_ID = "0c3e7a52-ana-review-id", "5d81f0b9-carla-review-id"
ANA, CARLA, BOB = "reviewer-ana", "reviewer-carla", "reviewer-bob"
BOTH = {ANA_ID: ANA, CARLA_ID: CARLA}


def _scorecard_path(member: str, cycle_id: str = "cycle-2024") -> str:
    return f"/cycles/{cycle_id}/members/{member}/scorecard"


def _participations(cycle: CycleRef = CYCLE) -> list[Contract]:
    """BRA, ARG and CHL in 2024, every KPI restricted but TF.1.2 (WCO level) of BRA."""
    events: list[Contract] = []
    for seed, (code, share) in enumerate(
        (("BRA", "98.10"), ("ARG", "90.00"), ("CHL", "80.00"))
    ):
        disclosure = {"TF.1.2": DisclosureLevel.WCO} if code == "BRA" else {}
        events += participation(
            cycle,
            attributes(code, region="South America"),
            electronic_share(share),
            seed=seed,
            disclosure=disclosure,
        )
    return events


async def _read(s: Any, subject: str, path: str) -> dict[str, Any]:
    response = await s.client.get(path, headers=s.token("reviewer", subject=subject))
    assert response.status_code == 200, response.text
    scorecard: dict[str, Any] = response.json()
    return scorecard


def _kpi(scorecard: dict[str, Any], code: str) -> dict[str, Any]:
    line: dict[str, Any] = next(k for k in scorecard["kpis"] if k["code"] == code)
    return line


def _outcome(scorecard: dict[str, Any], code: str) -> dict[str, Any]:
    line: dict[str, Any] = next(o for o in scorecard["outcomes"] if o["code"] == code)
    return line


async def test_an_assigned_reviewer_reads_the_restricted_values_until_withdrawn(
    reporting_service: ServiceToStart,
) -> None:
    async with reporting_service as s:
        await publish_and_wait(
            s,
            [
                *_participations(),
                review_requested(CYCLE, "BRA"),
                review_assigned(CYCLE, "BRA", BOTH),
            ],
        )
        assigned = await _read(s, ANA, _scorecard_path("BRA"))
        other_member = await _read(s, ANA, _scorecard_path("ARG"))
        not_assigned = await _read(s, BOB, _scorecard_path("BRA"))
        by_review_id = await _read(s, ANA_ID, _scorecard_path("BRA"))
        await publish_and_wait(s, [review_withdrawn(CYCLE, "BRA")])
        withdrawn = await _read(s, ANA, _scorecard_path("BRA"))
        colleague_withdrawn = await _read(s, CARLA, _scorecard_path("BRA"))

    assert assigned["audience"] == "assigned_reviewer"
    assert _kpi(assigned, "TF.1.1")["disclosure"] == "restricted"
    assert _kpi(assigned, "TF.1.1")["withheld"] is False
    assert (_kpi(assigned, "TF.1.1")["value"], _kpi(assigned, "TF.1.1")["level"]) == (
        "98.10",
        "4",
    )
    assert _outcome(assigned, "TF.1")["withheld"] is False
    for wco_level in (other_member, not_assigned, by_review_id, withdrawn):
        assert wco_level["audience"] == "wco"
        assert _kpi(wco_level, "TF.1.1")["withheld"] is True
        assert _kpi(wco_level, "TF.1.1")["value"] is None
        assert _outcome(wco_level, "TF.1")["withheld"] is True
    assert _kpi(not_assigned, "TF.1.2")["withheld"] is False
    assert _kpi(withdrawn, "TF.1.2")["withheld"] is False
    assert colleague_withdrawn["audience"] == "wco"


async def test_a_completed_review_still_opens_the_reviewed_cycle_and_only_that(
    reporting_service: ServiceToStart,
) -> None:
    earlier = participation(
        EARLIER,
        attributes("BRA", region="South America"),
        {
            ("DECL_TOTAL", 2023): Decimal(10_000),
            ("DECL_ELECTRONIC", 2023): Decimal(9_000),
        },
    )

    async with reporting_service as s:
        await publish_and_wait(
            s,
            [
                *earlier,
                *_participations(),
                review_requested(CYCLE, "BRA"),
                review_assigned(CYCLE, "BRA", BOTH),
                review_completed(CYCLE, "BRA"),
            ],
        )
        reviewed = await _read(s, CARLA, _scorecard_path("BRA"))
        not_reviewed = await _read(s, CARLA, _scorecard_path("BRA", "cycle-2023"))

    tf_1_1 = _kpi(reviewed, "TF.1.1")
    assert reviewed["audience"] == "assigned_reviewer"
    assert reviewed["review_outcome"] == "completed"
    assert (tf_1_1["value"], tf_1_1["previous_value"]) == ("98.10", "90.00")
    assert not_reviewed["audience"] == "wco"
    assert _kpi(not_reviewed, "TF.1.1")["value"] is None


async def test_the_order_events_arrive_in_does_not_open_or_keep_access(
    reporting_service: ServiceToStart,
) -> None:
    first = Envelope.wrap(
        review_assigned(CYCLE, "BRA", {ANA_ID: ANA}), correlation_id="test"
    )
    reassigned = Envelope.wrap(
        review_assigned(CYCLE, "BRA", {CARLA_ID: CARLA}), correlation_id="test"
    )
    requested = Envelope.wrap(review_requested(CYCLE, "BRA"), correlation_id="test")
    withdrawn = Envelope.wrap(review_withdrawn(CYCLE, "ARG"), correlation_id="test")
    assigned_after = Envelope.wrap(
        review_assigned(CYCLE, "ARG", {ANA_ID: ANA}), correlation_id="test"
    )
    # The later assignment and the withdrawal come first; the request comes last.
    late = [reassigned, first, withdrawn, assigned_after, requested]

    async with reporting_service as s:
        await publish_and_wait(s, [*_participations(), review_requested(CYCLE, "ARG")])
        await publish_envelopes(s.runtime.broker.jetstream, late)
        await wait_applied(s.runtime.sessions, late)
        carla = await _read(s, CARLA, _scorecard_path("BRA"))
        ana = await _read(s, ANA, _scorecard_path("BRA"))
        ana_on_withdrawn = await _read(s, ANA, _scorecard_path("ARG"))

    assert carla["audience"] == "assigned_reviewer"
    assert _kpi(carla, "TF.1.1")["value"] == "98.10"
    assert ana["audience"] == "wco"
    assert _kpi(ana, "TF.1.1")["value"] is None
    assert ana_on_withdrawn["audience"] == "wco"
    assert _kpi(ana_on_withdrawn, "TF.1.1")["value"] is None


async def test_a_rebuild_restores_the_reviewers_access(
    reporting_service: ServiceToStart,
) -> None:
    path = _scorecard_path("BRA", REBUILT.cycle_id)

    async with reporting_service as s:
        await publish_and_wait(
            s,
            [
                *_participations(REBUILT),
                review_requested(REBUILT, "BRA"),
                review_assigned(REBUILT, "BRA", BOTH),
            ],
        )
        before = await _read(s, ANA, path)
        await rebuild_read_models(s.runtime.sessions, s.runtime.broker.jetstream)
        after = await _read(s, ANA, path)
        async with s.runtime.sessions() as session:
            stored = (
                await session.execute(
                    sa.text(
                        "SELECT status, reviewer_subjects FROM review"
                        " WHERE cycle_id = :cycle_id"
                    ),
                    {"cycle_id": REBUILT.cycle_id},
                )
            ).all()

    assert before["audience"] == after["audience"] == "assigned_reviewer"
    assert _kpi(after, "TF.1.1")["value"] == "98.10"
    assert [tuple(row) for row in stored] == [("assigned", [ANA, CARLA])]
