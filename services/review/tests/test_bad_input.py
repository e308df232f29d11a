"""Bad input a new user found answered with 500: each is now a problem naming the
field and the rule, and changes nothing."""

import uuid
from datetime import date, timedelta

import pytest

from pmm_local.testing import RunningService

from .helpers import as_reviewer, if_match, review_in_progress

pytestmark = pytest.mark.asyncio(loop_scope="session")

JSON = {"content-type": "application/json"}


async def test_text_no_service_can_keep_is_refused_in_bodies_and_urls(
    review_service: RunningService,
) -> None:
    s = review_service
    ncp = {**s.token("ncp", "BRA"), **JSON}

    asked = await s.client.post(
        "/reviews",
        content=b'{"submission_id": "a\\u0000", "reason": "An outside view."}',
        headers=ncp,
    )
    surrogate = await s.client.post(
        "/reviews",
        content=b'{"submission_id": "sub-1", "reason": "\\udc00"}',
        headers=ncp,
    )
    in_path = await s.client.get(
        f"/reviews/{uuid.uuid4()}%00", headers=s.token("secretariat")
    )
    listed = await s.client.get("/reviews", headers=s.token("secretariat"))

    assert asked.status_code == 422
    assert [(e["field"], e["code"]) for e in asked.json()["errors"]] == [
        ("body.submission_id", "text.nul")
    ]
    assert [(e["field"], e["code"]) for e in surrogate.json()["errors"]] == [
        ("body.reason", "text.surrogate")
    ]
    assert in_path.status_code == 400
    assert in_path.json()["type"] == "urn:pmm:problem:invalid-url"
    assert listed.json() == []


async def test_a_query_year_beyond_the_calendar_is_a_validation_problem(
    review_service: RunningService,
) -> None:
    s = review_service
    review, reviewers = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    current = await s.client.get(
        f"/reviews/{review['id']}", headers=s.token("secretariat")
    )

    response = await s.client.post(
        f"/reviews/{review['id']}/queries",
        json={
            "kpi": "TF.1.1",
            "year": 2147483648,
            "subject": "Source",
            "message": "Which system?",
            "due_date": (date.today() + timedelta(days=7)).isoformat(),
        },
        headers={**as_reviewer(s, reviewers[0]), **if_match(current)},
    )
    verdict = await s.client.put(
        f"/reviews/{review['id']}/verdicts/TF 1.1",
        json={"verdict": "validated"},
        headers={**as_reviewer(s, reviewers[0]), **if_match(current)},
    )
    queries = await s.client.get(
        f"/reviews/{review['id']}/queries", headers=s.token("secretariat")
    )

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("body.year", "less_than_equal")
    ]
    assert [(e["field"], e["code"]) for e in verdict.json()["errors"]] == [
        ("path.kpi", "string_pattern_mismatch")
    ]
    assert queries.json() == []


async def test_what_a_reviewer_types_is_bounded_and_said_once(
    review_service: RunningService,
) -> None:
    s = review_service
    review, reviewers = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    url = f"/reviews/{review['id']}"
    current = await s.client.get(url, headers=s.token("secretariat"))
    reviewer = {**as_reviewer(s, reviewers[0]), **if_match(current)}
    due = (date.today() + timedelta(days=7)).isoformat()

    long_subject = await s.client.post(
        f"{url}/queries",
        json={"kpi": "TF.1.1", "subject": "s" * 201, "message": "m", "due_date": due},
        headers=reviewer,
    )
    long_reason = await s.client.post(
        f"{url}/corrections",
        json={"kpis": ["TF.1.1"], "reason": "r" * 2001},
        headers=reviewer,
    )
    twice = await s.client.post(
        f"{url}/corrections",
        json={"kpis": ["TF.1.1", "TF.1.1"], "reason": "Recount."},
        headers=reviewer,
    )
    plain_with_reservation = await s.client.put(
        f"{url}/verdicts/TF.1.1",
        json={"verdict": "validated", "reservation": "why?"},
        headers=reviewer,
    )
    same_reviewer = await s.client.put(
        f"{url}/reviewers",
        json={
            "reviewer_ids": [reviewers[0]["id"], reviewers[0]["id"]],
            "reason": "Twice the expert.",
        },
        headers={**s.token("secretariat"), **if_match(current)},
    )
    after = await s.client.get(url, headers=s.token("secretariat"))

    errors = [
        [(e["field"], e["code"], e["message"]) for e in response.json()["errors"]]
        for response in (
            long_subject,
            long_reason,
            twice,
            plain_with_reservation,
            same_reviewer,
        )
    ]
    assert errors == [
        [
            (
                "body.subject",
                "string_too_long",
                "String should have at most 200 characters",
            )
        ],
        [
            (
                "body.reason",
                "string_too_long",
                "String should have at most 2000 characters",
            )
        ],
        [("body.kpis", "list.duplicate", "'TF.1.1' is given twice")],
        [
            (
                "body.reservation",
                "verdict.reservation_forbidden",
                "a validated verdict takes no reservation; give "
                "validated_with_reservation to keep one",
            )
        ],
        [
            (
                "body.reviewer_ids",
                "list.duplicate",
                f"'{reviewers[0]['id']}' is given twice",
            )
        ],
    ]
    assert after.headers["ETag"] == current.headers["ETag"]
    assert after.json() == current.json()
