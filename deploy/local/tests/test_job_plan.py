"""The main job's plan: every name in it is one the framework and registry know."""

import csv
import io

from pmm_local.job.plan import feed_csv, load_plan, required_inputs
from pmm_methodology import reference_framework
from pmm_submission.registry import registry_entries


def test_every_mapping_and_disclosure_names_the_framework() -> None:
    framework = reference_framework()
    elements = {e.code for e in framework.data_elements}
    kpis = {k.code for k in framework.kpis}
    plan = load_plan()

    for administration in plan.administrations:
        assert {m.data_element for m in administration.mappings.values()} <= elements
        assert set(administration.disclosure) <= kpis
    assert set(plan.peer_review.verdicts) <= kpis
    assert set(plan.peer_review.correction.kpis) <= kpis
    assert plan.peer_review.query.data_element in elements


def test_every_administration_and_the_reviewer_are_wco_members() -> None:
    members = {entry.code for entry in registry_entries()}
    plan = load_plan()

    assert {a.member for a in plan.administrations} <= members
    assert plan.peer_review.reviewer.home_member in members
    assert plan.peer_review.reviewer.home_member != plan.peer_review.member


def test_a_feed_carries_every_published_row_under_the_publishers_names() -> None:
    plan = load_plan()
    brazil = plan.administration("BRA")

    rows = list(csv.DictReader(io.StringIO(feed_csv(brazil, "PMM-2023").decode())))
    published = list(csv.DictReader(io.StringIO(brazil.figures_text())))

    assert len(rows) == len(published) == 20
    assert rows[0] == {
        "cycle": "PMM-2023",
        "name": "import_declarations_count",
        "year": "2021",
        "value": "2501437",
        "unit": "DI",
    }


def test_a_complete_submission_holds_every_value_a_kpi_reads() -> None:
    needed = required_inputs(reference_framework(), 2022)

    assert ("AEO_COUNT", 2021) in needed
    assert ("AEO_COUNT", 2022) in needed
    assert {year for _, year in needed} == {2021, 2022}
    assert len(needed) == len(set(needed))
