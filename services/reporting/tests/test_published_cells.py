"""A published report's cells are known to everyone for good: the next report (and
a report's `/changes`) must not let anyone subtract one of its cells from one
published before, whether a member left the live table since (returned) or entered
it (accepted late)."""

from decimal import Decimal
from typing import Any

import pytest

from pmm_reporting.suppression import (
    ALL_MEMBERS,
    CellKey,
    Reason,
    SuppressionRules,
    Suppressor,
)

from .helpers import (
    ServiceToStart,
    cycle_opened,
    cycle_ref,
    publish_and_wait,
    publish_report,
    returned,
    shares_accepted,
)

CYCLE = cycle_ref(2024)
KPI = "TF.1.1"
BENCHMARKS = "/cycles/cycle-2024/benchmarks"
EUROPE = ("wco_region", "Europe")


def _participations(members: dict[str, str], first_seed: int = 0) -> list[Any]:
    """Their values restricted (the default level)."""
    return shares_accepted(CYCLE, members, first_seed=first_seed)


def _cells(response: Any) -> dict[CellKey, dict[str, Any]]:
    return {
        (c["grouping"], c["group"]): c
        for c in response.json()["cells"]
        if c["kpi"] == KPI
    }


# Units: the suppressor with published member sets, without I/O.


def _suppress(
    live: set[str], published: set[str], values: dict[str, str]
) -> dict[CellKey, str]:
    cells = {ALL_MEMBERS: frozenset(live), EUROPE: frozenset(live)}
    return Suppressor(
        cells,
        {member: Decimal(value) for member, value in values.items()},
        additive=False,
        rules=SuppressionRules(),
        published=(frozenset(published),),
    ).run()


def test_a_live_cell_one_member_away_from_a_published_one_is_suppressed() -> None:
    values = {"FRA": "90", "DEU": "80", "ITA": "70", "ESP": "61", "POL": "50"}

    left = _suppress({"DEU", "ITA", "ESP"}, {"FRA", "DEU", "ITA", "ESP"}, values)
    entered = _suppress({"FRA", "DEU", "ITA", "ESP"}, {"FRA", "DEU", "ITA"}, values)
    three_away = _suppress(
        set(values) | {"PRT"}, {"FRA", "DEU", "ITA"}, values | {"PRT": "40"}
    )
    as_published = _suppress({"FRA", "DEU", "ITA"}, {"FRA", "DEU", "ITA"}, values)

    assert left == {ALL_MEMBERS: Reason.COMPLEMENTARY, EUROPE: Reason.COMPLEMENTARY}
    assert entered == {ALL_MEMBERS: Reason.COMPLEMENTARY, EUROPE: Reason.COMPLEMENTARY}
    assert three_away == {}
    assert as_published == {}


# Through the API: published, the live table moves, and the next report must hold
# against the first.


@pytest.mark.asyncio(loop_scope="session")
async def test_a_member_returned_after_publication_cannot_be_subtracted_out(
    reporting_service: ServiceToStart,
) -> None:
    members = {"FRA": "90.00", "DEU": "80.00", "ITA": "70.00", "ESP": "61.00"}

    async with reporting_service as s:
        await publish_and_wait(s, [cycle_opened(CYCLE), *_participations(members)])
        first_id = await publish_report(s)
        before = await s.client.get(BENCHMARKS, params={"kpi": KPI})
        await publish_and_wait(s, [returned(CYCLE, "FRA", revision=1)])
        unchanged = await s.client.get(BENCHMARKS, params={"kpi": KPI})
        secretariat = await s.client.get(
            BENCHMARKS, params={"kpi": KPI}, headers=s.token("secretariat")
        )
        changes = await s.client.get(
            f"/reports/{first_id}/changes", headers=s.token("secretariat")
        )
        second_id = await publish_report(s)
        public = await s.client.get(BENCHMARKS, params={"kpi": KPI})
        ncp = await s.client.get(
            BENCHMARKS, params={"kpi": KPI}, headers=s.token("ncp", "ARG")
        )
        second = await s.client.get(f"/reports/{second_id}")

    figures = second.json()["figures"]
    changed = {change["figure"]: change for change in changes.json()["changed"]}
    everyone = changed[f"benchmark/{KPI}/all/all"]
    assert (_cells(before)[ALL_MEMBERS]["n"], _cells(before)[ALL_MEMBERS]["mean"]) == (
        4,
        "75.2500",
    )
    assert unchanged.json() == before.json()
    # Without the first report, three restricted values would be a safe cell
    # (70.3333), and 4 x 75.25 - 3 x 70.3333 = 90.00, France's restricted value.
    assert _cells(secretariat)[ALL_MEMBERS]["mean"] == "70.3333"
    for view in (public, ncp):
        assert view.json()["publication"]["report_id"] == second_id
        for key, cell in _cells(view).items():
            assert cell["suppressed"] is True, key
            assert cell["mean"] is None, key
    assert _cells(public)[ALL_MEMBERS]["suppression_reason"] == Reason.COMPLEMENTARY
    assert figures[f"benchmark/{KPI}/all/all"]["mean"] is None
    assert "70.3333" not in second.text
    # Even the Secretariat's current figures are the public view's, as the next
    # report would show them.
    assert everyone["published"]["mean"] == "75.2500"
    assert everyone["current"]["mean"] is None
    assert "70.3333" not in changes.text


@pytest.mark.asyncio(loop_scope="session")
async def test_a_member_accepted_after_publication_cannot_be_subtracted_out(
    reporting_service: ServiceToStart,
) -> None:
    first = {"FRA": "90.00", "DEU": "80.00", "ITA": "70.00"}
    late = _participations({"ESP": "61.00"}, first_seed=3)
    later = _participations({"POL": "55.00", "PRT": "45.00"}, first_seed=4)

    async with reporting_service as s:
        await publish_and_wait(s, [cycle_opened(CYCLE), *_participations(first)])
        first_id = await publish_report(s)
        await publish_and_wait(s, late)
        await publish_report(s)
        one_more = await s.client.get(BENCHMARKS, params={"kpi": KPI})
        one_more_ncp = await s.client.get(
            BENCHMARKS, params={"kpi": KPI}, headers=s.token("ncp", "ARG")
        )
        await publish_and_wait(s, later)
        await publish_report(s)
        three_more = await s.client.get(BENCHMARKS, params={"kpi": KPI})
        snapshot = await s.client.get(f"/reports/{first_id}")

    published_all = snapshot.json()["figures"][f"benchmark/{KPI}/all/all"]
    everyone = _cells(three_more)[ALL_MEMBERS]
    assert (published_all["n"], published_all["mean"]) == ("3", "80.0000")
    for view in (one_more, one_more_ncp):
        for key, cell in _cells(view).items():
            assert cell["suppressed"] is True, key
            assert cell["mean"] is None, key
    # Three members more than the first report: what the difference gives is the
    # sum of three restricted values, which the k rule allows.
    assert everyone["suppressed"] is False
    assert (everyone["n"], everyone["mean"]) == (6, "66.8333")
