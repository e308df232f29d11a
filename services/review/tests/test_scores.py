"""The scores beside a review carry each KPI's value as the scoring service computed
it: a yes/no as a JSON boolean, a number as exact decimal text."""

import uuid
from typing import Any

import pytest

from pmm_local.testing import RunningService

from .helpers import (
    FIRST_VALUES,
    consumed,
    eventually,
    publish,
    request_review,
    scored,
    submitted,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

WITH_A_CODE: dict[tuple[str, int], str | bool] = {
    **FIRST_VALUES,
    ("CODE_OF_CONDUCT", 2022): True,
}
WITHOUT_A_CODE: dict[tuple[str, int], str | bool] = {
    **FIRST_VALUES,
    ("CODE_OF_CONDUCT", 2022): False,
}


async def test_a_yes_no_kpi_is_answered_as_a_boolean_beside_the_revision_before(
    review_service: RunningService,
) -> None:
    s = review_service
    ncp = s.token("ncp", "BRA")
    submission_id = f"sub-{uuid.uuid4().hex}"
    await publish(s, submitted(submission_id, values=WITH_A_CODE))
    requested = await request_review(s, submission_id)
    url = f"/reviews/{requested.json()['id']}"
    await publish(s, submitted(submission_id, revision=2, values=WITHOUT_A_CODE))

    async def on_revision_2() -> dict[str, Any] | None:
        body: dict[str, Any] = (await s.client.get(url, headers=ncp)).json()
        return body if body["revision"] == 2 else None

    await eventually(on_revision_2)
    await publish(s, scored(submission_id, revision=1, values=WITH_A_CODE))
    await consumed(
        s, await publish(s, scored(submission_id, revision=2, values=WITHOUT_A_CODE))
    )

    scores = await s.client.get(f"{url}/scores", headers=ncp)

    assert scores.status_code == 200, scores.text
    kpis = {k["kpi"]: k for k in scores.json()["kpis"]}
    assert kpis["OD.1.2"] == {
        "kpi": "OD.1.2",
        "value": False,
        "level": 1,
        "status": "computed",
        "previous_value": True,
        "previous_level": 4,
        "changed": True,
    }
    assert (kpis["TF.1.1"]["value"], kpis["TF.1.1"]["previous_value"]) == (
        "98.10",
        "98.10",
    )
    assert kpis["TF.1.1"]["changed"] is False
