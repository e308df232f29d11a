"""The review's rules without I/O: ranking reviewers, changes between revisions."""

from pmm_kit.contracts.review import ReviewOutcome, Verdict
from pmm_methodology import reference_framework
from pmm_review.domain import (
    Candidate,
    QueryState,
    QueryTarget,
    rank_reviewers,
    review_outcome,
    revision_changes,
)


def candidate(
    name: str,
    home: str,
    *,
    region: str = "Europe",
    languages: tuple[str, ...] = ("en",),
    expertise: tuple[str, ...] = ("TF",),
    workload: int = 0,
) -> Candidate:
    return Candidate(
        reviewer_id=name,
        name=name,
        home_member=home,
        home_region=region,
        languages=languages,
        expertise=expertise,
        workload=workload,
    )


def value(element: str, year: int, text: str) -> dict[str, object]:
    return {
        "data_element": element,
        "year": year,
        "state": "provided",
        "value": text,
        "reason": None,
    }


def test_reviewers_rank_by_expertise_then_language_then_workload() -> None:
    candidates = [
        candidate("busy expert", "FRA", expertise=("TF", "RC"), workload=5),
        candidate("idle expert", "DEU", expertise=("TF", "RC"), workload=0),
        candidate("french speaker", "BEL", languages=("fr",), expertise=("TF",)),
        candidate("generalist", "ITA", expertise=("OD",)),
        candidate("compatriot", "BRA", region="Americas", expertise=("TF", "RC")),
        candidate("neighbour", "ARG", region="Americas", expertise=("TF",)),
    ]

    ranked = rank_reviewers(
        candidates,
        member="BRA",
        region="Americas",
        dimensions=["TF", "RC"],
        languages=["fr"],
    )

    assert [s.candidate.name for s in ranked] == [
        "idle expert",
        "busy expert",
        "french speaker",
        "neighbour",
        "generalist",
    ]
    assert [s.same_region for s in ranked] == [False, False, False, True, False]
    assert ranked[2].language_match == ("fr",)


def test_changed_values_name_the_kpis_and_queries_they_touch() -> None:
    before = [value("DECL_TOTAL", 2022, "200000"), value("AEO_COUNT", 2021, "100")]
    after = [value("DECL_TOTAL", 2022, "210000"), value("AEO_COUNT", 2021, "100")]
    queries = [
        QueryTarget("on-kpi", "TF.1.1", None, None),
        QueryTarget("on-element-other-year", None, "DECL_TOTAL", 2021),
        QueryTarget("on-element", None, "DECL_TOTAL", 2022),
        QueryTarget("unrelated", "TF.2.1", None, None),
    ]

    changes = revision_changes(
        before,
        after,
        framework=reference_framework(),
        reporting_year=2022,
        queries=queries,
    )

    assert len(changes) == 1
    assert changes[0]["data_element"] == "DECL_TOTAL"
    assert changes[0]["before"]["value"] == "200000"
    assert changes[0]["after"]["value"] == "210000"
    assert "TF.1.1" in changes[0]["kpis"]
    assert "TF.2.1" not in changes[0]["kpis"]
    assert changes[0]["queries"] == ["on-kpi", "on-element"]


def test_a_value_that_disappears_is_a_change() -> None:
    changes = revision_changes(
        [value("AEO_COUNT", 2021, "100")],
        [],
        framework=reference_framework(),
        reporting_year=2022,
        queries=[],
    )

    assert [(c["data_element"], c["year"], c["after"]) for c in changes] == [
        ("AEO_COUNT", 2021, None)
    ]
    assert "TF.2.1" in changes[0]["kpis"]


def test_a_review_has_reservations_when_a_verdict_or_a_query_carries_one() -> None:
    clean = review_outcome([Verdict.VALIDATED], [QueryState.RESOLVED])
    reserved_verdict = review_outcome([Verdict.NOT_VALIDATED], [])
    reserved_query = review_outcome(
        [Verdict.VALIDATED], [QueryState.ACCEPTED_WITH_RESERVATION]
    )

    assert clean is ReviewOutcome.COMPLETED
    assert reserved_verdict is ReviewOutcome.COMPLETED_WITH_RESERVATIONS
    assert reserved_query is ReviewOutcome.COMPLETED_WITH_RESERVATIONS
