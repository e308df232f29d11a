"""A reviewer from the reviewed member's WCO region is flagged even when no event ever
named their home member: the shipped member registry knows its region."""

import uuid

import pytest

from pmm_kit.contracts.common import MemberAttributes
from pmm_kit.contracts.submission import MemberChanged
from pmm_local.testing import RunningService

from .helpers import (
    consumed,
    if_match,
    publish,
    register_reviewer,
    request_review,
    submitted,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_reviewer_from_the_region_is_flagged_without_any_event_of_their_member(
    review_service: RunningService,
) -> None:
    s = review_service
    secretariat = s.token("secretariat")
    submission_id = f"sub-{uuid.uuid4().hex}"
    await publish(s, submitted(submission_id))
    # Uruguay's region as an event says it, overriding the shipped registry.
    moved = await publish(
        s,
        MemberChanged(
            member=MemberAttributes(
                code="URY",
                name="Uruguay",
                wco_region="Europe",
                income_group=None,
                administration_type=None,
                geography=None,
            ),
            changed_by="secretariat-registry",
        ),
    )
    await consumed(s, moved)
    chilean = await register_reviewer(
        s, home_member="CHL", name="Chilean", languages=["es"], expertise=["TF"]
    )
    uruguayan = await register_reviewer(
        s, home_member="URY", name="Uruguayan", languages=["es"], expertise=["TF"]
    )
    requested = await request_review(s, submission_id)

    suggestions = await s.client.get(
        f"/reviews/{requested.json()['id']}/suggestions", headers=secretariat
    )
    assigned = await s.client.put(
        f"/reviews/{requested.json()['id']}/reviewers",
        json={"reviewer_ids": [chilean["id"], uruguayan["id"]], "reason": "Spanish."},
        headers={**secretariat, **if_match(requested)},
    )

    assert {x["name"]: x["same_region"] for x in suggestions.json()} == {
        "Chilean": True,
        "Uruguayan": False,
    }
    assert assigned.status_code == 200, assigned.text
    assert [(r["name"], r["same_region"]) for r in assigned.json()["reviewers"]] == [
        ("Chilean", True),
        ("Uruguayan", False),
    ]
    assert assigned.json()["warnings"] == [
        "reviewer Chilean (CHL) is from the reviewed member's WCO region "
        "Americas and Caribbean"
    ]
