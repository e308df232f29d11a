"""The README's example of a hidden part ("Audiences and disclosure") is the main
job's RC.1.2: its figures and disclosure levels are the job's, and the cell is
released as the README says, both as the job chose and had Nigeria chosen WCO
level. (The README had Nigeria's value WCO level, which the job's data never made
it.)"""

from decimal import Decimal

from pmm_local.job.plan import load_plan
from pmm_reporting.audience import Audience
from pmm_reporting.benchmarks import Contribution, compute_benchmarks
from pmm_reporting.schemas import CellOut
from pmm_reporting.suppression import ALL_MEMBERS, SuppressionRules

# The job's RC.1.2 of each member (as its scorecard shows it) and its peer groups.
RC_1_2 = {
    "FIN": ("45.92", "Europe", "High income"),
    "NGA": ("17.81", "West and Central Africa", "Lower middle income"),
    "PHL": ("33.63", "Asia/Pacific", "Lower middle income"),
}
RULES = SuppressionRules(min_contributors=3, dominance_share=Decimal("0.6"))


def _all_cell(levels: dict[str, str], audience: Audience) -> CellOut:
    contributions = [
        Contribution(
            member,
            "RC.1.2",
            "ratio",
            Decimal(value),
            levels[member],
            (("wco_region", region), ("income_group", income)),
        )
        for member, (value, region, income) in RC_1_2.items()
    ]
    table = compute_benchmarks("PMM-2023", 1, contributions, RULES)
    return table.views(audience)["RC.1.2"][ALL_MEMBERS]


def test_the_jobs_rc_1_2_is_public_for_the_three_members_of_the_example() -> None:
    plan = load_plan()

    levels = {m: plan.administration(m).disclosure.get("RC.1.2") for m in RC_1_2}

    assert levels == {"FIN": "public", "NGA": "public", "PHL": "public"}


def test_the_all_cell_is_released_as_the_readme_says() -> None:
    public = dict.fromkeys(RC_1_2, "public")
    nigeria_wco = {**public, "NGA": "wco"}

    as_chosen = _all_cell(public, Audience.PUBLIC)
    what_if_public = _all_cell(nigeria_wco, Audience.PUBLIC)
    what_if_wco = _all_cell(nigeria_wco, Audience.WCO)

    assert (as_chosen.n, as_chosen.mean) == (3, Decimal("32.4533"))
    rebuilt = 3 * Decimal("32.4533") - Decimal("45.92") - Decimal("33.63")
    assert abs(rebuilt - Decimal("17.81")) < Decimal("0.001")
    assert (what_if_public.suppression_reason, what_if_public.mean) == (
        "undisclosed_values",
        None,
    )
    assert (what_if_wco.n, what_if_wco.mean) == (3, Decimal("32.4533"))
