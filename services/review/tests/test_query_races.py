"""A query is answered or closed only while its review is under way, even when the
review is withdrawn at the same moment."""

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from pmm_local.testing import RunningService
from pmm_review.models import Review

from .helpers import as_reviewer, eventually, if_match, review_in_progress

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def answered_query(
    s: RunningService, review_id: str, reviewer: dict[str, Any]
) -> httpx.Response:
    seen = await s.client.get(f"/reviews/{review_id}", headers=as_reviewer(s, reviewer))
    opened = await s.client.post(
        f"/reviews/{review_id}/queries",
        json={
            "kpi": "TF.1.1",
            "subject": "Source",
            "message": "Which system?",
            "due_date": (date.today() + timedelta(days=7)).isoformat(),
        },
        headers={**as_reviewer(s, reviewer), **if_match(seen)},
    )
    answered = await s.client.post(
        f"/queries/{opened.json()['id']}/messages",
        json={"body": "The declaration system."},
        headers={**s.token("ncp", "BRA"), **if_match(opened)},
    )
    assert answered.status_code == 200, answered.text
    return answered


def query_action(
    s: RunningService, action: str, query: httpx.Response, reviewer: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The URL and body of a reviewer's message or closure on the query."""
    url = f"/queries/{query.json()['id']}"
    if action == "message":
        return f"{url}/messages", {"body": "One more thing."}
    return f"{url}/closure", {"outcome": "resolved", "reason": "Clear."}


@pytest.mark.parametrize("action", ["message", "closure"])
async def test_no_query_action_on_a_withdrawn_review(
    review_service: RunningService, action: str
) -> None:
    s = review_service
    ncp = s.token("ncp", "BRA")
    review, (reviewer, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    query = await answered_query(s, review["id"], reviewer)
    seen = await s.client.get(f"/reviews/{review['id']}", headers=ncp)
    await s.client.post(
        f"/reviews/{review['id']}/withdrawal",
        json={"reason": "No longer needed."},
        headers={**ncp, **if_match(seen)},
    )
    url, body = query_action(s, action, query, reviewer)

    refused = await s.client.post(
        url, json=body, headers={**as_reviewer(s, reviewer), **if_match(query)}
    )
    after = await s.client.get(f"/queries/{query.json()['id']}", headers=ncp)

    assert refused.status_code == 409
    assert refused.json()["detail"] == "the review is withdrawn"
    assert after.json()["state"] == "answered"
    assert after.json()["version"] == query.json()["version"]


async def waiting_on_a_lock(s: RunningService) -> bool | None:
    async with s.runtime.sessions() as session:
        waiting = await session.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return True if waiting else None


@pytest.mark.parametrize("action", ["message", "closure"])
async def test_a_query_action_waits_for_a_withdrawal_under_way_and_is_refused(
    review_service: RunningService, action: str
) -> None:
    s = review_service
    review, (reviewer, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    query = await answered_query(s, review["id"], reviewer)
    url, body = query_action(s, action, query, reviewer)

    # A withdrawal holds the review's row while the reviewer acts on the query.
    async with s.runtime.sessions() as withdrawal, withdrawal.begin():
        await withdrawal.execute(
            sa.update(Review)
            .where(Review.id == uuid.UUID(review["id"]))
            .values(state="withdrawn")
        )
        acting = asyncio.create_task(
            s.client.post(
                url,
                json=body,
                headers={**as_reviewer(s, reviewer), **if_match(query)},
            )
        )
        await eventually(lambda: waiting_on_a_lock(s))
    refused = await acting

    assert refused.status_code == 409
    assert refused.json()["detail"] == "the review is withdrawn"
