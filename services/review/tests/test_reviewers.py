"""Reviewers: expertise in the framework's dimensions, a replacement while the review
is under way, and profile changes that would undo what assignment checked."""

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from pmm_kit.contracts.review import ReviewAssigned
from pmm_local.testing import RunningService

from .helpers import (
    as_reviewer,
    if_match,
    last_event,
    publish,
    register_reviewer,
    review_in_progress,
    submitted,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUERY = {
    "kpi": "TF.1.1",
    "subject": "Source",
    "message": "Which system?",
    "due_date": (date.today() + timedelta(days=7)).isoformat(),
}


async def test_expertise_and_focus_name_dimensions_of_the_framework(
    review_service: RunningService,
) -> None:
    s = review_service
    submission_id = f"sub-{uuid.uuid4().hex}"
    await publish(s, submitted(submission_id))

    unknown_expertise = await s.client.post(
        "/reviewers",
        json={
            "subject": "reviewer-xx",
            "name": "Expert XX",
            "home_member": "FRA",
            "languages": ["fr"],
            "expertise": ["TF", "XX"],
            "accreditation": "wco_expert",
        },
        headers=s.token("secretariat"),
    )
    unknown_focus = await s.client.post(
        "/reviews",
        json={
            "submission_id": submission_id,
            "focus_dimensions": ["ZZ"],
            "reason": "An outside view.",
        },
        headers=s.token("ncp", "BRA"),
    )
    listed = await s.client.get("/reviewers", headers=s.token("secretariat"))

    assert unknown_expertise.status_code == 422
    (error,) = unknown_expertise.json()["errors"]
    assert error["field"] == "body.expertise.1"
    assert "ES, OD, RC, TF" in error["message"]
    assert unknown_focus.status_code == 422
    assert unknown_focus.json()["errors"][0]["field"] == "body.focus_dimensions.0"
    assert listed.json() == []


async def test_the_secretariat_replaces_a_reviewer_of_a_review_in_progress(
    review_service: RunningService,
) -> None:
    s = review_service
    secretariat = s.token("secretariat", subject="secretariat-ana")
    review, (leaving, staying) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    url = f"/reviews/{review['id']}"
    replacement = await register_reviewer(
        s, home_member="FRA", name="Replacement", languages=["en"], expertise=["TF"]
    )
    seen = await s.client.get(url, headers=as_reviewer(s, leaving))
    opened = await s.client.post(
        f"{url}/queries",
        json=QUERY,
        headers={**as_reviewer(s, leaving), **if_match(seen)},
    )
    in_review = await s.client.get(url, headers=secretariat)

    replaced = await s.client.put(
        f"{url}/reviewers",
        json={
            "reviewer_ids": [staying["id"], replacement["id"]],
            "reason": "Expert FRA left the programme.",
        },
        headers={**secretariat, **if_match(in_review)},
    )
    as_leaving = await s.client.get(url, headers=as_reviewer(s, leaving))
    as_replacement = await s.client.get(url, headers=as_reviewer(s, replacement))
    history = await s.client.get(f"{url}/history", headers=secretariat)
    event = await last_event(
        s, ReviewAssigned, review_id=review["id"], assigned_by="secretariat-ana"
    )

    assert in_review.json()["state"] == "in_review"
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["state"] == "in_review"
    assert [r["name"] for r in replaced.json()["reviewers"]] == [
        "Expert KEN",
        "Replacement",
    ]
    assert [q["id"] for q in replaced.json()["queries"]] == [opened.json()["id"]]
    assert as_leaving.status_code == 404
    assert as_replacement.json()["state"] == "in_review"
    removed = [t for t in history.json() if t["action"] == "reviewer_removed"]
    assert [(t["from_state"], t["to_state"], t["actor"]) for t in removed] == [
        ("in_review", "in_review", "secretariat-ana")
    ]
    assert removed[0]["reason"] == (
        f"Expert FRA (FRA, reviewer {leaving['id']}): Expert FRA left the programme."
    )
    assert event.data["reviewer_ids"] == [staying["id"], replacement["id"]]


def _profile(reviewer: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The profile as registered, with some fields changed."""
    fields = ("subject", "name", "home_member", "languages", "expertise")
    kept = {name: reviewer[name] for name in fields}
    return {**kept, "accreditation": reviewer["accreditation"], **changes}


async def _change_profile(
    s: RunningService, reviewer: dict[str, Any], seen: httpx.Response, **changes: Any
) -> httpx.Response:
    """The Secretariat's update of the profile, naming the version read in `seen`."""
    return await s.client.put(
        f"/reviewers/{reviewer['id']}",
        json=_profile(reviewer, **changes),
        headers={**s.token("secretariat"), **if_match(seen)},
    )


async def test_a_reviewer_cannot_move_home_to_a_member_they_review(
    review_service: RunningService,
) -> None:
    s = review_service
    secretariat = s.token("secretariat")
    review, (from_fra, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    url = f"/reviewers/{from_fra['id']}"
    seen = await s.client.get(url, headers=secretariat)

    to_reviewed = await _change_profile(s, from_fra, seen, home_member="BRA")
    to_unknown = await _change_profile(s, from_fra, seen, home_member="ZZZ")
    registered_unknown = await s.client.post(
        "/reviewers",
        json=_profile(from_fra, subject="reviewer-zzz", home_member="ZZZ"),
        headers=secretariat,
    )
    untouched = await s.client.get(url, headers=secretariat)
    listed = await s.client.get("/reviewers", headers=secretariat)
    to_neighbour = await _change_profile(s, from_fra, seen, home_member="ARG")
    after = await s.client.get(f"/reviews/{review['id']}", headers=secretariat)

    assert to_reviewed.status_code == 409
    assert to_reviewed.json()["type"] == "urn:pmm:problem:conflict-of-interest"
    assert to_reviewed.json()["review_ids"] == [review["id"]]
    assert review["id"] in to_reviewed.json()["detail"]
    for refused in (to_unknown, registered_unknown):
        assert refused.status_code == 422
        assert refused.json()["type"] == "urn:pmm:problem:invalid-review-input"
        assert refused.json()["field"] == "home_member"
    assert (untouched.json()["home_member"], untouched.headers["ETag"]) == (
        "FRA",
        seen.headers["ETag"],
    )
    assert [r["name"] for r in listed.json()] == ["Expert FRA", "Expert KEN"]
    assert to_neighbour.status_code == 200, to_neighbour.text
    assert to_neighbour.json()["home_member"] == "ARG"
    assert [(r["name"], r["same_region"]) for r in after.json()["reviewers"]] == [
        ("Expert FRA", True),
        ("Expert KEN", False),
    ]
    assert after.json()["warnings"] == [
        "reviewer Expert FRA (ARG) is from the reviewed member's WCO region "
        "Americas and Caribbean"
    ]


async def test_a_reviewer_subject_changes_only_once_off_the_reviews_in_progress(
    review_service: RunningService,
) -> None:
    s = review_service
    secretariat = s.token("secretariat")
    review, (leaving, staying) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    url = f"/reviewers/{leaving['id']}"
    new_subject = f"reviewer-fra-{uuid.uuid4().hex[:6]}"
    seen = await s.client.get(url, headers=secretariat)

    while_assigned = await _change_profile(s, leaving, seen, subject=new_subject)
    inactive_while_assigned = await _change_profile(s, leaving, seen, active=False)
    current = await s.client.get(f"/reviews/{review['id']}", headers=secretariat)
    removed = await s.client.put(
        f"/reviews/{review['id']}/reviewers",
        json={"reviewer_ids": [staying["id"]], "reason": "Expert FRA moves on."},
        headers={**secretariat, **if_match(current)},
    )
    once_removed = await _change_profile(s, leaving, seen, subject=new_subject)
    inactive = await _change_profile(
        s, {**leaving, "subject": new_subject}, once_removed, active=False
    )

    assert inactive_while_assigned.status_code == 409
    assert inactive_while_assigned.json()["review_ids"] == [review["id"]]
    assert "inactive" in inactive_while_assigned.json()["rule"]
    assert inactive.status_code == 200, inactive.text
    assert inactive.json()["active"] is False
    assert while_assigned.status_code == 409
    assert while_assigned.json()["type"] == "urn:pmm:problem:reviewer-assigned"
    assert while_assigned.json()["review_ids"] == [review["id"]]
    assert removed.status_code == 200, removed.text
    assert once_removed.status_code == 200, once_removed.text
    assert once_removed.json()["subject"] == new_subject


async def test_a_subject_stays_with_the_reviewer_of_a_completed_review(
    review_service: RunningService,
) -> None:
    s = review_service
    secretariat = s.token("secretariat")
    review, (author, other) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    url = f"/reviews/{review['id']}"
    seen = await s.client.get(url, headers=as_reviewer(s, author))
    verdict = await s.client.put(
        f"{url}/verdicts/TF.1.1",
        json={"verdict": "validated"},
        headers={**as_reviewer(s, author), **if_match(seen)},
    )
    completed = await s.client.post(
        f"{url}/completion",
        json={"reason": "Every KPI checked."},
        headers={**as_reviewer(s, author), **if_match(verdict)},
    )
    profile = await s.client.get(f"/reviewers/{author['id']}", headers=secretariat)
    renamed = await _change_profile(s, author, profile, subject="someone-new")
    # The old subject still reads the completed review elsewhere: it is not free.
    taken = await s.client.post(
        "/reviewers",
        json={**_profile(other, subject=author["subject"]), "home_member": "USA"},
        headers=secretariat,
    )

    assert completed.status_code == 200, completed.text
    assert renamed.status_code == 409
    assert renamed.json()["type"] == "urn:pmm:problem:reviewer-assigned"
    assert renamed.json()["review_ids"] == [review["id"]]
    assert (taken.status_code, taken.json()["field"]) == (422, "subject")
