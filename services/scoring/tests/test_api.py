"""Reading scores: scorecards, explanations, who may read what, and the preview."""

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from importlib import resources
from itertools import permutations
from typing import Any

import pytest
import pytest_asyncio
import yaml

from pmm_kit.auth import Role
from pmm_kit.contracts.review import ReviewAssigned, ReviewWithdrawn
from pmm_kit.events import Contract, Envelope
from pmm_local.testing import RunningService, truncate_schema
from pmm_scoring.consumers import REVIEWS_CONSUMER

from .helpers import (
    REPORTING_YEAR,
    complete_values,
    eventually,
    publish,
    scalar,
    submitted,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

SCORECARD = "/members/BRA/cycles/cycle-2023/scorecard"


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def scoring(
    start_scoring: Callable[[], AbstractAsyncContextManager[RunningService]],
    scoring_database: str,
) -> AsyncIterator[RunningService]:
    """One scored submission of BRA, read by every test of this module."""
    await truncate_schema(scoring_database, "scoring")
    async with start_scoring() as s:
        await publish(s.runtime.broker.jetstream, submitted(member="BRA"))
        await eventually(lambda: _count(s, "calculation", 1))
        yield s


async def _count(s: RunningService, table: str, at_least: int) -> bool:
    count = await scalar(s.runtime.sessions, f"SELECT count(*) FROM {table}")
    return int(count) >= at_least


def _framework_kpi(code: str) -> dict[str, Any]:
    text = (
        resources.files("pmm_methodology")
        .joinpath("frameworks/pmm-v1.yaml")
        .read_text()
    )
    kpi: dict[str, Any] = next(
        k for k in yaml.safe_load(text)["kpis"] if k["code"] == code
    )
    return kpi


@pytest.mark.parametrize("code", ["TF.1.1", "TF.2.1"])
async def test_explaining_a_kpi_names_the_inputs_and_formula_of_the_framework_file(
    scoring: RunningService, code: str
) -> None:
    declared = _framework_kpi(code)

    response = await scoring.client.get(
        f"/members/BRA/cycles/cycle-2023/explain/kpi/{code}",
        headers=scoring.token(Role.NCP, "BRA"),
    )

    body = response.json()
    result, explanation = body["result"], body["explanation"]
    named = [
        used["element"] + ("" if used["year"] == REPORTING_YEAR else "[T-1]")
        for used in result["inputs"]
    ]
    assert named == declared["inputs"]
    assert result["formula"] == declared["formula"]
    assert explanation["steps"][0] == f"formula: {declared['formula']}"
    for used in result["inputs"]:
        assert used["state"] == "provided"
        assert any(
            step.startswith(f"{used['element']}") and f"({used['year']})" in step
            for step in explanation["steps"]
        )
    assert any("reached" in step for step in explanation["steps"])


async def test_explaining_an_outcome_and_a_dimension_gives_method_and_coverage(
    scoring: RunningService,
) -> None:
    headers = scoring.token(Role.NCP, "BRA")

    outcome = await scoring.client.get(
        "/members/BRA/cycles/cycle-2023/explain/outcome/TF.1", headers=headers
    )
    dimension = await scoring.client.get(
        "/members/BRA/cycles/cycle-2023/explain/dimension/TF", headers=headers
    )
    unknown = await scoring.client.get(
        "/members/BRA/cycles/cycle-2023/explain/kpi/XX.9.9", headers=headers
    )

    assert outcome.json()["result"]["aggregation"] == "averaging"
    assert outcome.json()["explanation"]["steps"][0].startswith(
        "aggregation: averaging (M2)"
    )
    assert dimension.json()["result"]["coverage"]["ratio"] == "1.0000"
    assert dimension.json()["explanation"]["steps"][-1].startswith("coverage:")
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "urn:pmm:problem:unknown-code"


@pytest.mark.parametrize(
    "path",
    [
        SCORECARD,
        "/members/BRA/cycles/cycle-2023/calculations",
        "/members/BRA/cycles/cycle-2023/explain/kpi/TF.1.1",
    ],
)
async def test_another_members_results_are_not_found(
    scoring: RunningService, path: str
) -> None:
    own = await scoring.client.get(path, headers=scoring.token(Role.PREPARER, "BRA"))
    other = await scoring.client.get(path, headers=scoring.token(Role.NCP, "ARG"))
    anonymous = await scoring.client.get(path)

    assert own.status_code == 200
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["detail"] == "no calculation for BRA in cycle cycle-2023"
    assert anonymous.status_code == 401


async def test_a_calculation_by_id_is_refused_to_another_member(
    scoring: RunningService,
) -> None:
    card = await scoring.client.get(SCORECARD, headers=scoring.token(Role.SECRETARIAT))
    calculation_id = card.json()["calculation"]["calculation_id"]

    own = await scoring.client.get(
        f"/calculations/{calculation_id}", headers=scoring.token(Role.NCP, "BRA")
    )
    other = await scoring.client.get(
        f"/calculations/{calculation_id}", headers=scoring.token(Role.NCP, "ARG")
    )

    assert own.json()["calculation"]["calculation_id"] == calculation_id
    assert other.status_code == 404


async def test_reviewers_read_what_is_assigned_to_them_until_withdrawn(
    scoring: RunningService,
) -> None:
    jetstream = scoring.runtime.broker.jetstream
    # As the review service sends them: its own reviewer ids, and the token subjects.
    ana_id, carla_id = "3f0c5e1a-reviewer-ana-id", "9b2d7c4e-reviewer-carla-id"
    assigned = scoring.token(Role.REVIEWER, subject="reviewer-ana")
    other = scoring.token(Role.REVIEWER, subject="reviewer-bob")
    named_by_id = scoring.token(Role.REVIEWER, subject=ana_id)
    before = await scoring.client.get(SCORECARD, headers=assigned)

    assignment = await publish(
        jetstream,
        ReviewAssigned(
            review_id="review-1",
            submission_id="sub-BRA-cycle-2023",
            member="BRA",
            reviewer_ids=(ana_id, carla_id),
            reviewer_subjects=("reviewer-ana", "reviewer-carla"),
            assigned_by="wco-secretariat-1",
        ),
    )
    await eventually(_handled(scoring, [assignment]))
    during = await scoring.client.get(SCORECARD, headers=assigned)
    not_assigned = await scoring.client.get(SCORECARD, headers=other)
    by_id = await scoring.client.get(SCORECARD, headers=named_by_id)
    withdrawal = await publish(jetstream, _withdrawn("review-1"))
    await eventually(_handled(scoring, [withdrawal]))
    after = await scoring.client.get(SCORECARD, headers=assigned)

    assert before.status_code == 404
    assert during.status_code == 200
    assert during.json()["calculation"]["member"] == "BRA"
    assert not_assigned.status_code == 404
    assert by_id.status_code == 404
    assert after.status_code == 404


def _named(*names: str) -> Callable[[tuple[int, ...]], str]:
    """A test id naming the events in the order they are published."""
    return lambda order: "-then-".join(names[position] for position in order)


@pytest.mark.parametrize(
    "order",
    list(permutations(range(3))),
    ids=_named("assigned", "reassigned", "withdrawn"),
)
async def test_a_withdrawn_review_stays_closed_whatever_order_its_events_arrive_in(
    scoring: RunningService, order: tuple[int, ...]
) -> None:
    review_id = f"review-{uuid.uuid4().hex[:8]}"
    ana, bob, carla = (f"{review_id}-{name}" for name in ("ana", "bob", "carla"))
    events = _in_time_order(
        _assigned(review_id, ana, carla),
        _assigned(review_id, bob),
        _withdrawn(review_id),
    )

    await _publish_in(scoring, [events[position] for position in order])
    await eventually(_handled(scoring, events))
    readers = await _readers(scoring, ana, bob, carla)

    assert readers == {ana: 404, bob: 404, carla: 404}


@pytest.mark.parametrize(
    "order", [(0, 1), (1, 0)], ids=_named("assigned", "reassigned")
)
async def test_of_two_assignments_the_later_one_holds_whatever_order_they_arrive_in(
    scoring: RunningService, order: tuple[int, ...]
) -> None:
    review_id = f"review-{uuid.uuid4().hex[:8]}"
    ana, bob, carla = (f"{review_id}-{name}" for name in ("ana", "bob", "carla"))
    events = _in_time_order(_assigned(review_id, ana, carla), _assigned(review_id, bob))

    await _publish_in(scoring, [events[position] for position in order])
    await eventually(_handled(scoring, events))
    readers = await _readers(scoring, ana, bob, carla)

    assert readers == {ana: 404, bob: 200, carla: 404}


def _assigned(review_id: str, *subjects: str) -> ReviewAssigned:
    return ReviewAssigned(
        review_id=review_id,
        submission_id="sub-BRA-cycle-2023",
        member="BRA",
        reviewer_ids=tuple(f"{subject}-id" for subject in subjects),
        reviewer_subjects=subjects,
        assigned_by="wco-secretariat-1",
    )


def _withdrawn(review_id: str) -> ReviewWithdrawn:
    return ReviewWithdrawn(
        review_id=review_id,
        submission_id="sub-BRA-cycle-2023",
        member="BRA",
        reason="no longer needed",
        withdrawn_by="ncp-1",
    )


def _in_time_order(*payloads: Contract) -> list[Envelope]:
    """The events as the review service would have written them, a second apart."""
    start = datetime.now(UTC)
    return [
        Envelope.wrap(payload, correlation_id="corr-review").model_copy(
            update={"time": start + timedelta(seconds=position)}
        )
        for position, payload in enumerate(payloads)
    ]


async def _publish_in(scoring: RunningService, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        await publish(
            scoring.runtime.broker.jetstream, envelope.payload(), envelope=envelope
        )


async def _readers(scoring: RunningService, *subjects: str) -> dict[str, int]:
    """What each reviewer gets when reading the scorecard."""
    statuses = {}
    for subject in subjects:
        response = await scoring.client.get(
            SCORECARD, headers=scoring.token(Role.REVIEWER, subject=subject)
        )
        statuses[subject] = response.status_code
    return statuses


def _handled(scoring: RunningService, envelopes: list[Envelope]) -> Any:
    """Whether the consumer has committed the effects of all these events."""

    async def handled() -> bool:
        count = await scalar(
            scoring.runtime.sessions,
            "SELECT count(*) FROM inbox"
            " WHERE consumer = :consumer AND event_id = ANY(:ids)",
            consumer=REVIEWS_CONSUMER,
            ids=[envelope.id for envelope in envelopes],
        )
        return int(count) == len(envelopes)

    return handled


def _preview_values() -> list[dict[str, Any]]:
    return [
        {"data_element": v["element"], "year": v["year"], "value": v["value"]}
        for v in complete_values()
    ]


async def test_the_preview_scores_for_any_caller_and_stores_nothing(
    scoring: RunningService,
) -> None:
    calculations_before = await scalar(
        scoring.runtime.sessions, "SELECT count(*) FROM calculation"
    )
    request = {
        "reporting_year": REPORTING_YEAR,
        "values": _preview_values(),
        "kpi_opt_outs": [{"kpi": "TF.8.1", "reason": "no transit regime"}],
    }

    response = await scoring.client.post(
        "/preview", json=request, headers=scoring.token(Role.REVIEWER, subject="r-9")
    )
    anonymous = await scoring.client.post("/preview", json=request)

    body = response.json()
    tf_1_1 = next(k for k in body["assessment"]["kpis"] if k["code"] == "TF.1.1")
    tf_8_1 = next(k for k in body["assessment"]["kpis"] if k["code"] == "TF.8.1")
    assert body["can_submit"] is True
    assert (tf_1_1["value"], tf_1_1["level"]) == ("98.10", 4)
    assert (tf_8_1["status"], tf_8_1["level"]) == ("opted_out", "n/a")
    assert anonymous.status_code == 401
    calculations_after = await scalar(
        scoring.runtime.sessions, "SELECT count(*) FROM calculation"
    )
    assert calculations_after == calculations_before


async def test_the_preview_refuses_values_it_cannot_take(
    scoring: RunningService,
) -> None:
    headers = scoring.token(Role.PREPARER, "BRA")
    without_reason = {
        "reporting_year": REPORTING_YEAR,
        "values": [
            {"data_element": "DECL_TOTAL", "year": 2022, "state": "not_available"}
        ],
    }
    unknown_framework = {"reporting_year": 2022, "framework_version": "7.0.0"}
    # As text: Python's own JSON would send 1e-400 as 0.0.
    too_precise = (
        '{"reporting_year": 2022, "values": [{"data_element": "REV_CUSTOMS", '
        '"year": 2022, "value": 1e-400}]}'
    )

    responses = [
        await scoring.client.post("/preview", json=body, headers=headers)
        for body in (without_reason, unknown_framework)
    ]
    responses.append(
        await scoring.client.post(
            "/preview",
            content=too_precise,
            headers={**headers, "Content-Type": "application/json"},
        )
    )

    assert [r.status_code for r in responses] == [422, 422, 422]
    assert responses[0].json()["type"] == "urn:pmm:problem:invalid-inputs"
    assert responses[1].json()["type"] == "urn:pmm:problem:unknown-framework"
    assert responses[2].json()["errors"][0]["field"] == "body.values.0.value"
    assert responses[2].json()["errors"][0]["rule"] == "value.too_many_decimals"


@pytest.mark.parametrize("year", [True, "2022", 2022.0])
async def test_the_preview_takes_a_year_only_as_a_whole_json_number(
    scoring: RunningService, year: object
) -> None:
    headers = scoring.token(Role.PREPARER, "BRA")
    as_reporting_year = {"reporting_year": year}
    as_value_year = {
        "reporting_year": REPORTING_YEAR,
        "values": [{"data_element": "DECL_TOTAL", "year": year, "value": "1"}],
    }

    responses = [
        await scoring.client.post("/preview", json=body, headers=headers)
        for body in (as_reporting_year, as_value_year)
    ]

    assert [r.status_code for r in responses] == [422, 422]
    assert [r.json()["errors"][0]["field"] for r in responses] == [
        "body.reporting_year",
        "body.values.0.year",
    ]


async def test_the_preview_reads_json_numbers_exactly_and_never_as_yes_or_no(
    scoring: RunningService,
) -> None:
    # In lax mode 1 and 0 were yes and no, and a JSON number went through a float.
    values = [
        {"data_element": "DECL_TOTAL", "year": 2022, "value": 1},
        {"data_element": "DECL_ELECTRONIC", "year": 2022, "value": 1},
        {"data_element": "REV_PAID_ELECTRONIC", "year": 2022, "value": 0.9810},
        {"data_element": "REV_CUSTOMS", "year": 2022, "value": 12345678901234567890.5},
    ]
    body = json.dumps({"reporting_year": REPORTING_YEAR, "values": values})
    for written in ("0.9810", "12345678901234567890.5"):
        body = body.replace(repr(float(written)), written)

    response = await scoring.client.post(
        "/preview",
        content=body,
        headers={
            **scoring.token(Role.PREPARER, "BRA"),
            "Content-Type": "application/json",
        },
    )

    kpis = {k["code"]: k for k in response.json()["assessment"]["kpis"]}
    inputs = {
        (i["element"], i["value"])
        for k in kpis.values()
        for i in k["inputs"]
        if i["state"] == "provided"
    }
    assert response.status_code == 200
    assert ("DECL_TOTAL", "1") in inputs
    assert ("REV_PAID_ELECTRONIC", "0.9810") in inputs
    assert ("REV_CUSTOMS", "12345678901234567890.5") in inputs
    assert (kpis["TF.1.1"]["value"], kpis["TF.1.1"]["level"]) == ("100.00", 4)


async def test_the_preview_reads_yes_no_and_codes_as_the_submission_service_does(
    scoring: RunningService,
) -> None:
    headers = scoring.token(Role.PREPARER, "BRA")
    accepted = {
        "reporting_year": REPORTING_YEAR,
        "values": [
            {"data_element": "STRATEGIC_PLAN", "year": 2022, "value": " Yes "},
            {"data_element": "CODE_OF_CONDUCT", "year": 2022, "value": "0"},
            {
                "data_element": "SINGLE_WINDOW_STATUS",
                "year": 2022,
                "value": " OPERATIONAL ",
            },
        ],
    }
    refused = {
        "reporting_year": REPORTING_YEAR,
        "values": [
            {"data_element": "AEO_PROGRAMME", "year": 2022, "value": 1},
            {"data_element": "DECL_TOTAL", "year": 2022, "value": True},
            {"data_element": "SINGLE_WINDOW_STATUS", "year": 2022, "value": "maybe"},
        ],
    }

    read = await scoring.client.post("/preview", json=accepted, headers=headers)
    not_read = await scoring.client.post("/preview", json=refused, headers=headers)

    inputs = {
        i["element"]: i["value"]
        for k in read.json()["assessment"]["kpis"]
        for i in k["inputs"]
        if i["state"] == "provided"
    }
    findings = [f["rule"] for f in read.json()["assessment"]["findings"]]
    assert inputs["STRATEGIC_PLAN"] is True
    assert inputs["CODE_OF_CONDUCT"] is False
    assert inputs["SINGLE_WINDOW_STATUS"] == "operational"
    assert not [rule for rule in findings if rule.startswith("input.")]
    assert not_read.status_code == 422
    assert [(e["field"], e["rule"]) for e in not_read.json()["errors"]] == [
        ("body.values.0.value", "value.type"),
        ("body.values.1.value", "value.type"),
        ("body.values.2.value", "value.allowed"),
    ]
