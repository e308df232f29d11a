"""What the review refuses: requests of a submission that is not submitted or already
under review, too many reviewers, a query already overdue or due too far ahead, an
outsider writing; and a verdict of not validated carried to the end."""

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pmm_kit.contracts.review import ReviewCompleted
from pmm_local.testing import RunningService
from pmm_review.domain import MAX_QUERY_DUE_DAYS
from pmm_review.models import Query

from .helpers import (
    accepted,
    as_reviewer,
    consumed,
    if_match,
    last_event,
    publish,
    register_reviewer,
    request_review,
    returned,
    review_in_progress,
    seen_by_its_reviewer,
    submitted,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

NEXT_WEEK = (date.today() + timedelta(days=7)).isoformat()
QUERY = {
    "kpi": "TF.1.1",
    "subject": "Source",
    "message": "Which system?",
    "due_date": NEXT_WEEK,
}


def asked(submission_id: str) -> dict[str, Any]:
    return {"submission_id": submission_id, "reason": "An outside view."}


async def test_a_review_is_asked_only_of_a_submitted_submission_and_once(
    review_service: RunningService,
) -> None:
    s = review_service
    ncp = s.token("ncp", "BRA")
    returned_id, accepted_id, submitted_id = (
        f"sub-{uuid.uuid4().hex}" for _ in range(3)
    )
    await publish(s, submitted(returned_id))
    await consumed(
        s, await publish(s, returned(returned_id, review_id=None, kpis=("TF.1.1",)))
    )
    await publish(s, submitted(accepted_id))
    await consumed(s, await publish(s, accepted(accepted_id)))

    of_returned = await s.client.post("/reviews", json=asked(returned_id), headers=ncp)
    of_accepted = await s.client.post("/reviews", json=asked(accepted_id), headers=ncp)
    await publish(s, submitted(submitted_id))
    first = await request_review(s, submitted_id)
    second = await s.client.post("/reviews", json=asked(submitted_id), headers=ncp)
    by_other_member = await s.client.post(
        "/reviews", json=asked(submitted_id), headers=s.token("ncp", "ARG")
    )
    listed = await s.client.get("/reviews", headers=ncp)

    assert of_returned.status_code == 409
    assert of_returned.json()["type"] == "urn:pmm:problem:submission-not-submitted"
    assert of_returned.json()["submission_status"] == "returned"
    assert of_accepted.status_code == 409
    assert of_accepted.json()["submission_status"] == "accepted"
    assert first.status_code == 201, first.text
    assert second.status_code == 409
    assert second.json()["type"] == "urn:pmm:problem:transition-not-allowed"
    assert second.json()["review_id"] == first.json()["id"]
    assert second.json()["rule"] == "one review in progress per submission"
    assert by_other_member.status_code == 404
    assert [r["id"] for r in listed.json()] == [first.json()["id"]]


async def test_more_than_three_reviewers_are_refused(
    review_service: RunningService,
) -> None:
    s = review_service
    secretariat = s.token("secretariat")
    submission_id = f"sub-{uuid.uuid4().hex}"
    await publish(s, submitted(submission_id))
    requested = await request_review(s, submission_id)
    reviewers = [
        await register_reviewer(
            s, home_member=code, name=f"Expert {code}", languages=["en"], expertise=[]
        )
        for code in ("FRA", "KEN", "ARG", "DEU")
    ]

    refused = await s.client.put(
        f"/reviews/{requested.json()['id']}/reviewers",
        json={"reviewer_ids": [r["id"] for r in reviewers], "reason": "Many eyes."},
        headers={**secretariat, **if_match(requested)},
    )
    after = await s.client.get(
        f"/reviews/{requested.json()['id']}", headers=secretariat
    )

    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert (error["field"], error["code"]) == ("body.reviewer_ids", "too_long")
    assert (after.json()["state"], after.json()["reviewers"]) == ("requested", [])
    assert after.headers["ETag"] == requested.headers["ETag"]


async def test_a_query_due_in_the_past_is_refused(
    review_service: RunningService,
) -> None:
    s = review_service
    _, url, headers, seen = await seen_by_its_reviewer(s)

    refused = await s.client.post(
        f"{url}/queries",
        json={**QUERY, "due_date": (date.today() - timedelta(days=1)).isoformat()},
        headers={**headers, **if_match(seen)},
    )
    after = await s.client.get(url, headers=headers)

    assert refused.status_code == 422
    assert refused.json()["type"] == "urn:pmm:problem:invalid-review-input"
    assert refused.json()["field"] == "due_date"
    assert (after.json()["state"], after.json()["queries"]) == ("assigned", [])
    assert after.headers["ETag"] == seen.headers["ETag"]


async def test_a_query_due_beyond_the_horizon_is_refused(
    review_service: RunningService,
) -> None:
    s = review_service
    _, url, headers, seen = await seen_by_its_reviewer(s)
    last_day = date.today() + timedelta(days=MAX_QUERY_DUE_DAYS)

    refused = [
        await s.client.post(
            f"{url}/queries",
            json={**QUERY, "due_date": due.isoformat()},
            headers={**headers, **if_match(seen)},
        )
        for due in (date(9999, 12, 31), last_day + timedelta(days=1))
    ]
    untouched = await s.client.get(url, headers=headers)
    on_the_last_day = await s.client.post(
        f"{url}/queries",
        json={**QUERY, "due_date": last_day.isoformat()},
        headers={**headers, **if_match(seen)},
    )

    assert MAX_QUERY_DUE_DAYS == 365
    for response in refused:
        assert response.status_code == 422
        assert response.json()["type"] == "urn:pmm:problem:invalid-review-input"
        assert response.json()["field"] == "due_date"
        assert response.json()["rule"] == "a query is due within 365 days of today"
    assert untouched.json()["queries"] == []
    assert on_the_last_day.status_code == 201, on_the_last_day.text
    assert on_the_last_day.json()["due_date"] == last_day.isoformat()


async def test_a_reviewer_not_assigned_writes_nothing(
    review_service: RunningService,
) -> None:
    s = review_service
    review, (assigned, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    outsider = await register_reviewer(
        s, home_member="DEU", name="Outsider", languages=["en"], expertise=["TF"]
    )
    url = f"/reviews/{review['id']}"
    seen = await s.client.get(url, headers=as_reviewer(s, assigned))
    opened = await s.client.post(
        f"{url}/queries",
        json=QUERY,
        headers={**as_reviewer(s, assigned), **if_match(seen)},
    )
    answered = await s.client.post(
        f"/queries/{opened.json()['id']}/messages",
        json={"body": "The declaration system."},
        headers={**s.token("ncp", "BRA"), **if_match(opened)},
    )
    current = await s.client.get(url, headers=s.token("secretariat"))
    # The outsider sends the true versions: only their lack of assignment stops them.
    review_version = {**as_reviewer(s, outsider), **if_match(current)}
    query_version = {**as_reviewer(s, outsider), **if_match(answered)}
    query_url = f"/queries/{opened.json()['id']}"

    attempts = {
        "query": await s.client.post(
            f"{url}/queries", json=QUERY, headers=review_version
        ),
        "message": await s.client.post(
            f"{query_url}/messages",
            json={"body": "Asked again."},
            headers=query_version,
        ),
        "closure": await s.client.post(
            f"{query_url}/closure",
            json={"outcome": "resolved", "reason": "Fine."},
            headers=query_version,
        ),
        "verdict": await s.client.put(
            f"{url}/verdicts/TF.1.1",
            json={"verdict": "validated"},
            headers=review_version,
        ),
        "correction": await s.client.post(
            f"{url}/corrections",
            json={"kpis": ["TF.1.1"], "reason": "Recount."},
            headers=review_version,
        ),
        "completion": await s.client.post(
            f"{url}/completion", json={"reason": "Done."}, headers=review_version
        ),
    }
    after = await s.client.get(url, headers=s.token("secretariat"))
    thread = await s.client.get(query_url, headers=s.token("secretariat"))

    assert {k: r.status_code for k, r in attempts.items()} == dict.fromkeys(
        attempts, 404
    )
    assert after.headers["ETag"] == current.headers["ETag"]
    assert (after.json()["verdicts"], after.json()["corrections"]) == ([], [])
    assert [q["id"] for q in after.json()["queries"]] == [opened.json()["id"]]
    assert (thread.json()["state"], len(thread.json()["messages"])) == ("answered", 2)


async def test_a_kpi_not_validated_completes_the_review_with_reservations(
    review_service: RunningService,
) -> None:
    s = review_service
    review, url, headers, seen = await seen_by_its_reviewer(s)

    unexplained = await s.client.put(
        f"{url}/verdicts/TF.2.1",
        json={"verdict": "not_validated"},
        headers={**headers, **if_match(seen)},
    )
    refused = await s.client.put(
        f"{url}/verdicts/TF.2.1",
        json={
            "verdict": "not_validated",
            "reservation": "AEO counts do not match the programme's register.",
        },
        headers={**headers, **if_match(seen)},
    )
    completed = await s.client.post(
        f"{url}/completion",
        json={"reason": "One KPI could not be validated."},
        headers={**headers, **if_match(refused)},
    )
    event = await last_event(s, ReviewCompleted, review_id=review["id"])
    report = await s.client.get(f"{url}/report", headers=s.token("ncp", "BRA"))

    assert unexplained.status_code == 422
    assert [(e["field"], e["code"]) for e in unexplained.json()["errors"]] == [
        ("body.reservation", "verdict.reservation_missing")
    ]
    assert refused.status_code == 200, refused.text
    assert completed.json()["state"] == "completed_with_reservations"
    assert completed.json()["outcome"] == "completed_with_reservations"
    assert event.data["outcome"] == "completed_with_reservations"
    assert event.data["verdicts"] == [
        {
            "kpi": "TF.2.1",
            "verdict": "not_validated",
            "reservation": "AEO counts do not match the programme's register.",
        }
    ]
    assert [(v["kpi"], v["verdict"]) for v in report.json()["review"]["verdicts"]] == [
        ("TF.2.1", "not_validated")
    ]


async def test_reviewers_see_the_overdue_queries_of_their_assignments_only(
    review_service: RunningService,
) -> None:
    s = review_service
    review, (author, colleague) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    outsider = await register_reviewer(
        s, home_member="DEU", name="Outsider", languages=["en"], expertise=["TF"]
    )
    seen = await s.client.get(
        f"/reviews/{review['id']}", headers=as_reviewer(s, author)
    )
    opened = await s.client.post(
        f"/reviews/{review['id']}/queries",
        json=QUERY,
        headers={**as_reviewer(s, author), **if_match(seen)},
    )
    async with s.runtime.sessions() as session, session.begin():
        await session.execute(
            sa.update(Query)
            .where(Query.id == uuid.UUID(opened.json()["id"]))
            .values(due_date=date.today() - timedelta(days=2))
        )

    for_author = await s.client.get("/queries/overdue", headers=as_reviewer(s, author))
    for_colleague = await s.client.get(
        "/queries/overdue", headers=as_reviewer(s, colleague)
    )
    for_outsider = await s.client.get(
        "/queries/overdue", headers=as_reviewer(s, outsider)
    )

    assert [
        (q["id"], q["review_id"], q["state"], q["days_overdue"])
        for q in for_author.json()
    ] == [(opened.json()["id"], review["id"], "open", 2)]
    assert for_colleague.json() == for_author.json()
    assert for_outsider.json() == []


async def test_a_query_about_something_the_revision_lacks_names_the_field(
    review_service: RunningService,
) -> None:
    s = review_service
    _, url, headers, seen = await seen_by_its_reviewer(s)
    base = {k: v for k, v in QUERY.items() if k not in ("kpi", "data_element")}
    targets: list[dict[str, Any]] = [
        {"kpi": "XX.9.9"},
        {"data_element": "NOPE"},
        {"data_element": "DECL_TOTAL", "year": 1990},
    ]

    refused = [
        await s.client.post(
            f"{url}/queries",
            json={**base, **target},
            headers={**headers, **if_match(seen)},
        )
        for target in targets
    ]

    assert [(r.status_code, r.json()["field"]) for r in refused] == [
        (422, "kpi"),
        (422, "data_element"),
        (422, "year"),
    ]
    assert refused[0].json()["kpis"] == ["XX.9.9"]
