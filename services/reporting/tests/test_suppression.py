"""Small or dominated cells are suppressed, and suppression holds across overlapping
groups and totals: no member's value can be worked out by subtraction."""

from decimal import Decimal
from itertools import permutations

import pytest

from pmm_local.testing import ServiceStarter, truncate_schema
from pmm_reporting.main import create_app
from pmm_reporting.settings import ReportingSettings
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
    electronic_share,
    participation,
    publish_and_wait,
    publish_report,
)

CYCLE = cycle_ref(2024)
RULES = SuppressionRules()


def _suppress(
    cells: dict[CellKey, set[str]],
    values: dict[str, Decimal] | None = None,
    *,
    additive: bool = False,
) -> dict[CellKey, str]:
    everyone = set().union(*cells.values())
    frozen = {key: frozenset(members) for key, members in cells.items()}
    frozen[ALL_MEMBERS] = frozenset(everyone)
    # Distinct values: a hidden set of equal values is exposed by its mean alone.
    amounts = values or {m: Decimal(n) for n, m in enumerate(sorted(everyone), 1)}
    return Suppressor(frozen, amounts, additive=additive, rules=RULES).run()


def _recoverable(cells: dict[CellKey, set[str]], shown: set[CellKey]) -> set[str]:
    """Members whose value follows from two shown cells, one inside the other."""
    found: set[str] = set()
    for inner, outer in permutations(shown, 2):
        difference = cells[outer] - cells[inner]
        if cells[inner] < cells[outer] and len(difference) == 1:
            found |= difference
    return found


def test_a_cell_of_k_minus_1_members_is_suppressed_and_of_k_shown() -> None:
    cells = {("wco_region", "Europe"): {"FRA", "DEU", "ITA"}}
    small = {("wco_region", "Europe"): {"FRA", "DEU"}}

    shown = _suppress(cells)
    hidden = _suppress(small)

    assert shown == {}
    assert hidden[("wco_region", "Europe")] == Reason.TOO_FEW
    assert hidden[ALL_MEMBERS] == Reason.TOO_FEW


def test_a_cell_dominated_by_one_member_is_suppressed_for_additive_kpis() -> None:
    cells = {("wco_region", "Europe"): {"FRA", "DEU", "ITA"}}
    values = {"FRA": Decimal(700), "DEU": Decimal(200), "ITA": Decimal(100)}

    additive = _suppress(cells, values, additive=True)
    ratio = _suppress(cells, values, additive=False)

    assert additive[("wco_region", "Europe")] == Reason.DOMINATED
    assert ratio == {}


def test_one_small_cell_of_a_grouping_takes_another_with_it() -> None:
    cells = {
        ("wco_region", "Europe"): {"FRA", "DEU", "ITA", "ESP"},
        ("wco_region", "Asia"): {"JPN", "KOR", "CHN"},
        ("wco_region", "Oceania"): {"AUS"},
    }

    reasons = _suppress(cells)

    assert reasons[("wco_region", "Oceania")] == Reason.TOO_FEW
    assert reasons[("wco_region", "Asia")] == Reason.COMPLEMENTARY
    assert ("wco_region", "Europe") not in reasons


def test_a_value_recoverable_from_two_overlapping_groups_is_not() -> None:
    europe = {"FRA", "DEU", "ITA", "ESP"}
    asia = {"JPN", "KOR", "CHN"}
    cells: dict[CellKey, set[str]] = {
        ("wco_region", "Europe"): europe,
        ("wco_region", "Asia"): asia,
        # High income is Europe without Spain: Europe minus it would be Spain.
        ("income_group", "high"): europe - {"ESP"},
        ("income_group", "middle"): asia | {"ESP"},
    }
    exposed_before = _recoverable(
        {**cells, ALL_MEMBERS: europe | asia}, set(cells) | {ALL_MEMBERS}
    )

    reasons = _suppress(cells)

    every_cell = {**cells, ALL_MEMBERS: europe | asia}
    shown = set(every_cell) - set(reasons)
    assert exposed_before == {"ESP"}
    assert _recoverable(every_cell, shown) == set()
    assert reasons[("income_group", "high")] == Reason.COMPLEMENTARY
    assert ALL_MEMBERS in shown


@pytest.mark.asyncio(loop_scope="session")
async def test_cells_of_k_minus_1_and_k_contributors_through_the_api(
    reporting_service: ServiceToStart,
) -> None:
    members = [
        ("FRA", "Europe", "90.00"),
        ("DEU", "Europe", "80.00"),
        ("ITA", "Europe", "70.00"),
        ("JPN", "Asia", "60.00"),
        ("KOR", "Asia", "50.00"),
        ("CHN", "Asia", "40.00"),
        ("AUS", "Oceania", "30.00"),
        ("NZL", "Oceania", "20.00"),
    ]
    events = []
    for seed, (code, region, share) in enumerate(members):
        events += participation(
            CYCLE, attributes(code, region=region), electronic_share(share), seed=seed
        )

    async with reporting_service as s:
        await publish_and_wait(s, events)
        await publish_report(s)
        public = await s.client.get(
            "/cycles/cycle-2024/benchmarks", params={"kpi": "TF.1.1"}
        )
        secretariat = await s.client.get(
            "/cycles/cycle-2024/benchmarks",
            params={"kpi": "TF.1.1", "grouping": "wco_region"},
            headers=s.token("secretariat"),
        )

    cells = {(c["grouping"], c["group"]): c for c in public.json()["cells"]}
    oceania = cells[("wco_region", "Oceania")]
    europe = cells[("wco_region", "Europe")]
    asia = cells[("wco_region", "Asia")]
    assert public.json()["min_contributors"] == 3
    assert (oceania["suppressed"], oceania["suppression_reason"]) == (
        True,
        Reason.TOO_FEW,
    )
    assert oceania["n"] is None
    assert oceania["mean"] is None
    assert asia["suppression_reason"] == Reason.COMPLEMENTARY
    assert europe["suppressed"] is False
    assert (europe["n"], europe["mean"]) == (3, "80.0000")
    # No value is public: the order statistics, which are values, are withheld.
    assert europe["order_statistics_withheld"] is True
    assert (europe["median"], europe["minimum"], europe["maximum"]) == (None,) * 3
    assert cells[ALL_MEMBERS]["n"] == 8
    assert cells[ALL_MEMBERS]["mean"] == "55.0000"
    seen_by_secretariat = {c["group"]: c for c in secretariat.json()["cells"]}
    assert seen_by_secretariat["Oceania"]["mean"] == "25.0000"
    assert seen_by_secretariat["Oceania"]["suppressed"] is True
    europe_in_full = seen_by_secretariat["Europe"]
    assert (europe_in_full["median"], europe_in_full["q1"]) == ("80.0000", "75.0000")
    assert europe_in_full["q3"] == "85.0000"
    assert (europe_in_full["minimum"], europe_in_full["maximum"]) == ("70.00", "90.00")


@pytest.mark.asyncio(loop_scope="session")
async def test_no_value_is_recoverable_from_the_groups_the_api_shows(
    reporting_service: ServiceToStart,
) -> None:
    members = {
        "FRA": ("Europe", "high", "81.00"),
        "DEU": ("Europe", "high", "82.00"),
        "ITA": ("Europe", "high", "83.00"),
        "ESP": ("Europe", "middle", "99.00"),
        "JPN": ("Asia", "middle", "50.00"),
        "KOR": ("Asia", "middle", "60.00"),
        "CHN": ("Asia", "middle", "70.00"),
    }
    events = []
    for seed, (code, (region, income, share)) in enumerate(members.items()):
        member = attributes(code, region=region, income=income)
        events += participation(CYCLE, member, electronic_share(share), seed=seed)
    membership = {
        (grouping, group): {
            code
            for code, (region, income, _) in members.items()
            if group in {region, income}
        }
        for grouping, group in (
            ("wco_region", "Europe"),
            ("wco_region", "Asia"),
            ("income_group", "high"),
            ("income_group", "middle"),
        )
    }
    membership[ALL_MEMBERS] = set(members)
    membership[("administration_type", "customs")] = set(members)

    async with reporting_service as s:
        await publish_and_wait(s, events)
        await publish_report(s)
        response = await s.client.get(
            "/cycles/cycle-2024/benchmarks", params={"kpi": "TF.1.1"}
        )

    cells = {(c["grouping"], c["group"]): c for c in response.json()["cells"]}
    shown = {key for key, cell in cells.items() if not cell["suppressed"]}
    sums = {key: Decimal(cells[key]["mean"]) * cells[key]["n"] for key in shown}
    high_and_europe = {("income_group", "high"), ("wco_region", "Europe")}
    assert not high_and_europe <= shown
    assert _recoverable(membership, shown) == set()
    assert Decimal("99.00") not in {
        sums[outer] - sums[inner]
        for inner, outer in permutations(shown, 2)
        if membership[inner] < membership[outer]
    }


@pytest.mark.asyncio(loop_scope="session")
async def test_k_is_configurable_and_holds_at_k_minus_1_and_k(
    run_service: ServiceStarter, service_databases: dict[str, str], isolated_nats: str
) -> None:
    url = service_databases["reporting"]
    await truncate_schema(url, "reporting")
    members = [
        ("FRA", "Europe", "90.00"),
        ("DEU", "Europe", "80.00"),
        ("ITA", "Europe", "70.00"),
        ("ESP", "Europe", "65.00"),
        ("JPN", "Asia", "60.00"),
        ("KOR", "Asia", "50.00"),
        ("CHN", "Asia", "40.00"),
        ("IND", "Asia", "35.00"),
        ("AUS", "Oceania", "30.00"),
        ("NZL", "Oceania", "20.00"),
        ("FJI", "Oceania", "10.00"),
    ]
    events = []
    for seed, (code, region, share) in enumerate(members):
        events += participation(
            CYCLE, attributes(code, region=region), electronic_share(share), seed=seed
        )

    async with run_service(
        create_app, ReportingSettings, url, isolated_nats, min_contributors=4
    ) as s:
        await publish_and_wait(s, events)
        await publish_report(s)
        public = await s.client.get(
            "/cycles/cycle-2024/benchmarks",
            params={"kpi": "TF.1.1", "grouping": "wco_region"},
        )

    cells = {c["group"]: c for c in public.json()["cells"]}
    assert public.json()["min_contributors"] == 4
    # Oceania has three members: enough for k = 3, not for 4.
    assert cells["Oceania"]["suppression_reason"] == Reason.TOO_FEW
    assert cells["Oceania"]["mean"] is None
    # Europe and Asia have four each; one of them goes with Oceania, or the total
    # less the other would give Oceania's sum of three (fewer than k).
    assert cells["Asia"]["suppression_reason"] == Reason.COMPLEMENTARY
    assert (cells["Europe"]["n"], cells["Europe"]["mean"]) == (4, "76.2500")
