"""Bad input a new user found answered with 500, or taken where the submission
service refuses it: each is a problem naming the field and the rule."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
import pytest_asyncio

from pmm_kit.auth import Role
from pmm_local.testing import RunningService

from .helpers import REPORTING_YEAR, complete_values

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def scoring(
    start_scoring: Callable[[], AbstractAsyncContextManager[RunningService]],
) -> AsyncIterator[RunningService]:
    async with start_scoring() as s:
        yield s


def _preview(changes: dict[str, Any]) -> dict[str, Any]:
    """The complete submission's values for the preview, DECL_TOTAL of year T
    given as `changes` says."""
    values = []
    for entry in complete_values():
        value = {
            "data_element": entry["element"],
            "year": entry["year"],
            "value": entry["value"],
        }
        if (entry["element"], entry["year"]) == ("DECL_TOTAL", REPORTING_YEAR):
            value = {**value, **changes}
        values.append(value)
    return {"reporting_year": REPORTING_YEAR, "values": values}


def _index_of_decl_total() -> int:
    return next(
        index
        for index, entry in enumerate(complete_values())
        if (entry["element"], entry["year"]) == ("DECL_TOTAL", REPORTING_YEAR)
    )


@pytest.mark.parametrize(
    ("written", "rule"),
    [
        ("1_0", "value.number"),
        ("1E+999999999", "value.number"),
        ("\u0661\u0662\u0663", "value.number"),
        ("1 000", "value.number"),
        ("NaN", "value.not_finite"),
        ("1" * 31, "value.too_large"),
    ],
)
async def test_the_preview_takes_figures_by_the_submission_services_rule(
    scoring: RunningService, written: str, rule: str
) -> None:
    response = await scoring.client.post(
        "/preview",
        json=_preview({"value": written}),
        headers=scoring.token(Role.PREPARER, "BRA"),
    )

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:pmm:problem:invalid-inputs"
    assert [(e["field"], e["rule"]) for e in problem["errors"]] == [
        (f"body.values.{_index_of_decl_total()}.value", rule)
    ]


async def test_a_figure_with_sign_and_spaces_around_it_is_read_exactly(
    scoring: RunningService,
) -> None:
    written = next(
        v["value"]
        for v in complete_values()
        if (v["element"], v["year"]) == ("DECL_TOTAL", REPORTING_YEAR)
    )

    plain = await scoring.client.post(
        "/preview", json=_preview({}), headers=scoring.token(Role.PREPARER, "BRA")
    )
    signed = await scoring.client.post(
        "/preview",
        json=_preview({"value": f" +{written} "}),
        headers=scoring.token(Role.PREPARER, "BRA"),
    )

    assert signed.status_code == 200, signed.text
    assert signed.json() == plain.json()


async def test_text_no_service_can_keep_is_refused_in_bodies_and_urls(
    scoring: RunningService,
) -> None:
    reason = await scoring.client.post(
        "/preview",
        content=b'{"reporting_year": 2023, "values": [{"data_element": '
        b'"DECL_TOTAL", "year": 2023, "state": "not_available", "reason": '
        b'"a\\u0000b"}]}',
        headers={
            **scoring.token(Role.PREPARER, "BRA"),
            "content-type": "application/json",
        },
    )
    recalculation = await scoring.client.post(
        "/cycles/cycle-2023/recalculations",
        content=b'{"reason": "\\ud800"}',
        headers={
            **scoring.token(Role.SECRETARIAT),
            "content-type": "application/json",
        },
    )
    scorecard = await scoring.client.get(
        "/members/BRA/cycles/x%00/scorecard", headers=scoring.token(Role.SECRETARIAT)
    )

    assert reason.status_code == 422
    assert [(e["field"], e["code"]) for e in reason.json()["errors"]] == [
        ("body.values.0.reason", "text.nul")
    ]
    assert recalculation.status_code == 422
    assert [(e["field"], e["code"]) for e in recalculation.json()["errors"]] == [
        ("body.reason", "text.surrogate")
    ]
    assert scorecard.status_code == 400
    assert scorecard.json()["type"] == "urn:pmm:problem:invalid-url"
    assert scorecard.json()["errors"][0]["code"] == "text.nul"


async def test_a_revision_beyond_the_columns_range_is_a_validation_problem(
    scoring: RunningService,
) -> None:
    response = await scoring.client.get(
        "/members/BRA/cycles/cycle-2023/scorecard?revision=2147483648",
        headers=scoring.token(Role.SECRETARIAT),
    )

    padded = await scoring.client.get(
        "/members/BRA/cycles/cycle-2023/scorecard?revision=02",
        headers=scoring.token(Role.SECRETARIAT),
    )

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("query.revision", "less_than_equal")
    ]
    assert [(e["field"], e["code"]) for e in padded.json()["errors"]] == [
        ("query.revision", "int_digits")
    ]


async def test_a_recalculation_needs_a_reason_and_a_version_that_say_something(
    scoring: RunningService,
) -> None:
    secretariat = scoring.token(Role.SECRETARIAT)
    bodies = [
        {"reason": "   "},
        {"reason": "new version", "framework_version": ""},
    ]

    answers = [
        await scoring.client.post(
            "/cycles/cycle-2023/recalculations", json=body, headers=secretariat
        )
        for body in bodies
    ]
    unknown = await scoring.client.post(
        "/cycles/no-such-cycle/recalculations",
        json={"reason": "new version"},
        headers=secretariat,
    )

    assert [a.status_code for a in answers] == [422, 422]
    assert [[(e["field"], e["code"]) for e in a.json()["errors"]] for a in answers] == [
        [("body.reason", "string_pattern_mismatch")],
        [("body.framework_version", "string_too_short")],
    ]
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == (
        "no calculation for cycle no-such-cycle: the cycle is unknown here, or none "
        "of its submissions has been scored yet"
    )


async def test_entries_the_library_cannot_take_are_named_with_their_rule(
    scoring: RunningService,
) -> None:
    body = _preview({"state": "not_available", "value": None})
    index = _index_of_decl_total()
    body["values"].append(dict(body["values"][index + 1]))
    body["kpi_opt_outs"] = [
        {"kpi": "TF.8.1", "reason": "no transit regime"},
        {"kpi": "TF.8.1", "reason": "none"},
    ]

    response = await scoring.client.post(
        "/preview", json=body, headers=scoring.token(Role.PREPARER, "BRA")
    )

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:pmm:problem:invalid-inputs"
    assert problem["detail"] == "3 entries cannot be scored; see errors"
    again = body["values"][index + 1]
    assert [(e["field"], e["rule"], e["message"]) for e in problem["errors"]] == [
        (
            f"body.values.{index}",
            "value.state",
            f"DECL_TOTAL ({REPORTING_YEAR}): a not_available value needs a reason",
        ),
        (
            f"body.values.{len(body['values']) - 1}",
            "value.duplicate",
            f"{again['data_element']} is given twice for {again['year']}",
        ),
        (
            "body.kpi_opt_outs.1.kpi",
            "opt_out.duplicate",
            "KPI TF.8.1 is opted out twice",
        ),
    ]


@pytest.mark.parametrize(
    ("value", "code"),
    [([5], "value.type"), ({"a": 1}, "value.type"), ("9" * 101, "value.too_long")],
)
async def test_a_value_of_no_type_the_preview_reads_is_one_error_at_the_value(
    scoring: RunningService, value: Any, code: str
) -> None:
    response = await scoring.client.post(
        "/preview",
        json=_preview({"value": value}),
        headers=scoring.token(Role.PREPARER, "BRA"),
    )

    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        (f"body.values.{_index_of_decl_total()}.value", code)
    ]
