"""The main job's plan: every name in it is one the framework and registry know,
and what the job reads of the stack it runs on."""

import csv
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from pmm_kit.auth import generate_key_pair
from pmm_local.job.client import Stack, StepError
from pmm_local.job.plan import (
    feed_csv,
    idempotency_key,
    load_plan,
    qualifiers_in,
    required_inputs,
)
from pmm_local.job.render import StepDisplay
from pmm_local.job.steps import StepReport
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


def test_a_feeds_key_is_one_import_into_one_version_of_the_submission() -> None:
    plan = load_plan()
    brazil, finland = plan.administration("BRA"), plan.administration("FIN")

    key = idempotency_key(brazil, "PMM-2023", 3)

    assert idempotency_key(brazil, "PMM-2023", 3) == key
    assert idempotency_key(brazil, "PMM-2023", 4) != key
    assert idempotency_key(finland, "PMM-2023", 3) != key
    assert idempotency_key(brazil, "PMM-2024", 3) != key


def _shown(report: StepReport) -> str:
    console = Console(width=200, no_color=True, force_terminal=False)
    with console.capture() as captured, StepDisplay(console).step(report):
        pass
    return captured.get()


def test_a_step_found_done_says_so_and_why() -> None:
    found = StepReport("Publish the cycle report")
    done = StepReport("Publish the cycle report [draft]")
    found.found_done("report r-1 holds every figure as it is")

    assert _shown(found).startswith(
        "✓ Publish the cycle report: already done, report r-1 holds every figure "
        "as it is ("
    )
    assert _shown(done).startswith("✓ Publish the cycle report [draft] (")
    assert "already done" not in _shown(done)


def test_a_complete_submission_holds_every_value_a_kpi_reads() -> None:
    needed = required_inputs(reference_framework(), 2022)

    assert ("AEO_COUNT", 2021) in needed
    assert ("AEO_COUNT", 2022) in needed
    assert {year for _, year in needed} == {2021, 2022}
    assert len(needed) == len(set(needed))


def test_the_review_corrects_a_published_figure_that_a_kpi_reads() -> None:
    framework = reference_framework()
    review = load_plan().peer_review
    brazil = load_plan().administration(review.member)
    corrected = review.correction.value
    mapped = {m.data_element: name for name, m in brazil.mappings.items()}

    published = [
        row
        for row in brazil.published()
        if row["data_element"] == mapped[corrected.data_element]
        and row["year"] == str(corrected.year)
    ]

    assert (review.query.data_element, review.query.year) == (
        corrected.data_element,
        corrected.year,
    )
    assert len(published) == 1
    for code in review.correction.kpis:
        inputs = framework.kpi(code).inputs
        assert [(i.element, i.year.lag) for i in inputs] == [
            (corrected.data_element, 0)
        ]


def test_a_qualifier_is_found_as_a_word_of_the_note() -> None:
    qualifiers = load_plan().qualifiers

    assert qualifiers_in("'approximately 429 million euros' (+46%)", qualifiers) == [
        "approximately"
    ]
    assert qualifiers_in("Preliminary, Revenue Collection Monitoring Group", qualifiers)
    assert qualifiers_in("as at June 2022", qualifiers) == ["as at"]
    assert qualifiers_in("near the roundabout; DI + DU-E", qualifiers) == []


def _stack_home(home: Path, described: dict[str, object]) -> Path:
    generate_key_pair(home / "keys")
    (home / "stack.json").write_text(json.dumps(described))
    return home


def test_the_job_finds_the_services_where_the_stack_file_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMM_SCORING_PORT", "8002")
    urls = {
        "submission": "http://127.0.0.1:41001",
        "scoring": "http://127.0.0.1:41002",
        "review": "http://127.0.0.1:41003",
        "reporting": "http://127.0.0.1:41004",
    }
    logs = tmp_path / "elsewhere"
    home = _stack_home(tmp_path, {"service_urls": urls, "logs": str(logs)})

    stack = Stack.local(home)

    assert stack.urls == urls
    assert stack.log_of("scoring-worker") == logs / "scoring-worker-1.log"


def test_without_a_stack_file_the_job_says_to_start_the_stack(tmp_path: Path) -> None:
    generate_key_pair(tmp_path / "keys")

    with pytest.raises(StepError) as raised:
        Stack.local(tmp_path)

    assert raised.value.service == "stack"
    assert "no running stack" in raised.value.message
    assert "make run" in raised.value.hint


def test_a_stack_file_without_service_urls_asks_for_a_restart(tmp_path: Path) -> None:
    home = _stack_home(tmp_path, {"nats_url": "nats://127.0.0.1:4222"})

    with pytest.raises(StepError) as raised:
        Stack.local(home)

    assert "names no URL for each service" in raised.value.message
    assert "older pmm" in raised.value.hint
