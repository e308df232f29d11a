"""Every transition is recorded with its actor, time, reason and states, including
those the workflow test does not pass through."""

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from pmm_local.testing import RunningService

from .helpers import as_reviewer, if_match, register_reviewer, review_in_progress

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def history(s: RunningService, review_id: str) -> list[dict[str, Any]]:
    found = await s.client.get(
        f"/reviews/{review_id}/history", headers=s.token("secretariat")
    )
    body: list[dict[str, Any]] = found.json()
    return body


async def test_a_replaced_reviewer_is_named_in_the_history(
    review_service: RunningService,
) -> None:
    s = review_service
    secretariat = s.token("secretariat", subject="secretariat-ana")
    review, (kept, replaced) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    newcomer = await register_reviewer(
        s, home_member="FRA", name="Newcomer", languages=["en"], expertise=["TF"]
    )
    url = f"/reviews/{review['id']}"
    seen = await s.client.get(url, headers=secretariat)

    reassigned = await s.client.put(
        f"{url}/reviewers",
        json={
            "reviewer_ids": [kept["id"], newcomer["id"]],
            "reason": "Expert KEN is unavailable.",
        },
        headers={**secretariat, **if_match(seen)},
    )
    recorded = (await history(s, review["id"]))[-2:]

    assert reassigned.status_code == 200, reassigned.text
    assert [r["name"] for r in reassigned.json()["reviewers"]] == [
        "Expert FRA",
        "Newcomer",
    ]
    assert [
        (t["action"], t["from_state"], t["to_state"], t["actor"], t["reason"])
        for t in recorded
    ] == [
        (
            "reviewer_removed",
            "assigned",
            "assigned",
            "secretariat-ana",
            f"Expert KEN (KEN, reviewer {replaced['id']}): Expert KEN is unavailable.",
        ),
        (
            "reviewer_added",
            "assigned",
            "assigned",
            "secretariat-ana",
            f"Newcomer (FRA, reviewer {newcomer['id']}): Expert KEN is unavailable.",
        ),
    ]
    assert all(t["at"] for t in recorded)


async def test_an_answer_and_a_question_asked_again_record_their_messages(
    review_service: RunningService,
) -> None:
    s = review_service
    ncp = s.token("ncp", "BRA", subject="ncp-bra-chief")
    review, (reviewer, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    seen = await s.client.get(
        f"/reviews/{review['id']}", headers=as_reviewer(s, reviewer)
    )
    opened = await s.client.post(
        f"/reviews/{review['id']}/queries",
        json={
            "data_element": "AEO_COUNT",
            "year": 2022,
            "subject": "AEO count",
            "message": "At year end?",
            "due_date": (date.today() + timedelta(days=7)).isoformat(),
        },
        headers={**as_reviewer(s, reviewer), **if_match(seen)},
    )
    url = f"/queries/{opened.json()['id']}/messages"

    answered = await s.client.post(
        url, json={"body": "As at June."}, headers={**ncp, **if_match(opened)}
    )
    reopened = await s.client.post(
        url,
        json={"body": "The data element asks for year end."},
        headers={**as_reviewer(s, reviewer), **if_match(answered)},
    )
    recorded = [t for t in await history(s, review["id"]) if t["query_id"]]

    assert reopened.json()["state"] == "open"
    assert [
        (t["action"], t["from_state"], t["to_state"], t["actor"], t["reason"])
        for t in recorded
    ] == [
        ("query_opened", None, "open", reviewer["subject"], "AEO count"),
        ("query_answered", "open", "answered", "ncp-bra-chief", "As at June."),
        (
            "query_reopened",
            "answered",
            "open",
            reviewer["subject"],
            "The data element asks for year end.",
        ),
    ]
    assert {t["query_id"] for t in recorded} == {opened.json()["id"]}
    assert all(t["at"] for t in recorded)
