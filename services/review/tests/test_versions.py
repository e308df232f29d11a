"""Every change takes the version its caller saw: 428 without If-Match, 412 when it
is stale, and nothing changes in either case."""

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from pmm_local.testing import RunningService
from pmm_review.deps import seen_version
from pmm_review.endpoints import queries, reviewers, reviews

from .helpers import (
    as_reviewer,
    if_match,
    register_reviewer,
    review_in_progress,
    seen_by_its_reviewer,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUERY = {
    "kpi": "TF.1.1",
    "subject": "Source of the figure",
    "message": "Which system produced it?",
    "due_date": (date.today() + timedelta(days=7)).isoformat(),
}


async def test_opening_a_query_takes_the_version_of_the_review(
    review_service: RunningService,
) -> None:
    s = review_service
    _, url, headers, seen = await seen_by_its_reviewer(s)

    unversioned = await s.client.post(f"{url}/queries", json=QUERY, headers=headers)
    stale = await s.client.post(
        f"{url}/queries", json=QUERY, headers={**headers, "If-Match": '"1"'}
    )
    untouched = await s.client.get(url, headers=headers)
    opened = await s.client.post(
        f"{url}/queries", json=QUERY, headers={**headers, **if_match(seen)}
    )
    again_with_the_same_view = await s.client.post(
        f"{url}/queries", json=QUERY, headers={**headers, **if_match(seen)}
    )
    after = await s.client.get(url, headers=headers)

    assert unversioned.status_code == 428
    assert unversioned.json()["type"] == "urn:pmm:problem:precondition-required"
    assert stale.status_code == 412
    assert stale.json()["current_version"] == seen.json()["version"]
    assert untouched.json()["state"] == "assigned"
    assert untouched.json()["queries"] == []
    assert untouched.headers["ETag"] == seen.headers["ETag"]
    assert opened.status_code == 201, opened.text
    assert again_with_the_same_view.status_code == 412
    assert after.json()["state"] == "in_review"
    assert after.json()["version"] == seen.json()["version"] + 1
    assert [q["id"] for q in after.json()["queries"]] == [opened.json()["id"]]


async def test_a_stale_assignment_is_refused(review_service: RunningService) -> None:
    s = review_service
    secretariat = s.token("secretariat")
    review, reviewers = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    url = f"/reviews/{review['id']}"
    seen = await s.client.get(url, headers=secretariat)
    reassigned = await s.client.put(
        f"{url}/reviewers",
        json={"reviewer_ids": [reviewers[0]["id"]], "reason": "One is enough."},
        headers={**secretariat, **if_match(seen)},
    )

    stale = await s.client.put(
        f"{url}/reviewers",
        json={"reviewer_ids": [reviewers[1]["id"]], "reason": "The other one."},
        headers={**secretariat, **if_match(seen)},
    )
    after = await s.client.get(url, headers=secretariat)

    assert reassigned.status_code == 200, reassigned.text
    assert stale.status_code == 412
    assert stale.json()["current_version"] == reassigned.json()["version"]
    assert [r["reviewer_id"] for r in after.json()["reviewers"]] == [reviewers[0]["id"]]


async def test_a_stale_withdrawal_is_refused(review_service: RunningService) -> None:
    s = review_service
    ncp = s.token("ncp", "BRA")
    review, (reviewer, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    url = f"/reviews/{review['id']}"
    seen_by_member = await s.client.get(url, headers=ncp)
    seen_by_reviewer = await s.client.get(url, headers=as_reviewer(s, reviewer))
    await s.client.post(
        f"{url}/queries",
        json=QUERY,
        headers={**as_reviewer(s, reviewer), **if_match(seen_by_reviewer)},
    )

    stale = await s.client.post(
        f"{url}/withdrawal",
        json={"reason": "Not needed any more."},
        headers={**ncp, **if_match(seen_by_member)},
    )
    after = await s.client.get(url, headers=ncp)

    assert stale.status_code == 412
    assert stale.json()["current_version"] == after.json()["version"]
    assert after.json()["state"] == "in_review"


async def test_a_stale_message_is_refused(review_service: RunningService) -> None:
    s = review_service
    ncp = s.token("ncp", "BRA")
    review, (reviewer, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    seen = await s.client.get(
        f"/reviews/{review['id']}", headers=as_reviewer(s, reviewer)
    )
    opened = await s.client.post(
        f"/reviews/{review['id']}/queries",
        json=QUERY,
        headers={**as_reviewer(s, reviewer), **if_match(seen)},
    )
    url = f"/queries/{opened.json()['id']}"
    answered = await s.client.post(
        f"{url}/messages",
        json={"body": "The customs declaration system."},
        headers={**ncp, **if_match(opened)},
    )

    unversioned = await s.client.post(
        f"{url}/messages", json={"body": "Not versioned."}, headers=ncp
    )
    stale = await s.client.post(
        f"{url}/messages",
        json={"body": "Written on the unanswered query."},
        headers={**ncp, **if_match(opened)},
    )
    after = await s.client.get(url, headers=ncp)

    assert answered.status_code == 200, answered.text
    assert unversioned.status_code == 428
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert [m["body"] for m in after.json()["messages"]] == [
        "Which system produced it?",
        "The customs declaration system.",
    ]


async def test_if_match_takes_a_list_of_etags_and_matches_any_current_one(
    review_service: RunningService,
) -> None:
    s = review_service
    _, url, headers, seen = await seen_by_its_reviewer(s)
    current = seen.headers["ETag"]
    version = seen.json()["version"]

    def sent(*values: str) -> list[tuple[str, str]]:
        return [*headers.items(), *(("If-Match", value) for value in values)]

    none_current = await s.client.post(
        f"{url}/queries", json=QUERY, headers=sent(f'"1", "{version + 5}"')
    )
    star = await s.client.post(f"{url}/queries", json=QUERY, headers=sent("*"))
    huge = await s.client.post(f"{url}/queries", json=QUERY, headers=sent("9" * 5000))
    superscript = await s.client.post(
        f"{url}/queries",
        json=QUERY,
        headers=[
            *((k.encode(), v.encode()) for k, v in headers.items()),
            (b"If-Match", '"²"'.encode()),
        ],
    )
    untouched = await s.client.get(url, headers=headers)
    in_a_list = await s.client.post(
        f"{url}/queries", json=QUERY, headers=sent(f'"1", {current}')
    )
    after_one = await s.client.get(url, headers=headers)
    in_two_fields = await s.client.post(
        f"{url}/queries",
        json=QUERY,
        headers=sent('W/"1"', f'"99", {after_one.headers["ETag"]}'),
    )

    assert none_current.status_code == 412
    assert none_current.json()["type"] == "urn:pmm:problem:precondition-failed"
    assert none_current.json()["current_version"] == version
    assert none_current.json()["detail"] == (
        f"the review is at version {version}, you saw 1 or {version + 5}"
    )
    for refused in (star, huge, superscript):
        assert refused.status_code == 412
        assert refused.json()["type"] == "urn:pmm:problem:precondition-failed"
        assert "is not an ETag this service issued" in refused.json()["detail"]
    assert untouched.json()["queries"] == []
    assert in_a_list.status_code == 201, in_a_list.text
    assert in_two_fields.status_code == 201, in_two_fields.text
    assert after_one.json()["version"] == version + 1


async def test_a_weak_or_unquoted_etag_is_refused_like_one_never_issued(
    review_service: RunningService,
) -> None:
    s = review_service
    secretariat = s.token("secretariat")
    reviewer = await register_reviewer(
        s, home_member="FRA", name="Anne Martin", languages=["fr"], expertise=["TF"]
    )
    url = f"/reviewers/{reviewer['id']}"
    seen = await s.client.get(url, headers=secretariat)
    fields = ("subject", "home_member", "languages", "expertise", "accreditation")
    profile = {name: reviewer[name] for name in fields}

    async def rename(name: str, tag: str) -> httpx.Response:
        return await s.client.put(
            url,
            json={**profile, "name": name},
            headers={**secretariat, "If-Match": tag},
        )

    weak = await rename("Weak", f"W/{seen.headers['ETag']}")
    unquoted = await rename("Bare", str(seen.json()["version"]))
    untouched = await s.client.get(url, headers=secretariat)
    strong = await rename("Strong", seen.headers["ETag"])

    for refused in (weak, unquoted):
        assert refused.status_code == 412, refused.text
        assert "is not an ETag this service issued" in refused.json()["detail"]
    assert untouched.json()["name"] == "Anne Martin"
    assert untouched.headers["ETag"] == seen.headers["ETag"]
    assert strong.status_code == 200, strong.text


def _if_match_readers(dependant: Dependant) -> list[Callable[..., Any] | None]:
    """The dependencies of a route, itself included, that read If-Match."""
    reads = any(p.alias.lower() == "if-match" for p in dependant.header_params)
    found = [dependant.call] if reads else []
    for dependency in dependant.dependencies:
        found += _if_match_readers(dependency)
    return found


async def test_every_change_reads_if_match_through_one_check() -> None:
    routers = (reviewers, reviews, queries)
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    creations = {"/reviewers", "/reviews"}
    changes = [
        r
        for r in routes
        if (r.methods or set()) & {"PUT", "POST"} and r.path not in creations
    ]

    readers = [(route, _if_match_readers(route.dependant)) for route in routes]

    assert len(changes) >= 9
    for route, found in readers:
        expected = [seen_version] if route in changes else []
        assert found == expected, (route.path, route.methods)
