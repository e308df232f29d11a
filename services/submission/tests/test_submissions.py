"""The submit workflow: values, findings, submit, return, accept, and the events."""

import asyncio
import json
from typing import Any

import pytest
import sqlalchemy as sa

from pmm_kit.auth import Role
from pmm_kit.contracts.common import CycleRef
from pmm_kit.contracts.review import CorrectionRequested
from pmm_kit.events import Envelope
from pmm_kit.tables import outbox
from pmm_local.testing import RunningService

from .helpers import (
    ServiceToStart,
    T,
    complete_answers,
    draft_cycle,
    open_cycle,
    problem_of,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

SUBMITTED = "pmm.submission.submission.submitted.v1"


def _url(cycle_id: str, member: str = "BRA", tail: str = "") -> str:
    return f"/cycles/{cycle_id}/submissions/{member}{tail}"


async def _write(
    s: RunningService, cycle_id: str, values: list[dict[str, Any]], member: str = "BRA"
) -> Any:
    """A batch write by the member's preparer."""
    return await s.client.post(
        _url(cycle_id, member, "/values"),
        json={"values": values},
        headers=s.token(Role.PREPARER, member),
    )


async def _fill(s: RunningService, cycle_id: str, member: str = "BRA") -> Any:
    response = await _write(s, cycle_id, complete_answers(), member)
    assert response.status_code == 200, response.text
    return response


async def _event_of(s: RunningService, subject: str, submission_id: str) -> Any:
    jetstream = s.runtime.broker.jetstream
    subscription = await jetstream.subscribe(subject, ordered_consumer=True)
    try:
        while True:
            message = await subscription.next_msg(timeout=10)
            envelope = json.loads(message.data)
            if envelope["data"]["submission_id"] == submission_id:
                return envelope
    finally:
        await subscription.unsubscribe()


async def test_a_write_answers_with_the_findings_and_keeps_the_number_exact(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA", subject="prep-1")
        written = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_ELECTRONIC/{T}"),
            content=b'{"value": 196200.10}',
            headers={**preparer, "content-type": "application/json"},
        )
        changed = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_ELECTRONIC/{T}"),
            json={"state": "not_available", "reason": "Re\u0301gie migrated"},
            headers={**preparer, "If-Match": written.headers["etag"]},
        )
        history = await s.client.get(
            _url(cycle_id, tail=f"/values/DECL_ELECTRONIC/{T}/history"),
            headers=preparer,
        )

    body = written.json()
    assert body["values"][0]["value"] == "196200.10"
    assert body["values"][0]["channel"] == "form"
    assert body["can_submit"] is False
    assert any(f["rule"] == "completeness.missing" for f in body["findings"])
    assert changed.json()["values"][0]["reason"] == "R\u00e9gie migrated"
    entries = history.json()
    assert [(e["old_value"], e["new_value"]) for e in entries] == [
        (None, "196200.10"),
        ("196200.10", None),
    ]
    assert entries[1]["new_state"] == "not_available"
    assert entries[1]["actor"] == "prep-1"


async def test_writing_what_is_stored_changes_nothing_and_keeps_the_etag(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        url = _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}")
        first = await s.client.put(url, json={"value": "98.10"}, headers=preparer)
        again = await s.client.put(
            url,
            json={"value": "98.10"},
            headers={**preparer, "If-Match": first.headers["etag"]},
        )
        rewritten = await s.client.put(
            url,
            json={"value": "98.1"},
            headers={**preparer, "If-Match": again.headers["etag"]},
        )
        history = await s.client.get(f"{url}/history", headers=preparer)

    assert again.status_code == 200
    assert again.headers["etag"] == first.headers["etag"]
    assert again.json()["values"][0]["value"] == "98.10"
    # Another written form of the figure is a change, as the README says.
    assert rewritten.json()["version"] == first.json()["version"] + 1
    assert [(e["old_value"], e["new_value"]) for e in history.json()] == [
        (None, "98.10"),
        ("98.10", "98.1"),
    ]


async def test_a_reason_is_kept_trimmed_and_bounded_once_trimmed(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        url = _url(cycle_id, tail=f"/values/STAFF_TOTAL/{T}")
        spaced = await s.client.put(
            url,
            json={"state": "not_available", "reason": "  " + "r" * 2000 + "  "},
            headers=preparer,
        )
        same = await s.client.put(
            url,
            json={"state": "not_available", "reason": "r" * 2000},
            headers={**preparer, "If-Match": spaced.headers["etag"]},
        )
        too_long = await s.client.put(
            url,
            json={"state": "not_available", "reason": "r" * 2001},
            headers=preparer,
        )

    assert spaced.status_code == 200, spaced.text
    assert spaced.json()["values"][0]["reason"] == "r" * 2000
    # The trimmed text is the text stored: sending it bare changes nothing.
    assert same.headers["etag"] == spaced.headers["etag"]
    assert problem_of(too_long)["errors"][0]["code"] == "string_too_long"


async def test_bad_values_are_refused_by_row_field_and_rule(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        batch = await _write(
            s,
            cycle_id,
            [
                {"data_element": "DECL_TOTAL", "year": T, "value": "12"},
                {"data_element": "DECL_TOTAL", "year": T - 1, "value": "abc"},
                {"data_element": "NOPE", "year": T, "value": "1"},
                {"data_element": "DECL_TOTAL", "year": T - 5, "value": "1"},
                {
                    "data_element": "STAFF_TOTAL",
                    "year": T,
                    "state": "not_available",
                },
                {"data_element": "AEO_PROGRAMME", "year": T, "value": "12"},
                {
                    "data_element": "STAFF_WOMEN",
                    "year": T,
                    "state": "not_available",
                    "reason": "x",
                    "value": "5",
                },
                {
                    "data_element": "STAFF_WOMEN",
                    "year": T - 1,
                    "value": "3",
                    "reason": "x",
                },
            ],
        )
        not_a_number = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}"),
            content=b'{"value": NaN}',
            headers={**preparer, "content-type": "application/json"},
        )
        infinity_text = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}"),
            json={"value": "Infinity"},
            headers=preparer,
        )
        unknown_field = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}"),
            json={"value": "1", "actor": "someone-else"},
            headers=preparer,
        )
        missing = await s.client.get(_url(cycle_id), headers=preparer)

    errors = problem_of(batch)["errors"]
    assert [(e["row"], e["field"], e["rule"]) for e in errors] == [
        (1, "value", "value.number"),
        (2, "data_element", "element.unknown"),
        (3, "year", "year.not_in_cycle"),
        (4, "reason", "state.reason_missing"),
        (5, "value", "value.type"),
        (6, "value", "state.value_forbidden"),
        (7, "reason", "state.reason_forbidden"),
    ]
    assert problem_of(not_a_number)["errors"] == [
        {
            "field": "body",
            "code": "json_invalid",
            "message": "the body is not valid JSON at line 1 column 11: NaN is not"
            " JSON (JSON has no NaN or Infinity); give a figure as a number or as"
            ' text, such as 12.5 or "12.5"',
        }
    ]
    assert problem_of(infinity_text)["errors"][0]["rule"] == "value.not_finite"
    assert problem_of(unknown_field)["errors"][0]["field"] == "body.actor"
    assert missing.status_code == 404


async def test_a_batch_giving_one_value_twice_is_refused_naming_both_entries(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        batch = await _write(
            s,
            cycle_id,
            [
                {"data_element": "DECL_ELECTRONIC", "year": T, "value": "7"},
                {"data_element": "DECL_TOTAL", "year": T, "value": "9"},
                {"data_element": "DECL_ELECTRONIC", "year": T, "value": "8"},
            ],
        )
        many = await _write(
            s,
            cycle_id,
            [
                {"data_element": "DECL_TOTAL", "year": T, "value": str(n)}
                for n in range(8)
            ],
        )
        view = await s.client.get(_url(cycle_id), headers=preparer)

    # One error per value given twice, however often it is given.
    assert [(e["row"], e["rows"]) for e in problem_of(many)["errors"]] == [
        (0, list(range(8)))
    ]
    assert problem_of(many)["errors"][0]["message"] == (
        f"DECL_TOTAL {T} is given by rows 0, 1, 2, 3, 4 and 3 more: "
        "give each value once"
    )
    assert batch.status_code == 422
    problem = problem_of(batch)
    assert problem["type"] == "urn:pmm:problem:invalid-input"
    assert [
        (e["row"], e["field"], e["data_element"], e["year"], e["rule"], e["rows"])
        for e in problem["errors"]
    ] == [
        (0, "data_element", "DECL_ELECTRONIC", T, "row.duplicate", [0, 2]),
    ]
    assert problem["errors"][0]["message"] == (
        f"DECL_ELECTRONIC {T} is given by rows 0, 2: give each value once"
    )
    assert view.status_code == 404


async def test_submit_freezes_a_revision_and_emits_it_whole(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        ncp = s.token(Role.NCP, "BRA", subject="ncp-bra")
        await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}"),
            json={"value": "5"},
            headers=ncp,
        )
        incomplete = await s.client.post(_url(cycle_id, tail="/submit"), headers=ncp)
        await _fill(s, cycle_id)
        await s.client.put(
            _url(cycle_id, tail="/opt-outs/TF.8.1"),
            json={"reason": "no transit regime"},
            headers=ncp,
        )
        await s.client.put(
            _url(cycle_id, tail="/disclosure"),
            json={"levels": {"TF.1.1": "public", "RC.1.1": "wco"}},
            headers=ncp,
        )
        by_preparer = await s.client.post(
            _url(cycle_id, tail="/submit"), headers=s.token(Role.PREPARER, "BRA")
        )
        submitted = await s.client.post(
            _url(cycle_id, tail="/submit"), json={"reason": "final"}, headers=ncp
        )
        again = await s.client.post(_url(cycle_id, tail="/submit"), headers=ncp)
        revision = await s.client.get(_url(cycle_id, tail="/revisions/1"), headers=ncp)
        envelope = await _event_of(
            s, SUBMITTED, submitted.json()["content"]["submission_id"]
        )

    assert incomplete.status_code == 422
    assert problem_of(incomplete)["findings"][0]["rule"] == "completeness.missing"
    assert by_preparer.status_code == 403
    assert again.status_code == 409
    data = envelope["data"]
    assert envelope["type"] == SUBMITTED
    assert envelope["subject"] == data["submission_id"]
    assert data["revision"] == 1
    assert data["submitted_by"] == "ncp-bra"
    assert data["cycle"]["cycle_id"] == cycle_id
    assert data["cycle"]["reporting_year"] == T
    assert data["cycle"]["framework_code"] == "PMM"
    assert data["cycle"]["framework_version"] == "1.0.0"
    assert data["member"] == {
        "code": "BRA",
        "name": "Brazil",
        "wco_region": "Americas and Caribbean",
        "income_group": "Upper middle income",
        "administration_type": None,
        "geography": None,
    }
    assert len(data["values"]) == len(complete_answers())
    total = next(
        v for v in data["values"] if (v["data_element"], v["year"]) == ("DECL_TOTAL", T)
    )
    assert total == {
        "data_element": "DECL_TOTAL",
        "year": T,
        "state": "provided",
        "value": "100",
        "reason": None,
    }
    assert data["kpi_opt_outs"] == [{"kpi": "TF.8.1", "reason": "no transit regime"}]
    assert data["disclosure"]["TF.1.1"] == "public"
    assert data["disclosure"]["RC.1.1"] == "wco"
    assert data["disclosure"]["TF.2.1"] == "restricted"
    assert data["restatements"] == []
    assert revision.json()["content"] == data


async def test_return_reopens_only_the_named_kpis_then_resubmit_and_accept(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        ncp = s.token(Role.NCP, "BRA")
        secretariat = s.token(Role.SECRETARIAT, subject="sec-9")
        await _fill(s, cycle_id)
        accept_draft = await s.client.post(
            _url(cycle_id, tail="/accept"), headers=secretariat
        )
        return_draft = await s.client.post(
            _url(cycle_id, tail="/return"),
            json={"kpis": ["TF.1.1"], "reason": "too early"},
            headers=secretariat,
        )
        await s.client.post(_url(cycle_id, tail="/submit"), headers=ncp)
        unknown_kpi = await s.client.post(
            _url(cycle_id, tail="/return"),
            json={"kpis": ["TF.1.1", "XX.9.9"], "reason": "typo"},
            headers=secretariat,
        )
        still_submitted = await s.client.get(_url(cycle_id), headers=ncp)
        write_submitted = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}"),
            json={"value": "7"},
            headers=ncp,
        )
        returned = await s.client.post(
            _url(cycle_id, tail="/return"),
            json={"kpis": ["TF.1.1"], "reason": "double counted"},
            headers=secretariat,
        )
        outside = await s.client.put(
            _url(cycle_id, tail=f"/values/STAFF_TOTAL/{T}"),
            json={"value": "7"},
            headers=ncp,
        )
        inside = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}"),
            json={"value": "120"},
            headers=ncp,
        )
        resubmitted = await s.client.post(_url(cycle_id, tail="/submit"), headers=ncp)
        accepted = await s.client.post(
            _url(cycle_id, tail="/accept"), json={"reason": "ok"}, headers=secretariat
        )
        after = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}"),
            json={"value": "1"},
            headers=ncp,
        )
        transitions = await s.client.get(
            _url(cycle_id, tail="/transitions"), headers=ncp
        )
        accepted_event = await _event_of(
            s, "pmm.submission.submission.accepted.v1", accepted.json()["id"]
        )

    assert accept_draft.status_code == 409
    assert problem_of(return_draft)["state"] == "draft"
    assert return_draft.status_code == 409
    assert unknown_kpi.status_code == 422
    assert [(e["rule"], e["kpi"]) for e in problem_of(unknown_kpi)["errors"]] == [
        ("kpi.unknown", "XX.9.9")
    ]
    assert still_submitted.json()["state"] == "submitted"
    assert write_submitted.status_code == 409
    assert returned.json()["state"] == "returned"
    assert returned.json()["reopened_kpis"] == ["TF.1.1"]
    assert problem_of(outside)["errors"][0]["rule"] == "submission.not_reopened"
    assert inside.json()["values"][0]["channel"] == "correction"
    assert resubmitted.json()["number"] == 2
    assert accepted.json()["state"] == "accepted"
    assert after.status_code == 409
    assert [
        (t["from_state"], t["to_state"], t["reason"]) for t in transitions.json()
    ] == [
        ("draft", "submitted", None),
        ("submitted", "returned", "double counted"),
        ("returned", "submitted", None),
        ("submitted", "accepted", "ok"),
    ]
    assert transitions.json()[1]["actor"] == "sec-9"
    assert accepted_event["data"]["revision"] == 2
    assert accepted_event["data"]["member"] == "BRA"
    assert accepted_event["data"]["accepted_by"] == "sec-9"


async def test_a_correction_requested_by_a_review_returns_the_kpis(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        ncp = s.token(Role.NCP, "BRA")
        await _fill(s, cycle_id)
        submitted = (
            await s.client.post(_url(cycle_id, tail="/submit"), headers=ncp)
        ).json()
        request = CorrectionRequested(
            review_id="review-1",
            submission_id=submitted["content"]["submission_id"],
            cycle=CycleRef.model_validate(submitted["content"]["cycle"]),
            member="BRA",
            revision=1,
            kpis=("RC.1.1",),
            reason="forecast mislabelled",
            requested_by="reviewer-7",
        )
        envelope = Envelope.wrap(request, correlation_id="test-correction")
        await s.runtime.broker.jetstream.publish(
            envelope.type,
            envelope.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(envelope.id)},
        )
        state = None
        for _ in range(100):
            view = (await s.client.get(_url(cycle_id), headers=ncp)).json()
            state = view["state"]
            if state == "returned":
                break
            await asyncio.sleep(0.1)
        returned = await _event_of(
            s, "pmm.submission.submission.returned.v1", request.submission_id
        )

    assert state == "returned"
    assert view["reopened_kpis"] == ["RC.1.1"]
    assert returned["data"]["review_id"] == "review-1"
    assert returned["data"]["returned_by"] == "reviewer-7"
    assert returned["data"]["kpis"] == ["RC.1.1"]


async def test_a_restated_prior_year_needs_a_reason_and_keeps_both_figures(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        ncp = s.token(Role.NCP, "BRA")
        earlier = await open_cycle(s, "PMM-2024", T - 1)
        await s.client.post(
            _url(earlier, tail="/values"),
            json={"values": complete_answers(T - 1)},
            headers=ncp,
        )
        await s.client.post(_url(earlier, tail="/submit"), headers=ncp)
        cycle_id = await open_cycle(s)
        await _fill(s, cycle_id)
        same = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T - 1}"),
            json={"value": "100.0"},
            headers=ncp,
        )
        unexplained = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T - 1}"),
            json={"value": "130"},
            headers=ncp,
        )
        explained = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T - 1}"),
            json={"value": "130", "restatement_reason": "late declarations counted"},
            headers=ncp,
        )
        submitted = await s.client.post(_url(cycle_id, tail="/submit"), headers=ncp)

    assert same.json()["values"][0]["restatement"] is None
    assert problem_of(unexplained)["errors"][0]["rule"] == "restatement.reason_missing"
    restatement = explained.json()["values"][0]["restatement"]
    assert restatement["previous_value"] == "100"
    assert restatement["previous_cycle_id"] == earlier
    assert submitted.json()["content"]["restatements"] == [
        {
            "data_element": "DECL_TOTAL",
            "year": T - 1,
            "previous_value": "100",
            "value": "130",
            "previous_cycle_id": earlier,
            "reason": "late declarations counted",
        }
    ]


async def test_stale_etags_and_concurrent_submits_are_refused(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        ncp = s.token(Role.NCP, "BRA")
        first = await _fill(s, cycle_id)
        # The same figure written otherwise: a change that keeps every rule.
        await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}"),
            json={"value": "100.0"},
            headers=ncp,
        )
        stale = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}"),
            json={"value": "101"},
            headers={**ncp, "If-Match": first.headers["etag"]},
        )
        both = await asyncio.gather(
            s.client.post(_url(cycle_id, tail="/submit"), headers=ncp),
            s.client.post(_url(cycle_id, tail="/submit"), headers=ncp),
        )
        view = await s.client.get(_url(cycle_id), headers=ncp)

    assert problem_of(stale)["current_etag"] == f'"{first.json()["version"] + 1}"'
    assert sorted(r.status_code for r in both) == [200, 409]
    assert view.json()["revision"] == 1


async def test_disclosure_is_the_ncps_and_opt_outs_need_reasons(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        by_preparer = await s.client.put(
            _url(cycle_id, tail="/disclosure"),
            json={"levels": {"TF.1.1": "public"}},
            headers=preparer,
        )
        unknown_kpi = await s.client.put(
            _url(cycle_id, tail="/disclosure"),
            json={"levels": {"XX.1.1": "public"}},
            headers=s.token(Role.NCP, "BRA"),
        )
        no_reason = await s.client.put(
            _url(cycle_id, tail="/opt-outs/TF.8.1"), json={}, headers=preparer
        )
        opted = await s.client.put(
            _url(cycle_id, tail="/opt-outs/TF.8.1"),
            json={"reason": "no transit"},
            headers=preparer,
        )
        opted_again = await s.client.put(
            _url(cycle_id, tail="/opt-outs/TF.8.1"),
            json={"reason": "no transit"},
            headers=preparer,
        )
        opted_in = await s.client.delete(
            _url(cycle_id, tail="/opt-outs/TF.8.1"), headers=preparer
        )
        opted_in_again = await s.client.delete(
            _url(cycle_id, tail="/opt-outs/TF.8.1"), headers=preparer
        )
        view = await s.client.get(_url(cycle_id), headers=preparer)
        chosen = await s.client.put(
            _url(cycle_id, tail="/disclosure"),
            json={"levels": {"TF.1.1": "wco"}},
            headers=s.token(Role.NCP, "BRA", subject="ncp-7"),
        )
        chosen_again = await s.client.put(
            _url(cycle_id, tail="/disclosure"),
            json={"levels": {"TF.1.1": "wco", "TF.2.1": "restricted"}},
            headers=s.token(Role.NCP, "BRA", subject="ncp-8"),
        )
        changed = await _event_of(
            s, "pmm.submission.submission.disclosure_changed.v1", view.json()["id"]
        )
        async with s.runtime.unit_of_work() as uow:
            disclosure_events = await uow.session.scalar(
                sa.select(sa.func.count())
                .select_from(outbox)
                .where(outbox.c.subject.like("%disclosure_changed%"))
            )

    assert disclosure_events == 1
    assert chosen.json()["TF.1.1"] == "wco"
    assert chosen.headers["ETag"] == f'"{view.json()["version"] + 1}"'
    # Choosing what stands changes nothing: no version, no event from ncp-8.
    assert chosen_again.headers["ETag"] == chosen.headers["ETag"]
    assert opted_again.headers["ETag"] == opted.headers["ETag"]
    assert opted_in_again.headers["ETag"] == opted_in.headers["ETag"]
    assert changed["data"]["disclosure"]["TF.1.1"] == "wco"
    assert changed["data"]["disclosure"]["TF.2.1"] == "restricted"
    assert changed["data"]["changed_by"] == "ncp-7"
    assert by_preparer.status_code == 403
    assert problem_of(unknown_kpi)["errors"][0]["rule"] == "kpi.unknown"
    assert no_reason.status_code == 422
    assert opted.status_code == 200
    assert opted_in.status_code == 200
    assert view.json()["kpi_opt_outs"] == {}
    assert view.json()["disclosure"]["TF.1.1"] == "restricted"


async def test_a_number_beyond_the_bounds_is_refused_by_row_field_and_rule(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = {**s.token(Role.PREPARER, "BRA"), "content-type": "application/json"}
        huge = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}"),
            content=b'{"value": 1e999999999}',
            headers=preparer,
        )
        batch = await s.client.post(
            _url(cycle_id, tail="/values"),
            content=(
                b'{"values": [{"data_element": "DECL_TOTAL", "year": 2024,'
                b' "value": "1000000000000000000000000000000"},'
                b' {"data_element": "STAFF_TOTAL", "year": 2024, "value": 1e-21},'
                b' {"data_element": "STAFF_WOMEN", "year": 2024,'
                b' "value": 100000000000000000000000000000000}]}'
            ),
            headers=preparer,
        )
        widest = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}"),
            json={"value": "999999999999999999999999999999.00000000000000000001"},
            headers=preparer,
        )
        mapping = await s.client.put(
            "/members/BRA/mappings/odd",
            content=b'{"data_element": "DECL_TOTAL", "factor": 1e999999999}',
            headers={**s.token(Role.NCP, "BRA"), "content-type": "application/json"},
        )

    error = problem_of(huge)["errors"][0]
    assert huge.status_code == 422
    assert (error["row"], error["field"], error["rule"]) == (
        0,
        "value",
        "value.too_large",
    )
    assert "30 digits before the decimal point" in error["message"]
    assert [(e["row"], e["rule"]) for e in problem_of(batch)["errors"]] == [
        (0, "value.too_large"),
        (1, "value.too_many_decimals"),
        (2, "value.too_large"),
    ]
    assert widest.json()["values"][0]["value"] == (
        "999999999999999999999999999999.00000000000000000001"
    )
    assert mapping.status_code == 422


async def test_a_restatement_compares_with_the_submitted_revision_not_live_values(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        ncp = s.token(Role.NCP, "BRA")
        earlier = await open_cycle(s, "PMM-2024", T - 1)
        await s.client.post(
            _url(earlier, tail="/values"),
            json={"values": complete_answers(T - 1)},
            headers=ncp,
        )
        await s.client.post(_url(earlier, tail="/submit"), headers=ncp)
        await s.client.post(
            _url(earlier, tail="/return"),
            json={"kpis": ["TF.1.1"], "reason": "check the total"},
            headers=s.token(Role.SECRETARIAT),
        )
        # Corrected in the earlier cycle, and never submitted again.
        corrected = await s.client.put(
            _url(earlier, tail=f"/values/DECL_TOTAL/{T - 1}"),
            json={"value": "120"},
            headers=ncp,
        )
        cycle_id = await open_cycle(s)
        as_corrected = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T - 1}"),
            json={"value": "120"},
            headers=ncp,
        )
        as_submitted = await s.client.put(
            _url(cycle_id, tail=f"/values/DECL_TOTAL/{T - 1}"),
            json={"value": "100"},
            headers=ncp,
        )
        head = "cycle,data_element,year,value\n"
        by_feed = await s.client.post(
            "/feeds",
            content=f"{head}PMM-2025,STAFF_TOTAL,{T - 1},100\n".encode(),
            headers={**ncp, "content-type": "text/csv"},
        )
        unexplained_feed = await s.client.post(
            "/feeds",
            content=f"{head}PMM-2025,DECL_TOTAL,{T - 1},120\n".encode(),
            headers={**ncp, "content-type": "text/csv"},
        )

    assert corrected.status_code == 200, corrected.text
    error = problem_of(as_corrected)["errors"][0]
    assert error["rule"] == "restatement.reason_missing"
    assert "differs from the 100 submitted before" in error["message"]
    assert as_submitted.json()["values"][0]["restatement"] is None
    assert by_feed.json()["applied"] is True
    rejected = problem_of(unexplained_feed)["rejected"][0]
    assert rejected["rule"] == "restatement.reason_missing"
    assert "differs from 100 submitted before" in rejected["message"]


async def test_disclosure_changes_only_while_entry_is_open_and_before_acceptance(
    submission_service: ServiceToStart,
) -> None:
    levels = {"levels": {"TF.1.1": "public"}}
    async with submission_service as s:
        secretariat = s.token(Role.SECRETARIAT)
        brazil, kenya = s.token(Role.NCP, "BRA"), s.token(Role.NCP, "KEN")
        draft_id = await draft_cycle(s, "PMM-DRAFT")
        in_draft = await s.client.put(
            _url(draft_id, "KEN", "/disclosure"), json=levels, headers=kenya
        )
        cycle_id = await open_cycle(s)
        await _fill(s, cycle_id)
        await s.client.post(_url(cycle_id, tail="/submit"), headers=brazil)
        submitted = await s.client.put(
            _url(cycle_id, tail="/disclosure"),
            json={"levels": {"RC.1.1": "wco"}},
            headers=brazil,
        )
        await s.client.post(_url(cycle_id, tail="/accept"), headers=secretariat)
        accepted = await s.client.put(
            _url(cycle_id, tail="/disclosure"), json=levels, headers=brazil
        )
        await s.client.post(f"/cycles/{cycle_id}/close", headers=secretariat)
        closed = await s.client.put(
            _url(cycle_id, "KEN", "/disclosure"), json=levels, headers=kenya
        )
        await s.client.post(
            f"/cycles/{cycle_id}/extensions",
            json={"member": "KEN", "until": "2099-01-31", "reason": "late"},
            headers=secretariat,
        )
        extended = await s.client.put(
            _url(cycle_id, "KEN", "/disclosure"), json=levels, headers=kenya
        )
        view = await s.client.get(_url(cycle_id), headers=brazil)
        drafts = await s.client.get(
            f"/cycles/{draft_id}/submissions", headers=secretariat
        )

    assert in_draft.status_code == 409
    assert problem_of(in_draft)["state"] == "draft"
    assert drafts.json() == []
    assert submitted.json()["RC.1.1"] == "wco"
    assert accepted.status_code == 409
    assert problem_of(accepted)["state"] == "accepted"
    assert view.json()["disclosure"]["TF.1.1"] == "restricted"
    assert view.json()["disclosure"]["RC.1.1"] == "wco"
    assert closed.status_code == 409
    assert problem_of(closed)["state"] == "closed"
    assert extended.json()["TF.1.1"] == "public"


async def test_if_match_compares_etags_strongly_and_takes_a_list(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        url = _url(cycle_id, tail=f"/values/DECL_TOTAL/{T}")
        written = await s.client.put(url, json={"value": "100"}, headers=preparer)
        current = written.headers["etag"]
        answers = {
            if_match: await s.client.put(
                url, json={"value": "101"}, headers={**preparer, "If-Match": if_match}
            )
            for if_match in (f"W/{current}", f'"999", {current}', "*")
        }

    assert {tag: answer.status_code for tag, answer in answers.items()} == {
        f"W/{current}": 412,
        f'"999", {current}': 200,
        "*": 200,
    }
    assert answers[f"W/{current}"].json()["current_etag"] == current
