"""A whole peer review against real PostgreSQL and NATS: request, assignment, queries,
an answer, a correction through a resubmitted revision, verdicts and completion."""

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from pmm_kit.contracts.review import (
    CorrectionRequested,
    ReviewAssigned,
    ReviewCompleted,
    ReviewRequested,
)
from pmm_local.testing import RunningService

from .helpers import (
    CYCLE,
    FIRST_VALUES,
    as_reviewer,
    consumed,
    eventually,
    if_match,
    last_event,
    member_changed,
    pdf_text,
    publish,
    register_reviewer,
    request_review,
    returned,
    scored,
    submitted,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

DUE = (date.today() + timedelta(days=14)).isoformat()


async def test_a_review_walks_from_request_to_completion(
    review_service: RunningService,
) -> None:
    s = review_service
    secretariat = s.token("secretariat", subject="secretariat-ana")
    ncp = s.token("ncp", "BRA", subject="ncp-bra-chief")
    submission_id = f"sub-{uuid.uuid4().hex[:8]}"
    await publish(s, member_changed("ARG"))
    await publish(s, member_changed("FRA"))
    await publish(s, submitted(submission_id))
    own = await register_reviewer(
        s, home_member="BRA", name="Ana", languages=["pt", "en"], expertise=["TF"]
    )
    neighbour = await register_reviewer(
        s, home_member="ARG", name="Bruno", languages=["es", "en"], expertise=["TF"]
    )
    distant = await register_reviewer(
        s, home_member="FRA", name="Claire", languages=["fr", "en"], expertise=["RC"]
    )

    # The request and the assignment
    requested = await request_review(s, submission_id)
    review_id = requested.json()["id"]
    suggestions = await s.client.get(
        f"/reviews/{review_id}/suggestions", headers=secretariat
    )
    unsigned = await s.client.put(
        f"/reviews/{review_id}/reviewers",
        json={"reviewer_ids": [neighbour["id"]], "reason": "TF focus"},
        headers=secretariat,
    )
    conflicted = await s.client.put(
        f"/reviews/{review_id}/reviewers",
        json={"reviewer_ids": [own["id"], distant["id"]], "reason": "TF focus"},
        headers={**secretariat, **if_match(requested)},
    )
    assigned = await s.client.put(
        f"/reviews/{review_id}/reviewers",
        json={"reviewer_ids": [neighbour["id"], distant["id"]], "reason": "TF focus"},
        headers={**secretariat, **if_match(requested)},
    )

    assert requested.status_code == 201
    assert (requested.json()["state"], requested.json()["revision"]) == ("requested", 1)
    assert [(x["name"], x["same_region"]) for x in suggestions.json()] == [
        ("Bruno", True),
        ("Claire", False),
    ]
    assert suggestions.json()[0]["expertise_match"] == ["TF"]
    assert unsigned.status_code == 428
    assert conflicted.status_code == 409
    assert conflicted.json()["type"] == "urn:pmm:problem:conflict-of-interest"
    assert conflicted.json()["reviewer_ids"] == [own["id"]]
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["state"] == "assigned"
    assert assigned.headers["ETag"] == '"2"'
    assert [r["name"] for r in assigned.json()["reviewers"]] == ["Bruno", "Claire"]
    assert len(assigned.json()["warnings"]) == 1
    assert "Bruno (ARG)" in assigned.json()["warnings"][0]
    requested_event = await last_event(s, ReviewRequested, review_id=review_id)
    assert requested_event.data["revision"] == 1
    assigned_event = await last_event(s, ReviewAssigned, review_id=review_id)
    assert assigned_event.data["reviewer_ids"] == [neighbour["id"], distant["id"]]
    assert assigned_event.data["reviewer_subjects"] == [
        neighbour["subject"],
        distant["subject"],
    ]

    # Queries on a data element and on a KPI, and an answer
    on_element = await s.client.post(
        f"/reviews/{review_id}/queries",
        json={
            "data_element": "DECL_ELECTRONIC",
            "year": 2022,
            "subject": "Electronic declarations",
            "message": "Do these include manifests?",
            "due_date": DUE,
        },
        headers={**as_reviewer(s, neighbour), **if_match(assigned)},
    )
    in_review = await s.client.get(f"/reviews/{review_id}", headers=secretariat)
    on_kpi = await s.client.post(
        f"/reviews/{review_id}/queries",
        json={
            "kpi": "TF.1.1",
            "subject": "Rate of electronic declarations",
            "message": "The rate looks high against the region.",
            "due_date": DUE,
        },
        headers={**as_reviewer(s, distant), **if_match(in_review)},
    )
    answer = await s.client.post(
        f"/queries/{on_element.json()['id']}/messages",
        json={"body": "They do; we will exclude them."},
        headers={**ncp, **if_match(on_element)},
    )
    current = await s.client.get(f"/reviews/{review_id}", headers=ncp)
    premature = await s.client.post(
        f"/reviews/{review_id}/completion",
        json={"reason": "Too early."},
        headers={**as_reviewer(s, distant), **if_match(current)},
    )

    assert on_element.status_code == 201, on_element.text
    assert on_kpi.status_code == 201, on_kpi.text
    assert answer.json()["state"] == "answered"
    assert [m["author_role"] for m in answer.json()["messages"]] == ["reviewer", "ncp"]
    assert current.json()["state"] == "in_review"
    assert premature.status_code == 409
    assert premature.json()["type"] == "urn:pmm:problem:open-queries"
    assert sorted(premature.json()["queries"]) == sorted(
        [on_element.json()["id"], on_kpi.json()["id"]]
    )

    # A correction, returned and resubmitted by the submission service
    stale = await s.client.post(
        f"/reviews/{review_id}/corrections",
        json={"kpis": ["TF.1.1"], "reason": "exclude manifests"},
        headers={**as_reviewer(s, neighbour), "If-Match": '"1"'},
    )
    corrected = await s.client.post(
        f"/reviews/{review_id}/corrections",
        json={"kpis": ["TF.1.1"], "reason": "Exclude manifests from declarations."},
        headers={**as_reviewer(s, neighbour), **if_match(current)},
    )
    correction_event = await last_event(s, CorrectionRequested, review_id=review_id)
    await publish(s, returned(submission_id, review_id=review_id, kpis=("TF.1.1",)))
    second_values = {**FIRST_VALUES, ("DECL_ELECTRONIC", 2022): "180000"}
    await publish(s, submitted(submission_id, revision=2, values=second_values))

    async def moved() -> dict[str, Any] | None:
        found = await s.client.get(f"/reviews/{review_id}", headers=ncp)
        body: dict[str, Any] = found.json()
        return body if body["revision"] == 2 else None

    on_revision_2 = await moved_review(moved)
    await publish(s, scored(submission_id, revision=1, values=FIRST_VALUES))
    rescored = await publish(s, scored(submission_id, revision=2, values=second_values))
    await consumed(s, rescored)
    scores = await s.client.get(f"/reviews/{review_id}/scores", headers=ncp)

    assert stale.status_code == 412
    assert stale.json()["current_version"] == current.json()["version"]
    assert corrected.status_code == 201, corrected.text
    assert correction_event.type == "pmm.review.correction.requested.v1"
    assert correction_event.subject == review_id
    assert correction_event.data == {
        "review_id": review_id,
        "submission_id": submission_id,
        "cycle": CYCLE.model_dump(mode="json"),
        "member": "BRA",
        "revision": 1,
        "kpis": ["TF.1.1"],
        "reason": "Exclude manifests from declarations.",
        "requested_by": neighbour["subject"],
    }
    assert on_revision_2["revision_moves"] == [
        {
            "from_revision": 1,
            "to_revision": 2,
            "moved_at": on_revision_2["revision_moves"][0]["moved_at"],
            "changes": [
                {
                    "data_element": "DECL_ELECTRONIC",
                    "year": 2022,
                    "before": {"state": "provided", "value": "196200", "reason": None},
                    "after": {"state": "provided", "value": "180000", "reason": None},
                    "kpis": ["TF.1.1"],
                    "queries": [on_element.json()["id"], on_kpi.json()["id"]],
                }
            ],
        }
    ]
    tf_1_1 = next(k for k in scores.json()["kpis"] if k["kpi"] == "TF.1.1")
    assert (scores.json()["revision"], scores.json()["previous_revision"]) == (2, 1)
    assert tf_1_1 == {
        "kpi": "TF.1.1",
        "value": "90.00",
        "level": 3,
        "status": "computed",
        "previous_value": "98.10",
        "previous_level": 4,
        "changed": True,
    }
    (correction,) = on_revision_2["corrections"]
    assert (correction["revision"], correction["corrected_revision"]) == (1, 2)
    assert correction["state"] == "corrected"
    assert correction["returned_at"] is not None

    # The queries are settled, verdicts given, the review completes
    kpi_answer = await s.client.post(
        f"/queries/{on_kpi.json()['id']}/messages",
        json={"body": "Corrected in revision 2."},
        headers={
            **s.token("preparer", "BRA", subject="preparer-bra"),
            **if_match(on_kpi),
        },
    )
    resolved = await s.client.post(
        f"/queries/{on_element.json()['id']}/closure",
        json={"outcome": "resolved", "reason": "Manifests excluded."},
        headers={**as_reviewer(s, neighbour), **if_match(answer)},
    )
    reserved = await s.client.post(
        f"/queries/{on_kpi.json()['id']}/closure",
        json={
            "outcome": "accepted_with_reservation",
            "reason": "Postal declarations still counted.",
        },
        headers={**as_reviewer(s, distant), **if_match(kpi_answer)},
    )
    review = await s.client.get(f"/reviews/{review_id}", headers=secretariat)
    first_verdict = await s.client.put(
        f"/reviews/{review_id}/verdicts/TF.1.1",
        json={
            "verdict": "validated_with_reservation",
            "reservation": "Postal declarations included.",
        },
        headers={**as_reviewer(s, distant), **if_match(review)},
    )
    second_verdict = await s.client.put(
        f"/reviews/{review_id}/verdicts/TF.2.1",
        json={"verdict": "validated"},
        headers={**as_reviewer(s, neighbour), **if_match(first_verdict)},
    )
    completed = await s.client.post(
        f"/reviews/{review_id}/completion",
        json={"reason": "All queries settled."},
        headers={**as_reviewer(s, distant), **if_match(second_verdict)},
    )
    completed_event = await last_event(s, ReviewCompleted, review_id=review_id)

    assert kpi_answer.json()["state"] == "answered"
    assert resolved.json()["state"] == "resolved"
    assert reserved.json()["state"] == "accepted_with_reservation"
    assert reserved.json()["reservation"] == "Postal declarations still counted."
    assert second_verdict.status_code == 200, second_verdict.text
    assert completed.status_code == 200, completed.text
    assert completed.json()["state"] == "completed_with_reservations"
    assert completed_event.data["outcome"] == "completed_with_reservations"
    assert completed_event.data["revision"] == 2
    assert completed_event.data["verdicts"] == [
        {
            "kpi": "TF.1.1",
            "verdict": "validated_with_reservation",
            "reservation": "Postal declarations included.",
        },
        {"kpi": "TF.2.1", "verdict": "validated", "reservation": None},
    ]

    # The report and the history
    report = await s.client.get(f"/reviews/{review_id}/report", headers=ncp)
    pdf = await s.client.get(f"/reviews/{review_id}/report.pdf", headers=ncp)
    history = await s.client.get(f"/reviews/{review_id}/history", headers=secretariat)

    assert [q["state"] for q in report.json()["queries"]] == [
        "resolved",
        "accepted_with_reservation",
    ]
    assert [m["body"] for m in report.json()["queries"][0]["messages"]] == [
        "Do these include manifests?",
        "They do; we will exclude them.",
    ]
    assert report.json()["review"]["corrections"][0]["kpis"] == ["TF.1.1"]
    assert [
        (v["kpi"], v["verdict"], v["reservation"], v["revision"])
        for v in report.json()["review"]["verdicts"]
    ] == [
        ("TF.1.1", "validated_with_reservation", "Postal declarations included.", 2),
        ("TF.2.1", "validated", None, 2),
    ]
    assert [q["reservation"] for q in report.json()["queries"]] == [
        None,
        "Postal declarations still counted.",
    ]
    assert report.json()["history"] == history.json()
    assert pdf.headers["content-type"] == "application/pdf"
    shown = pdf_text(pdf.content)
    for query in report.json()["queries"]:
        assert f"Query {query['id']}" in shown
    assert "Reservation: Postal declarations still counted." in shown
    assert "TF.1.1: validated_with_reservation on revision 2" in shown
    assert "TF.2.1: validated on revision 2" in shown
    assert "Reservation: Postal declarations included." in shown

    def added(reviewer: dict[str, Any]) -> str:
        who = f"{reviewer['name']} ({reviewer['home_member']}"
        return f"{who}, reviewer {reviewer['id']}): TF focus"

    assert all(t["at"] and t["actor"] and t["reason"] for t in history.json())
    recorded = [
        (t["action"], t["from_state"], t["to_state"], t["actor"], t["reason"])
        for t in history.json()
    ]
    assert recorded == [
        (
            "requested",
            None,
            "requested",
            requested.json()["requested_by"],
            "An outside view before the cycle report.",
        ),
        ("assigned", "requested", "assigned", "secretariat-ana", "TF focus"),
        ("reviewer_added", "assigned", "assigned", "secretariat-ana", added(neighbour)),
        ("reviewer_added", "assigned", "assigned", "secretariat-ana", added(distant)),
        (
            "started",
            "assigned",
            "in_review",
            neighbour["subject"],
            "the first work of an assigned reviewer: a query opened",
        ),
        ("query_opened", None, "open", neighbour["subject"], "Electronic declarations"),
        (
            "query_opened",
            None,
            "open",
            distant["subject"],
            "Rate of electronic declarations",
        ),
        (
            "query_answered",
            "open",
            "answered",
            "ncp-bra-chief",
            "They do; we will exclude them.",
        ),
        (
            "correction_requested",
            None,
            "requested",
            neighbour["subject"],
            "Exclude manifests from declarations.",
        ),
        (
            "correction_returned",
            "requested",
            "returned",
            "secretariat-system",
            "correction asked by the review",
        ),
        (
            "correction_corrected",
            "returned",
            "corrected",
            "ncp-BRA",
            "revision 2 submitted after the return",
        ),
        (
            "revision_moved",
            "in_review",
            "in_review",
            "ncp-BRA",
            "revision 1 -> 2: 1 values changed",
        ),
        (
            "query_answered",
            "open",
            "answered",
            "preparer-bra",
            "Corrected in revision 2.",
        ),
        (
            "query_closed",
            "answered",
            "resolved",
            neighbour["subject"],
            "Manifests excluded.",
        ),
        (
            "query_closed",
            "answered",
            "accepted_with_reservation",
            distant["subject"],
            "Postal declarations still counted.",
        ),
        (
            "verdict_given:TF.1.1",
            None,
            "validated_with_reservation",
            distant["subject"],
            "Postal declarations included.",
        ),
        (
            "verdict_given:TF.2.1",
            None,
            "validated",
            neighbour["subject"],
            "validated without reservation",
        ),
        (
            "completed",
            "in_review",
            "completed_with_reservations",
            distant["subject"],
            "All queries settled.",
        ),
    ]
    (corrected,) = report.json()["review"]["corrections"]
    assert {
        t["correction_id"] for t in history.json() if t["action"].startswith("corr")
    } == {corrected["id"]}


async def moved_review(probe: Any) -> dict[str, Any]:
    found: dict[str, Any] = await eventually(probe)
    return found
