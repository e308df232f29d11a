"""Corrections are never lost: one at a time, only of a submitted submission, and one
the submission service never returned lapses when the submission moves on."""

import uuid
from typing import Any

import httpx
import pytest

from pmm_local.testing import RunningService

from .helpers import (
    FIRST_VALUES,
    accepted,
    as_reviewer,
    consumed,
    if_match,
    publish,
    returned,
    review_in_progress,
    submitted,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def ask_correction(
    s: RunningService, review_id: str, reviewer: dict[str, Any], kpi: str = "TF.1.1"
) -> httpx.Response:
    current = await s.client.get(
        f"/reviews/{review_id}", headers=as_reviewer(s, reviewer)
    )
    return await s.client.post(
        f"/reviews/{review_id}/corrections",
        json={"kpis": [kpi], "reason": f"Recount {kpi}."},
        headers={**as_reviewer(s, reviewer), **if_match(current)},
    )


async def read(s: RunningService, review_id: str) -> dict[str, Any]:
    found = await s.client.get(f"/reviews/{review_id}", headers=s.token("secretariat"))
    body: dict[str, Any] = found.json()
    return body


async def history(s: RunningService, review_id: str) -> list[dict[str, Any]]:
    found = await s.client.get(
        f"/reviews/{review_id}/history", headers=s.token("secretariat")
    )
    body: list[dict[str, Any]] = found.json()
    return body


async def test_a_second_correction_waits_for_the_first_to_be_carried_out(
    review_service: RunningService,
) -> None:
    s = review_service
    submission_id = f"sub-{uuid.uuid4().hex}"
    review, (reviewer, other) = await review_in_progress(s, submission_id)
    first = await ask_correction(s, review["id"], reviewer)

    second = await ask_correction(s, review["id"], other, kpi="TF.2.1")
    await publish(s, returned(submission_id, review_id=review["id"], kpis=("TF.1.1",)))
    resubmitted = await publish(
        s,
        submitted(
            submission_id,
            revision=2,
            values={**FIRST_VALUES, ("DECL_TOTAL", 2022): "210000"},
        ),
    )
    await consumed(s, resubmitted)
    after_resubmission = await ask_correction(s, review["id"], other, kpi="TF.2.1")
    corrections = (await read(s, review["id"]))["corrections"]

    assert first.status_code == 201, first.text
    assert second.status_code == 409
    assert second.json()["type"] == "urn:pmm:problem:correction-pending"
    assert second.json()["correction_id"] == first.json()["corrections"][0]["id"]
    assert "one correction at a time" in second.json()["rule"]
    assert after_resubmission.status_code == 201, after_resubmission.text
    assert [(c["kpis"], c["revision"], c["state"]) for c in corrections] == [
        (["TF.1.1"], 1, "corrected"),
        (["TF.2.1"], 2, "requested"),
    ]
    assert corrections[0]["corrected_revision"] == 2


async def test_no_correction_is_asked_of_a_submission_that_is_not_submitted(
    review_service: RunningService,
) -> None:
    s = review_service
    submission_id = f"sub-{uuid.uuid4().hex}"
    review, (reviewer, _) = await review_in_progress(s, submission_id)

    by_secretariat = await publish(
        s,
        returned(
            submission_id,
            review_id=None,
            kpis=("RC.1.1",),
            reason="The Secretariat asks for the revenue figures again.",
        ),
    )
    await consumed(s, by_secretariat)
    while_returned = await ask_correction(s, review["id"], reviewer)
    await publish(s, submitted(submission_id, revision=2))
    acceptance = await publish(s, accepted(submission_id, revision=2))
    await consumed(s, acceptance)
    once_accepted = await ask_correction(s, review["id"], reviewer)

    assert while_returned.status_code == 409
    assert while_returned.json()["type"] == "urn:pmm:problem:submission-not-submitted"
    assert while_returned.json()["submission_status"] == "returned"
    assert once_accepted.status_code == 409
    assert once_accepted.json()["submission_status"] == "accepted"
    assert (await read(s, review["id"]))["corrections"] == []


async def test_a_correction_never_returned_lapses_when_the_submission_is_accepted(
    review_service: RunningService,
) -> None:
    s = review_service
    submission_id = f"sub-{uuid.uuid4().hex}"
    review, (reviewer, _) = await review_in_progress(s, submission_id)
    url = f"/reviews/{review['id']}"
    # The submission service had accepted the submission before the request reached
    # it, so it drops the request: only the acceptance comes back.
    asked = await ask_correction(s, review["id"], reviewer)

    acceptance = await publish(s, accepted(submission_id))
    await consumed(s, acceptance)
    lapsed = await read(s, review["id"])
    current = await s.client.get(url, headers=as_reviewer(s, reviewer))
    verdict = await s.client.put(
        f"{url}/verdicts/TF.1.1",
        json={"verdict": "validated"},
        headers={**as_reviewer(s, reviewer), **if_match(current)},
    )
    completed = await s.client.post(
        f"{url}/completion",
        json={"reason": "Reviewed on the accepted revision."},
        headers={**as_reviewer(s, reviewer), **if_match(verdict)},
    )
    recorded = [t for t in await history(s, review["id"]) if t["correction_id"]]

    assert asked.status_code == 201, asked.text
    (correction,) = lapsed["corrections"]
    assert correction["state"] == "lapsed"
    assert correction["corrected_revision"] is None
    assert correction["lapsed_at"] is not None
    assert "accepted at revision 1" in correction["lapse_reason"]
    assert completed.status_code == 200, completed.text
    assert completed.json()["state"] == "completed"
    assert [
        (t["action"], t["from_state"], t["to_state"], t["actor"]) for t in recorded
    ] == [
        ("correction_requested", None, "requested", reviewer["subject"]),
        ("correction_lapsed", "requested", "lapsed", "secretariat-lead"),
    ]
    assert recorded[1]["reason"] == correction["lapse_reason"]


async def test_a_correction_never_returned_lapses_when_a_revision_arrives_without_it(
    review_service: RunningService,
) -> None:
    s = review_service
    submission_id = f"sub-{uuid.uuid4().hex}"
    review, (reviewer, _) = await review_in_progress(s, submission_id)
    # The Secretariat had returned the submission for its own reasons before the
    # request reached the submission service, which drops the request.
    asked = await ask_correction(s, review["id"], reviewer)
    await publish(s, returned(submission_id, review_id=None, kpis=("RC.1.1",)))

    resubmitted = await publish(s, submitted(submission_id, revision=2))
    await consumed(s, resubmitted)
    on_revision_2 = await read(s, review["id"])
    again = await ask_correction(s, review["id"], reviewer)

    assert asked.status_code == 201, asked.text
    (correction,) = on_revision_2["corrections"]
    assert on_revision_2["revision"] == 2
    assert correction["state"] == "lapsed"
    assert correction["corrected_revision"] is None
    assert "revision 2 was submitted before" in correction["lapse_reason"]
    assert again.status_code == 201, again.text
    assert [c["state"] for c in again.json()["corrections"]] == ["lapsed", "requested"]
