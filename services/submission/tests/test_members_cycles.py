"""The member registry and the cycle lifecycle."""

import pytest
import sqlalchemy as sa

from pmm_kit.auth import Role
from pmm_kit.tables import outbox
from pmm_submission.registry import load_registry

from .helpers import (
    ServiceToStart,
    T,
    complete_answers,
    cycle_body,
    draft_cycle,
    empty_schema,
    open_cycle,
    problem_of,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _events(service, event_type: str) -> list[str]:  # type: ignore[no-untyped-def]
    async with service.runtime.unit_of_work() as uow:
        rows = await uow.session.execute(
            sa.select(outbox.c.body)
            .where(outbox.c.subject == event_type)
            .order_by(outbox.c.position)
        )
        return [row.body for row in rows]


async def test_the_registry_is_public_and_each_member_was_an_event(
    submission_service: ServiceToStart, service_databases: dict[str, str]
) -> None:
    await empty_schema(service_databases["submission"])

    async with submission_service as s:
        members = await s.client.get("/members")
        brazil = await s.client.get("/members/BRA")
        events = await _events(s, "pmm.submission.member.changed.v1")

    codes = [m["code"] for m in members.json()]
    assert len(codes) == 188
    assert "EUU" in codes
    assert brazil.json()["wco_region"] == "Americas and Caribbean"
    assert brazil.json()["administration_type"] is None
    assert len(events) == 188


async def test_loading_the_registry_again_adds_nothing(
    submission_service: ServiceToStart, service_databases: dict[str, str]
) -> None:
    await empty_schema(service_databases["submission"])

    async with submission_service as s:
        async with s.runtime.unit_of_work() as uow:
            added = await load_registry(uow.session)
            await uow.commit()
        events = await _events(s, "pmm.submission.member.changed.v1")

    assert added == 0
    assert len(events) == 188


async def test_the_secretariat_edits_attributes_and_the_change_is_an_event(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        secretariat = s.token(Role.SECRETARIAT, subject="sec-1")
        before = await s.client.get("/members/KEN")
        patched = await s.client.patch(
            "/members/KEN",
            json={"administration_type": "revenue authority", "geography": "coastal"},
            headers={**secretariat, "If-Match": before.headers["etag"]},
        )
        stale = await s.client.patch(
            "/members/KEN",
            json={"geography": "landlocked"},
            headers={**secretariat, "If-Match": before.headers["etag"]},
        )
        by_ncp = await s.client.patch(
            "/members/KEN",
            json={"geography": "landlocked"},
            headers=s.token(Role.NCP, "KEN"),
        )
        unknown_field = await s.client.patch(
            "/members/KEN", json={"region": "x"}, headers=secretariat
        )
        again = await s.client.patch(
            "/members/KEN", json={"geography": "coastal"}, headers=secretariat
        )
        nothing = await s.client.patch("/members/KEN", json={}, headers=secretariat)
        events = await _events(s, "pmm.submission.member.changed.v1")

    assert patched.status_code == 200
    assert patched.json()["administration_type"] == "revenue authority"
    assert patched.json()["version"] == 2
    # The same edit again, or none, changes nothing: no version, no event.
    assert [again.json()["version"], nothing.json()["version"]] == [2, 2]
    assert stale.status_code == 412
    assert by_ncp.status_code == 403
    assert unknown_field.status_code == 422
    assert problem_of(unknown_field)["errors"][0]["code"] == "extra_forbidden"
    assert len(events) == 1
    assert '"geography":"coastal"' in events[-1]
    assert '"changed_by":"sec-1"' in events[-1]


async def test_a_cycle_goes_from_draft_to_open_to_closed_with_events(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        secretariat = s.token(Role.SECRETARIAT)
        cycle_id = await open_cycle(s)
        reopen = await s.client.post(f"/cycles/{cycle_id}/open", headers=secretariat)
        closed = await s.client.post(
            f"/cycles/{cycle_id}/close",
            json={"reason": "window ended"},
            headers=secretariat,
        )
        closed_again = await s.client.post(
            f"/cycles/{cycle_id}/close", headers=secretariat
        )
        history = await s.client.get(f"/cycles/{cycle_id}/transitions")
        history_to_staff = await s.client.get(
            f"/cycles/{cycle_id}/transitions", headers=secretariat
        )
        opened_events = await _events(s, "pmm.submission.cycle.opened.v1")
        closed_events = await _events(s, "pmm.submission.cycle.closed.v1")

    assert reopen.status_code == 409
    assert problem_of(reopen)["state"] == "open"
    assert closed.json()["state"] == "closed"
    assert closed_again.status_code == 409
    assert [(t["from_state"], t["to_state"], t["reason"]) for t in history.json()] == [
        (None, "draft", None),
        ("draft", "open", None),
        ("open", "closed", "window ended"),
    ]
    # The public reads the organisation; the Secretariat reads who it was.
    assert {t["actor"] for t in history.json()} == {"WCO Secretariat"}
    staff_actors = [t["actor"] for t in history_to_staff.json()]
    assert len(staff_actors) == 3
    assert all(actor.startswith("secretariat-wco-") for actor in staff_actors)
    assert len(opened_events) == 1
    assert '"reporting_year":2024' in opened_events[0]
    assert len(closed_events) == 1


async def test_cycle_creation_refusals(submission_service: ServiceToStart) -> None:
    body = cycle_body("PMM-X", framework_version="9.9.9")
    async with submission_service as s:
        secretariat = s.token(Role.SECRETARIAT)
        unknown_framework = await s.client.post(
            "/cycles", json=body, headers=secretariat
        )
        by_ncp = await s.client.post(
            "/cycles",
            json={**body, "framework_version": "1.0.0"},
            headers=s.token(Role.NCP, "BRA"),
        )
        anonymous = await s.client.post("/cycles", json=body)
        backwards = await s.client.post(
            "/cycles",
            json={**body, "framework_version": "1.0.0", "window_closes": "2025-01-01"},
            headers=secretariat,
        )
        await open_cycle(s, "PMM-X")
        duplicate = await s.client.post(
            "/cycles", json={**body, "framework_version": "1.0.0"}, headers=secretariat
        )
        other_case = await s.client.post(
            "/cycles",
            json={**body, "code": "pmm-x", "framework_version": "1.0.0"},
            headers=secretariat,
        )
        cycles = await s.client.get("/cycles")

    assert problem_of(unknown_framework)["errors"][0]["rule"] == "framework.unknown"
    assert by_ncp.status_code == 403
    assert anonymous.status_code == 401
    assert problem_of(backwards)["errors"][0]["rule"] == "window.order"
    assert duplicate.status_code == 409
    assert other_case.status_code == 409
    assert problem_of(other_case)["detail"] == "a cycle PMM-X exists already"
    assert [c["code"] for c in cycles.json()] == ["PMM-X"]


@pytest.mark.parametrize(
    ("opens", "closes"), [("2000-01-01", "2000-03-31"), ("2099-01-01", "2099-03-31")]
)
async def test_an_open_cycle_takes_entry_and_submit_whatever_its_window_dates(
    submission_service: ServiceToStart,
    opens: str,
    closes: str,
) -> None:
    async with submission_service as s:
        cycle_id = await draft_cycle(
            s, "PMM-OFF-WINDOW", window_opens=opens, window_closes=closes
        )
        await s.client.post(
            f"/cycles/{cycle_id}/open", headers=s.token(Role.SECRETARIAT)
        )
        written = await s.client.post(
            f"/cycles/{cycle_id}/submissions/BRA/values",
            json={"values": complete_answers()},
            headers=s.token(Role.PREPARER, "BRA"),
        )
        submitted = await s.client.post(
            f"/cycles/{cycle_id}/submissions/BRA/submit",
            headers=s.token(Role.NCP, "BRA"),
        )
        schemas = (await s.client.get("/openapi.json")).json()["components"]["schemas"]

    assert written.status_code == 200, written.text
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["number"] == 1
    for schema, field in [
        ("CycleCreate", "window_opens"),
        ("CycleCreate", "window_closes"),
        ("CycleOut", "window_opens"),
        ("CycleOut", "window_closes"),
    ]:
        description = schemas[schema]["properties"][field]["description"]
        assert "not enforced: the cycle's state governs entry" in description


async def test_a_date_is_iso_text_never_a_number_read_as_seconds(
    submission_service: ServiceToStart,
) -> None:
    cycle = cycle_body("PMM-DATES")
    async with submission_service as s:
        secretariat = s.token(Role.SECRETARIAT)
        cycle_id = await open_cycle(s)
        await s.client.post(f"/cycles/{cycle_id}/close", headers=secretariat)
        windows = [
            await s.client.post(
                "/cycles", json={**cycle, "window_opens": opens}, headers=secretariat
            )
            for opens in (20251201, "20251201", "2025-12-01T00:00:00")
        ]
        extension = await s.client.post(
            f"/cycles/{cycle_id}/extensions",
            json={"member": "BRA", "until": 4102444800, "reason": "migration"},
            headers=secretariat,
        )
        stored = await s.client.get("/cycles", headers=secretariat)

    for response in windows:
        assert response.status_code == 422
        problem = problem_of(response)
        assert problem["type"] == "urn:pmm:problem:validation"
        assert [(e["field"], e["code"]) for e in problem["errors"]] == [
            ("body.window_opens", "date_type")
        ]
    assert [(e["field"], e["code"]) for e in problem_of(extension)["errors"]] == [
        ("body.until", "date_type")
    ]
    assert [(c["id"], c["extensions"]) for c in stored.json()] == [(cycle_id, [])]


async def test_an_extension_lets_one_member_enter_data_in_a_closed_cycle(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        secretariat = s.token(Role.SECRETARIAT, subject="sec-1")
        draft_id = await draft_cycle(s, "PMM-DRAFT")
        in_draft = await s.client.post(
            f"/cycles/{draft_id}/extensions",
            json={"member": "BRA", "until": "2099-01-31", "reason": "early"},
            headers=secretariat,
        )
        cycle_id = await open_cycle(s)
        await s.client.post(f"/cycles/{cycle_id}/close", headers=secretariat)
        past = await s.client.post(
            f"/cycles/{cycle_id}/extensions",
            json={"member": "BRA", "until": "2020-01-31", "reason": "too late"},
            headers=secretariat,
        )
        blank = await s.client.post(
            f"/cycles/{cycle_id}/extensions",
            json={"member": "BRA", "until": "2099-01-31", "reason": " \u3000\t"},
            headers=secretariat,
        )
        extension = {
            "member": "BRA",
            "until": "2099-01-31",
            "reason": "system migration",
        }
        granted = await s.client.post(
            f"/cycles/{cycle_id}/extensions", json=extension, headers=secretariat
        )
        again = await s.client.post(
            f"/cycles/{cycle_id}/extensions",
            json=extension,
            headers=s.token(Role.SECRETARIAT, subject="sec-2"),
        )
        value = {"value": "10"}
        brazil = await s.client.put(
            f"/cycles/{cycle_id}/submissions/BRA/values/DECL_TOTAL/2024",
            json=value,
            headers=s.token(Role.PREPARER, "BRA"),
        )
        kenya = await s.client.put(
            f"/cycles/{cycle_id}/submissions/KEN/values/DECL_TOTAL/2024",
            json=value,
            headers=s.token(Role.PREPARER, "KEN"),
        )
        cycle = await s.client.get(f"/cycles/{cycle_id}", headers=secretariat)
        events = await _events(s, "pmm.submission.cycle.extension_granted.v1")

    assert in_draft.status_code == 409
    assert problem_of(past)["errors"][0]["rule"] == "extension.past"
    assert [(e["field"], e["code"]) for e in problem_of(blank)["errors"]] == [
        ("body.reason", "text.blank")
    ]
    assert granted.status_code == 201
    assert again.status_code == 200
    assert again.json() == granted.json()
    assert brazil.status_code == 200
    assert kenya.status_code == 409
    assert problem_of(kenya)["type"] == "urn:pmm:problem:invalid-state"
    stored = cycle.json()["extensions"]
    assert [
        (e["member"], e["until"], e["reason"], e["granted_by"]) for e in stored
    ] == [("BRA", "2099-01-31", "system migration", "sec-1")]
    assert stored[0]["granted_at"] == granted.json()["granted_at"]
    assert len(events) == 1


async def test_a_mapping_name_is_one_a_feed_can_match(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        ncp = s.token(Role.NCP, "BRA")
        spaced = await s.client.put(
            "/members/BRA/mappings/%20declarations%20",
            json={"data_element": "DECL_TOTAL"},
            headers=ncp,
        )
        slashed = await s.client.put(
            "/members/BRA/mappings/import%2Fexport%20declarations",
            json={"data_element": "DECL_TOTAL"},
            headers=ncp,
        )
        feed = await s.client.post(
            "/feeds",
            content=f"cycle,name,year,value\n"
            f"PMM-2025, import/export declarations ,{T},5\n".encode(),
            headers={**s.token(Role.PREPARER, "BRA"), "content-type": "text/csv"},
        )
        mappings = await s.client.get("/members/BRA/mappings", headers=ncp)
        deleted = await s.client.delete(
            "/members/BRA/mappings/import%2Fexport%20declarations", headers=ncp
        )
        view = await s.client.get(f"/cycles/{cycle_id}/submissions/BRA", headers=ncp)

    assert spaced.status_code == 422
    problem = problem_of(spaced)
    assert problem["type"] == "urn:pmm:problem:invalid-input"
    assert [(e["field"], e["rule"]) for e in problem["errors"]] == [
        ("name", "name.spaces")
    ]
    assert slashed.status_code == 200, slashed.text
    assert slashed.json()["name"] == "import/export declarations"
    assert feed.status_code == 200, feed.text
    assert [m["name"] for m in mappings.json()] == ["import/export declarations"]
    assert deleted.status_code == 204
    assert [
        (v["data_element"], v["year"], v["value"]) for v in view.json()["values"]
    ] == [("DECL_TOTAL", T, "5")]


async def test_a_yes_no_element_is_mapped_without_factor_or_unit(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        ncp = s.token(Role.NCP, "BRA")
        scaled = await s.client.put(
            "/members/BRA/mappings/aeo",
            json={"data_element": "AEO_PROGRAMME", "factor": "2"},
            headers=ncp,
        )
        with_unit = await s.client.put(
            "/members/BRA/mappings/aeo",
            json={"data_element": "AEO_PROGRAMME", "unit": "days"},
            headers=ncp,
        )
        plain = await s.client.put(
            "/members/BRA/mappings/aeo programme",
            json={"data_element": "AEO_PROGRAMME", "factor": "1"},
            headers=ncp,
        )
        mappings = await s.client.get("/members/BRA/mappings", headers=ncp)

    for response, field, rule in [
        (scaled, "factor", "factor.not_numeric"),
        (with_unit, "unit", "unit.not_applicable"),
    ]:
        assert response.status_code == 422
        problem = problem_of(response)
        assert problem["type"] == "urn:pmm:problem:invalid-input"
        assert [(e["field"], e["rule"]) for e in problem["errors"]] == [(field, rule)]
    assert problem_of(scaled)["detail"] == (
        "AEO_PROGRAMME is not a number: it takes no factor"
    )
    assert plain.status_code == 200, plain.text
    assert [(m["name"], m["factor"]) for m in mappings.json()] == [
        ("aeo programme", "1")
    ]
