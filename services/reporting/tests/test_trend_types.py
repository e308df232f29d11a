"""A scorecard's trend gives the previous cycle's value in the type of the value:
a yes/no KPI's previous answer was the text "1" beside a `true` value (the read
model keeps yes as 1 for the benchmarks), while numbers are exact decimal text in
both."""

from decimal import Decimal
from typing import Any

import pytest

from pmm_kit.contracts.common import DisclosureLevel

from .helpers import (
    ServiceToStart,
    attributes,
    cycle_ref,
    participation,
    publish_and_wait,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

EARLIER = cycle_ref(2022)
CURRENT = cycle_ref(2024)
PUBLIC = {"OD.4.1": DisclosureLevel.PUBLIC, "TF.1.1": DisclosureLevel.PUBLIC}


def _cycle(year: int, *, strategic_plan: bool, electronic: int) -> list[Any]:
    """NLD's OD.4.1 (a strategic plan with targets, yes or no) and TF.1.1."""
    overrides = {
        ("STRATEGIC_PLAN", year): strategic_plan,
        ("DECL_TOTAL", year): Decimal(10_000),
        ("DECL_ELECTRONIC", year): Decimal(electronic),
    }
    cycle = cycle_ref(year)
    return participation(cycle, attributes("NLD"), overrides, disclosure=PUBLIC)


def _trend(scorecard: Any, kpi: str) -> tuple[Any, Any, Any]:
    line = next(k for k in scorecard.json()["kpis"] if k["code"] == kpi)
    return line["value"], line["previous_value"], line["change"]


async def test_a_yes_no_trend_is_two_booleans_and_a_number_trend_two_decimals(
    reporting_service: ServiceToStart,
) -> None:
    scorecard = "/cycles/{}/members/NLD/scorecard"

    async with reporting_service as s:
        await publish_and_wait(
            s,
            [
                *_cycle(2022, strategic_plan=True, electronic=9_000),
                *_cycle(2024, strategic_plan=False, electronic=9_250),
            ],
        )
        readers = [
            await s.client.get(scorecard.format(CURRENT.cycle_id)),
            await s.client.get(
                scorecard.format(CURRENT.cycle_id), headers=s.token("ncp", "NLD")
            ),
            await s.client.get(
                scorecard.format(CURRENT.cycle_id), headers=s.token("secretariat")
            ),
        ]
        earlier = await s.client.get(scorecard.format(EARLIER.cycle_id))

    for read in readers:
        assert _trend(read, "OD.4.1") == (False, True, None)
        assert _trend(read, "TF.1.1") == ("92.50", "90.00", "2.50")
    assert _trend(earlier, "OD.4.1") == (True, None, None)
