"""The review's guards: concurrent transitions, access, withdrawal, overdue queries."""

import asyncio
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from pmm_kit.contracts.review import ReviewWithdrawn
from pmm_local.testing import RunningService
from pmm_review.models import Query

from .helpers import (
    FIRST_VALUES,
    as_reviewer,
    consumed,
    if_match,
    last_event,
    publish,
    register_reviewer,
    review_in_progress,
    submitted,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOMORROW = (date.today() + timedelta(days=1)).isoformat()


async def open_and_answer(
    s: RunningService, review_id: str, reviewer: dict[str, str]
) -> dict[str, str]:
    current = await s.client.get(
        f"/reviews/{review_id}", headers=as_reviewer(s, reviewer)
    )
    opened = await s.client.post(
        f"/reviews/{review_id}/queries",
        json={
            "kpi": "TF.1.1",
            "subject": "Source of the figure",
            "message": "Which system produced it?",
            "due_date": TOMORROW,
        },
        headers={**as_reviewer(s, reviewer), **if_match(current)},
    )
    answered = await s.client.post(
        f"/queries/{opened.json()['id']}/messages",
        json={"body": "The customs declaration system."},
        headers={**s.token("ncp", "BRA"), **if_match(opened)},
    )
    assert answered.status_code == 200, answered.text
    return {"id": opened.json()["id"], "If-Match": answered.headers["ETag"]}


async def test_two_reviewers_closing_one_query_at_once_cannot_both_win(
    review_service: RunningService,
) -> None:
    s = review_service
    review, (first, second) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    query = await open_and_answer(s, review["id"], first)

    outcomes = await asyncio.gather(
        s.client.post(
            f"/queries/{query['id']}/closure",
            json={"outcome": "resolved", "reason": "Clear."},
            headers={**as_reviewer(s, first), "If-Match": query["If-Match"]},
        ),
        s.client.post(
            f"/queries/{query['id']}/closure",
            json={"outcome": "accepted_with_reservation", "reason": "Unclear."},
            headers={**as_reviewer(s, second), "If-Match": query["If-Match"]},
        ),
    )
    final = await s.client.get(f"/queries/{query['id']}", headers=s.token("ncp", "BRA"))

    assert sorted(r.status_code for r in outcomes) == [200, 412]
    winner = next(r for r in outcomes if r.status_code == 200)
    loser = next(r for r in outcomes if r.status_code == 412)
    assert final.json()["state"] == winner.json()["state"]
    assert final.headers["ETag"] == '"3"'
    assert loser.headers["content-type"] == "application/problem+json"
    assert loser.json()["current_version"] == 3


async def test_a_change_without_if_match_is_refused_with_428(
    review_service: RunningService,
) -> None:
    s = review_service
    review, (first, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    query = await open_and_answer(s, review["id"], first)

    closing = await s.client.post(
        f"/queries/{query['id']}/closure",
        json={"outcome": "resolved", "reason": "Clear."},
        headers=as_reviewer(s, first),
    )
    verdict = await s.client.put(
        f"/reviews/{review['id']}/verdicts/TF.1.1",
        json={"verdict": "validated"},
        headers=as_reviewer(s, first),
    )

    assert (closing.status_code, verdict.status_code) == (428, 428)
    assert closing.json()["type"] == "urn:pmm:problem:precondition-required"


async def test_each_caller_sees_only_the_reviews_it_may(
    review_service: RunningService,
) -> None:
    s = review_service
    review, (assigned, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    outsider = await register_reviewer(
        s, home_member="ARG", name="Outsider", languages=["es"], expertise=["OD"]
    )
    query = await open_and_answer(s, review["id"], assigned)
    review_url = f"/reviews/{review['id']}"

    as_outsider = await s.client.get(review_url, headers=as_reviewer(s, outsider))
    outsider_query = await s.client.get(
        f"/queries/{query['id']}", headers=as_reviewer(s, outsider)
    )
    outsider_report = await s.client.get(
        f"{review_url}/report", headers=as_reviewer(s, outsider)
    )
    outsider_list = await s.client.get("/reviews", headers=as_reviewer(s, outsider))
    other_member = await s.client.get(review_url, headers=s.token("ncp", "ARG"))
    unknown_subject = await s.client.get(review_url, headers=s.token("reviewer"))
    own_reviewer = await s.client.get(review_url, headers=as_reviewer(s, assigned))
    own_member = await s.client.get(review_url, headers=s.token("preparer", "BRA"))
    secretariat = await s.client.get("/reviews", headers=s.token("secretariat"))
    anonymous = await s.client.get(review_url)

    assert as_outsider.status_code == 404
    assert as_outsider.json()["type"] == "urn:pmm:problem:not-found"
    assert outsider_query.status_code == 404
    assert outsider_report.status_code == 404
    assert outsider_list.json() == []
    assert other_member.status_code == 404
    assert unknown_subject.status_code == 404
    assert own_reviewer.json()["id"] == review["id"]
    assert own_member.json()["id"] == review["id"]
    assert [r["id"] for r in secretariat.json()] == [review["id"]]
    assert anonymous.status_code == 401


async def test_a_reviewer_of_the_member_itself_is_never_assigned(
    review_service: RunningService,
) -> None:
    s = review_service
    review, _ = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    compatriot = await register_reviewer(
        s, home_member="BRA", name="Compatriot", languages=["pt"], expertise=["TF"]
    )
    current = await s.client.get(
        f"/reviews/{review['id']}", headers=s.token("secretariat")
    )

    refused = await s.client.put(
        f"/reviews/{review['id']}/reviewers",
        json={"reviewer_ids": [compatriot["id"]], "reason": "Knows the data."},
        headers={**s.token("secretariat"), **if_match(current)},
    )
    suggested = await s.client.get(
        f"/reviews/{review['id']}/suggestions", headers=s.token("secretariat")
    )

    assert refused.status_code == 409
    assert refused.json()["reviewer_ids"] == [compatriot["id"]]
    assert compatriot["id"] not in [x["reviewer_id"] for x in suggested.json()]


async def test_the_ncp_withdraws_a_review_before_completion(
    review_service: RunningService,
) -> None:
    s = review_service
    review, (reviewer, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    ncp = s.token("ncp", "BRA", subject="ncp-bra-chief")
    current = await s.client.get(f"/reviews/{review['id']}", headers=ncp)

    by_preparer = await s.client.post(
        f"/reviews/{review['id']}/withdrawal",
        json={"reason": "Not ours to withdraw."},
        headers={**s.token("preparer", "BRA"), **if_match(current)},
    )
    withdrawn = await s.client.post(
        f"/reviews/{review['id']}/withdrawal",
        json={"reason": "The administration restructures its data."},
        headers={**ncp, **if_match(current)},
    )
    late_query = await s.client.post(
        f"/reviews/{review['id']}/queries",
        json={"kpi": "TF.1.1", "subject": "s", "message": "m", "due_date": TOMORROW},
        headers={**as_reviewer(s, reviewer), **if_match(withdrawn)},
    )
    event = await last_event(s, ReviewWithdrawn, review_id=review["id"])

    assert by_preparer.status_code == 403
    assert withdrawn.json()["state"] == "withdrawn"
    assert late_query.status_code == 409
    assert event.data["reason"] == "The administration restructures its data."
    assert event.data["withdrawn_by"] == "ncp-bra-chief"


async def test_overdue_queries_are_listed_for_those_who_see_them(
    review_service: RunningService,
) -> None:
    s = review_service
    review, (reviewer, _) = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    query = await open_and_answer(s, review["id"], reviewer)
    async with s.runtime.sessions() as session, session.begin():
        await session.execute(
            sa.update(Query)
            .where(Query.id == uuid.UUID(query["id"]))
            .values(due_date=date.today() - timedelta(days=3))
        )

    for_secretariat = await s.client.get(
        "/queries/overdue", headers=s.token("secretariat")
    )
    for_member = await s.client.get("/queries/overdue", headers=s.token("ncp", "BRA"))
    for_other = await s.client.get("/queries/overdue", headers=s.token("ncp", "ARG"))

    assert [(q["id"], q["days_overdue"]) for q in for_secretariat.json()] == [
        (query["id"], 3)
    ]
    assert for_secretariat.json()[0]["member"] == "BRA"
    assert [q["id"] for q in for_member.json()] == [query["id"]]
    assert for_other.json() == []


async def test_a_late_older_revision_does_not_move_the_review_back(
    review_service: RunningService,
) -> None:
    s = review_service
    submission_id = f"sub-{uuid.uuid4().hex}"
    review, _ = await review_in_progress(s, submission_id)

    late = await publish(s, submitted(submission_id, revision=1))
    await consumed(s, late)
    after = await s.client.get(
        f"/reviews/{review['id']}", headers=s.token("secretariat")
    )

    assert after.json()["revision"] == 1
    assert after.json()["revision_moves"] == []


async def test_a_verdict_given_before_its_values_changed_must_be_given_again(
    review_service: RunningService,
) -> None:
    s = review_service
    submission_id = f"sub-{uuid.uuid4().hex}"
    review, (reviewer, _) = await review_in_progress(s, submission_id)
    url = f"/reviews/{review['id']}"
    headers = as_reviewer(s, reviewer)
    current = await s.client.get(url, headers=headers)
    early = await s.client.put(
        f"{url}/verdicts/TF.1.1",
        json={"verdict": "validated"},
        headers={**headers, **if_match(current)},
    )
    resubmitted = await publish(
        s,
        submitted(
            submission_id,
            revision=2,
            values={**FIRST_VALUES, ("DECL_TOTAL", 2022): "210000"},
        ),
    )
    await consumed(s, resubmitted)
    moved = await s.client.get(url, headers=headers)

    refused = await s.client.post(
        f"{url}/completion",
        json={"reason": "Verdicts given."},
        headers={**headers, **if_match(moved)},
    )
    again = await s.client.put(
        f"{url}/verdicts/TF.1.1",
        json={"verdict": "validated"},
        headers={**headers, **if_match(moved)},
    )
    completed = await s.client.post(
        f"{url}/completion",
        json={"reason": "Verdicts given."},
        headers={**headers, **if_match(again)},
    )

    assert early.status_code == 200
    assert moved.json()["revision"] == 2
    assert refused.status_code == 409
    assert refused.json()["kpis"] == ["TF.1.1"]
    assert again.json()["verdicts"][0]["revision"] == 2
    assert completed.json()["state"] == "completed"


async def test_the_secretariat_keeps_reviewer_profiles_current(
    review_service: RunningService,
) -> None:
    s = review_service
    secretariat = s.token("secretariat")
    review, _ = await review_in_progress(s, f"sub-{uuid.uuid4().hex}")
    reviewer = await register_reviewer(
        s, home_member="KEN", name="Wanjiru", languages=["en"], expertise=["TF"]
    )
    url = f"/reviewers/{reviewer['id']}"
    read = await s.client.get(url, headers=secretariat)
    profile = {
        key: reviewer[key]
        for key in ("subject", "name", "home_member", "languages", "expertise")
    }
    expired = {
        **profile,
        "accreditation": "pmm_diagnostic_facilitator",
        "accredited_until": (date.today() - timedelta(days=1)).isoformat(),
    }

    updated = await s.client.put(
        url, json=expired, headers={**secretariat, **if_match(read)}
    )
    stale = await s.client.put(
        url,
        json={**profile, "accreditation": "wco_expert"},
        headers={**secretariat, **if_match(read)},
    )
    by_reviewer = await s.client.get(url, headers=as_reviewer(s, reviewer))
    suggested = await s.client.get(
        f"/reviews/{review['id']}/suggestions", headers=secretariat
    )

    assert updated.status_code == 200, updated.text
    assert updated.json()["accreditation"] == "pmm_diagnostic_facilitator"
    assert updated.headers["ETag"] == '"2"'
    assert stale.status_code == 412
    assert by_reviewer.status_code == 403
    assert reviewer["id"] not in [x["reviewer_id"] for x in suggested.json()]
    assert len(suggested.json()) == 2
