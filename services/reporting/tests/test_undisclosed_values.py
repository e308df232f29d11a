"""A benchmark cell reaches an audience only if the values that audience may not see
cannot be worked out from it: not by subtracting the values it sees from n times the
mean, nor by subtracting two cells, nor from order statistics (which are values)."""

import csv
import io
import json
from collections.abc import Mapping
from decimal import Decimal
from itertools import product
from typing import Any

import pytest

from pmm_kit.contracts.common import DisclosureLevel
from pmm_reporting.suppression import (
    ALL_MEMBERS,
    CellKey,
    Reason,
    SuppressionRules,
    Suppressor,
)

from .helpers import (
    ServiceToStart,
    attributes,
    cycle_ref,
    participation,
    publish_and_wait,
    publish_report,
    revenue_variation,
)

CYCLE = cycle_ref(2024)
KPI = "RC.1.2"
BENCHMARKS = "/cycles/cycle-2024/benchmarks"
PUBLIC = DisclosureLevel.PUBLIC
WCO = DisclosureLevel.WCO
FAR_EAST = "Far East, South and South East Asia, Australasia and the Pacific Islands"
# The main job's RC.1.2: Finland and the Philippines public, Nigeria WCO level only.
MAIN_JOB = {
    "FIN": ("Europe", "high", "45.92", PUBLIC),
    "PHL": (FAR_EAST, "lower middle", "33.63", PUBLIC),
    "NGA": ("West and Central Africa", "lower middle", "17.81", WCO),
}
NIGERIA = "17.81"
FIGURES = ("n", "mean", "median", "q1", "q3", "minimum", "maximum")

Members = Mapping[str, tuple[str, str, str, DisclosureLevel]]


def _events(members: Members) -> list[Any]:
    events = []
    for seed, (code, (region, income, value, level)) in enumerate(members.items()):
        events += participation(
            CYCLE,
            attributes(code, region=region, income=income),
            revenue_variation(value),
            seed=seed,
            disclosure={KPI: level},
        )
    return events


def _membership(members: Members) -> dict[CellKey, frozenset[str]]:
    cells: dict[CellKey, set[str]] = {ALL_MEMBERS: set(members)}
    for code, (region, income, _, _) in members.items():
        for key in (
            ("wco_region", region),
            ("income_group", income),
            ("administration_type", "customs"),
        ):
            cells.setdefault(key, set()).add(code)
    return {key: frozenset(codes) for key, codes in cells.items()}


def _worked_out(
    cells: Mapping[CellKey, Mapping[str, Any]],
    membership: Mapping[CellKey, frozenset[str]],
    seen: Mapping[str, Decimal],
) -> dict[frozenset[str], Decimal]:
    """The sums of unseen values a reader gets from the cells it is shown: n times
    the mean less the values it sees, the total less a grouping's shown cells, and
    the difference of two such sums whose members nest."""
    sums = {
        key: Decimal(cell["mean"]) * cell["n"]
        - sum((seen[m] for m in membership[key] & seen.keys()), Decimal(0))
        for key, cell in cells.items()
        if cell["mean"] is not None
    }
    known = {membership[key].difference(seen): total for key, total in sums.items()}
    if ALL_MEMBERS in sums:
        everyone = membership[ALL_MEMBERS].difference(seen)
        for grouping in {key[0] for key in membership} - {"all"}:
            keys = [key for key in sums if key[0] == grouping]
            placed = frozenset().union(*(membership[k].difference(seen) for k in keys))
            rest = sums[ALL_MEMBERS] - sum((sums[k] for k in keys), Decimal(0))
            known.setdefault(everyone - placed, rest)
    derived = dict(known)
    for (inner, low), (outer, high) in product(known.items(), repeat=2):
        if inner < outer:
            derived[outer - inner] = high - low
    return {hidden: total for hidden, total in derived.items() if hidden}


def _too_few(derived: Mapping[frozenset[str], Decimal]) -> set[frozenset[str]]:
    return {hidden for hidden in derived if 0 < len(hidden) < 3}


def _cells(response: Any) -> dict[CellKey, dict[str, Any]]:
    return {
        (c["grouping"], c["group"]): c
        for c in response.json()["cells"]
        if c["kpi"] == KPI
    }


def _values(members: Members, *levels: DisclosureLevel) -> dict[str, Decimal]:
    return {
        code: Decimal(value)
        for code, (_, _, value, level) in members.items()
        if level in levels
    }


def _line(scorecard: Any) -> dict[str, Any]:
    line: dict[str, Any] = next(k for k in scorecard.json()["kpis"] if k["code"] == KPI)
    return line


# Units: the suppressor on member sets, without I/O.


def _suppress(
    cells: dict[CellKey, set[str]],
    values: dict[str, str],
    hidden: set[str],
    *,
    additive: bool = False,
) -> dict[CellKey, str]:
    frozen = {key: frozenset(members) for key, members in cells.items()}
    frozen[ALL_MEMBERS] = frozenset(values)
    amounts = {member: Decimal(value) for member, value in values.items()}
    return Suppressor(
        frozen,
        amounts,
        additive=additive,
        rules=SuppressionRules(),
        hidden=(frozenset(hidden),),
    ).run()


def test_a_cell_is_shown_when_none_or_k_of_its_values_are_hidden() -> None:
    values = {"FIN": "45.92", "PHL": "33.63", "NGA": "17.81"}

    none_hidden = _suppress({}, values, set())
    one_hidden = _suppress({}, values, {"NGA"})
    all_hidden = _suppress({}, values, set(values))

    assert none_hidden == {}
    assert one_hidden == {ALL_MEMBERS: Reason.UNDISCLOSED}
    assert all_hidden == {}


def test_k_hidden_values_that_are_all_alike_are_not_shown() -> None:
    values = {"FRA": "1", "DEU": "1", "ITA": "1", "ESP": "0"}

    alike = _suppress({}, values, {"FRA", "DEU", "ITA"})
    mixed = _suppress({}, values, {"DEU", "ITA", "ESP"})

    assert alike == {ALL_MEMBERS: Reason.UNDISCLOSED}
    assert mixed == {}


def test_hidden_values_dominated_by_one_are_not_shown_for_counts() -> None:
    # 700 is not 60% of the cell (1,900) but is of what the reader cannot see (900).
    values = {"FRA": "1000", "DEU": "700", "ITA": "100", "ESP": "100"}

    reasons = _suppress({}, values, {"DEU", "ITA", "ESP"}, additive=True)

    assert reasons == {ALL_MEMBERS: Reason.UNDISCLOSED}


def test_two_cells_whose_hidden_parts_nest_are_not_both_shown() -> None:
    # Europe is not inside high income, but what the reader cannot see of it is:
    # high income less Europe, each less the values seen, would be KOR.
    europe, high = ("wco_region", "Europe"), ("income_group", "high")
    cells = {
        europe: {"FRA", "DEU", "ITA", "ESP"},
        ("wco_region", "Asia"): {"JPN", "KOR", "CHN", "IND", "THA", "VNM"},
        high: {"DEU", "ITA", "ESP", "JPN", "KOR"},
        ("income_group", "middle"): {"FRA", "CHN", "IND", "THA", "VNM"},
    }
    codes = ("FRA", "DEU", "ITA", "ESP", "JPN", "KOR", "CHN", "IND", "THA", "VNM")
    values = {code: str(number) for number, code in enumerate(codes, 1)}
    hidden = {"DEU", "ITA", "ESP", "KOR", "CHN", "IND", "VNM"}

    as_if_nothing_seen = _suppress(cells, values, set(values))
    reasons = _suppress(cells, values, hidden)

    assert as_if_nothing_seen == {}
    assert reasons[europe] == Reason.COMPLEMENTARY
    # Asia less middle income would be KOR as well: middle income goes, and then
    # Asia, since the total less high income gives middle income again.
    assert set(reasons) == {europe, ("wco_region", "Asia"), ("income_group", "middle")}


# Through the API, with events through the consumer.


@pytest.mark.asyncio(loop_scope="session")
async def test_the_public_cannot_work_out_a_wco_level_value_from_anything_served(
    reporting_service: ServiceToStart,
) -> None:
    async with reporting_service as s:
        await publish_and_wait(s, _events(MAIN_JOB))
        report_id = await publish_report(s)
        public = await s.client.get(BENCHMARKS, params={"kpi": KPI})
        preparer = await s.client.get(
            BENCHMARKS, params={"kpi": KPI}, headers=s.token("preparer", "FIN")
        )
        secretariat = await s.client.get(
            BENCHMARKS, params={"kpi": KPI}, headers=s.token("secretariat")
        )
        scorecards = {
            code: await s.client.get(f"/cycles/cycle-2024/members/{code}/scorecard")
            for code in MAIN_JOB
        }
        exported = await s.client.get(f"{BENCHMARKS}.csv")
        revenue = await s.client.get("/cycles/cycle-2024/instruments")
        snapshot = await s.client.get(f"/reports/{report_id}")
        page = await s.client.get(f"/reports/{report_id}/page")

    cells = _cells(public)
    everyone = cells[ALL_MEMBERS]
    public_values = _values(MAIN_JOB, PUBLIC)
    served = [cell[name] for cell in cells.values() for name in FIGURES]
    peers = [
        cell[name]
        for scorecard in scorecards.values()
        for cell in _line(scorecard)["peers"]
        for name in FIGURES
    ]
    rows = [
        row for row in csv.DictReader(io.StringIO(exported.text)) if row["kpi"] == KPI
    ]
    themes = {t["code"]: t for t in revenue.json()["themes"]}
    themed = next(k for k in themes["REVENUE"]["kpis"] if k["code"] == KPI)
    figures = json.loads(snapshot.content)["figures"]
    reported = {key: data for key, data in figures.items() if f"/{KPI}" in key}
    assert (everyone["suppressed"], everyone["suppression_reason"]) == (
        True,
        Reason.UNDISCLOSED,
    )
    assert served == [None] * len(served)
    assert _worked_out(cells, _membership(MAIN_JOB), public_values) == {}
    assert preparer.json() == public.json()
    assert _cells(secretariat)[ALL_MEMBERS]["mean"] == "32.4533"
    assert _line(scorecards["FIN"])["value"] == "45.92"
    assert _line(scorecards["PHL"])["value"] == "33.63"
    assert (
        _line(scorecards["NGA"])["withheld"],
        _line(scorecards["NGA"])["value"],
    ) == (
        True,
        None,
    )
    assert peers == [None] * len(peers)
    assert len(rows) == len(cells)
    assert all(row[name] == "" for row in rows for name in FIGURES)
    assert NIGERIA not in exported.text
    assert all(cell["mean"] is None for cell in themed["cells"])
    assert reported[f"benchmark/{KPI}/all/all"]["suppression_reason"] == (
        Reason.UNDISCLOSED
    )
    assert {
        key: data["value"] for key, data in reported.items() if "value/" in key
    } == {
        f"value/FIN/{KPI}": "45.92",
        f"value/PHL/{KPI}": "33.63",
    }
    assert all(
        data.get(name) is None
        for key, data in reported.items()
        if key.startswith("benchmark/")
        for name in FIGURES
    )
    assert NIGERIA not in page.text
    assert "32.4533" not in page.text
    assert "<td>None</td>" not in page.text
    assert "<td>\N{EN DASH}</td>" in page.text


@pytest.mark.asyncio(loop_scope="session")
async def test_a_wco_level_reader_sees_the_cell_whose_values_it_may_all_see(
    reporting_service: ServiceToStart,
) -> None:
    finland = "/cycles/cycle-2024/members/FIN/scorecard"
    nigeria = "/cycles/cycle-2024/members/NGA/scorecard"

    async with reporting_service as s:
        await publish_and_wait(s, _events(MAIN_JOB))
        await publish_report(s)
        ncp = await s.client.get(
            BENCHMARKS, params={"kpi": KPI}, headers=s.token("ncp", "ARG")
        )
        reviewer = await s.client.get(
            BENCHMARKS, params={"kpi": KPI}, headers=s.token("reviewer")
        )
        beside_finland = await s.client.get(finland, headers=s.token("ncp", "ARG"))
        own_ncp = await s.client.get(nigeria, headers=s.token("ncp", "NGA"))
        own_preparer = await s.client.get(nigeria, headers=s.token("preparer", "NGA"))

    everyone = _cells(ncp)[ALL_MEMBERS]
    peers = {(p["grouping"], p["group"]): p for p in _line(beside_finland)["peers"]}
    own = {(p["grouping"], p["group"]): p for p in _line(own_ncp)["peers"]}
    prepared = {(p["grouping"], p["group"]): p for p in _line(own_preparer)["peers"]}
    assert everyone["suppressed"] is False
    assert everyone["order_statistics_withheld"] is False
    assert (everyone["n"], everyone["mean"], everyone["median"]) == (
        3,
        "32.4533",
        "33.6300",
    )
    assert (everyone["minimum"], everyone["maximum"]) == ("17.81", "45.92")
    assert reviewer.json()["cells"] == ncp.json()["cells"]
    assert peers[ALL_MEMBERS]["mean"] == "32.4533"
    assert own[ALL_MEMBERS]["minimum"] == "17.81"
    # The preparer reads its own member as the member, the cells as the public.
    assert _line(own_preparer)["value"] == NIGERIA
    assert prepared[ALL_MEMBERS]["suppression_reason"] == Reason.UNDISCLOSED
    assert prepared[ALL_MEMBERS]["mean"] is None


@pytest.mark.asyncio(loop_scope="session")
async def test_a_cell_with_k_hidden_values_shows_its_mean_but_no_order_statistics(
    reporting_service: ServiceToStart,
) -> None:
    members: Members = {
        "FIN": ("Europe", "high", "45.92", PUBLIC),
        "PHL": (FAR_EAST, "lower middle", "33.63", PUBLIC),
        "NGA": ("West and Central Africa", "lower middle", "17.81", WCO),
        "KEN": ("East and Southern Africa", "lower middle", "12.50", WCO),
        "BRA": ("South America", "upper middle", "-3.20", WCO),
    }

    async with reporting_service as s:
        await publish_and_wait(s, _events(members))
        await publish_report(s)
        public = await s.client.get(BENCHMARKS, params={"kpi": KPI})
        ncp = await s.client.get(
            BENCHMARKS, params={"kpi": KPI}, headers=s.token("ncp", "ARG")
        )

    cells = _cells(public)
    everyone = cells[ALL_MEMBERS]
    in_full = _cells(ncp)[ALL_MEMBERS]
    derived = _worked_out(cells, _membership(members), _values(members, PUBLIC))
    assert everyone["suppressed"] is False
    assert (everyone["n"], everyone["mean"]) == (5, "21.3320")
    assert everyone["order_statistics_withheld"] is True
    assert [everyone[name] for name in FIGURES[2:]] == [None] * 5
    assert derived == {frozenset({"NGA", "KEN", "BRA"}): Decimal("27.1100")}
    assert (in_full["median"], in_full["minimum"], in_full["maximum"]) == (
        "17.8100",
        "-3.20",
        "45.92",
    )
    lower_middle = cells[("income_group", "lower middle")]
    assert lower_middle["suppression_reason"] == Reason.UNDISCLOSED


@pytest.mark.asyncio(loop_scope="session")
async def test_no_hidden_value_follows_from_two_overlapping_groups(
    reporting_service: ServiceToStart,
) -> None:
    # Europe is not inside high income, but what the public cannot see of Europe
    # (DEU, ITA, ESP) is inside what it cannot see of high income (and KOR).
    members: Members = {
        "FRA": ("Europe", "middle", "11.00", PUBLIC),
        "DEU": ("Europe", "high", "12.50", WCO),
        "ITA": ("Europe", "high", "13.75", WCO),
        "ESP": ("Europe", "high", "14.20", WCO),
        "JPN": ("Asia", "high", "15.00", PUBLIC),
        "KOR": ("Asia", "high", "27.30", WCO),
        "CHN": ("Asia", "middle", "18.40", WCO),
        "IND": ("Asia", "middle", "19.90", WCO),
        "THA": ("Asia", "middle", "20.00", PUBLIC),
        "VNM": ("Asia", "middle", "21.60", WCO),
    }
    membership = _membership(members)
    europe, high = ("wco_region", "Europe"), ("income_group", "high")

    async with reporting_service as s:
        await publish_and_wait(s, _events(members))
        await publish_report(s)
        public = await s.client.get(BENCHMARKS, params={"kpi": KPI})
        ncp = await s.client.get(
            BENCHMARKS, params={"kpi": KPI}, headers=s.token("ncp", "ARG")
        )

    cells = _cells(public)
    wco_cells = _cells(ncp)
    public_values = _values(members, PUBLIC)
    both = {key: wco_cells[key] for key in (europe, high)}
    shown = {key for key, cell in cells.items() if not cell["suppressed"]}
    assert _worked_out(both, membership, public_values)[frozenset({"KOR"})] == (
        Decimal("27.3000")
    )
    assert not wco_cells[europe]["suppressed"]
    assert not wco_cells[high]["suppressed"]
    assert cells[europe]["suppression_reason"] == Reason.COMPLEMENTARY
    assert cells[europe]["mean"] is None
    assert shown == {ALL_MEMBERS, high, ("administration_type", "customs")}
    assert _too_few(_worked_out(cells, membership, public_values)) == set()
