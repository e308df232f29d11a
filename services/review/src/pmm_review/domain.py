"""The rules of a peer review, free of I/O: states, ranking, revision changes."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from pmm_kit.contracts.review import ReviewOutcome, Verdict
from pmm_methodology import reference_framework, shipped_frameworks
from pmm_methodology.framework import Framework

MAX_REVIEWERS = 3
# A query is due at most this long after it is opened: one due later would never be
# overdue, and no review waits a year for an answer.
MAX_QUERY_DUE_DAYS = 365

# The versions an If-Match header named: a change goes ahead when the current version
# is one of them.
SeenVersions = frozenset[int]


class ReviewState(StrEnum):
    REQUESTED = "requested"
    ASSIGNED = "assigned"
    IN_REVIEW = "in_review"
    COMPLETED = "completed"
    COMPLETED_WITH_RESERVATIONS = "completed_with_reservations"
    WITHDRAWN = "withdrawn"


ACTIVE_REVIEW_STATES = frozenset(
    {ReviewState.REQUESTED, ReviewState.ASSIGNED, ReviewState.IN_REVIEW}
)
# A reviewer can be replaced while the review is under way; their work stays.
ASSIGNABLE_STATES = frozenset(
    {ReviewState.REQUESTED, ReviewState.ASSIGNED, ReviewState.IN_REVIEW}
)
REVIEWING_STATES = frozenset({ReviewState.ASSIGNED, ReviewState.IN_REVIEW})


class QueryState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    ACCEPTED_WITH_RESERVATION = "accepted_with_reservation"


UNSETTLED_QUERY_STATES = frozenset({QueryState.OPEN, QueryState.ANSWERED})


class QueryClosure(StrEnum):
    RESOLVED = "resolved"
    ACCEPTED_WITH_RESERVATION = "accepted_with_reservation"


class Accreditation(StrEnum):
    WCO_EXPERT = "wco_expert"
    DIAGNOSTIC_FACILITATOR = "pmm_diagnostic_facilitator"


class CorrectionState(StrEnum):
    """Asked, returned to the member, carried out in a newer revision, or lapsed:
    the submission moved on (resubmitted or accepted) without returning it."""

    REQUESTED = "requested"
    RETURNED = "returned"
    CORRECTED = "corrected"
    LAPSED = "lapsed"


PENDING_CORRECTION_STATES = frozenset(
    {CorrectionState.REQUESTED, CorrectionState.RETURNED}
)


class SubmissionStatus(StrEnum):
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"


@cache
def dimension_codes() -> frozenset[str]:
    """The dimensions of every framework this service ships (a reviewer's expertise is
    not bound to one cycle)."""
    return frozenset(
        dimension.code
        for framework in shipped_frameworks().values()
        for dimension in framework.dimensions
    )


def framework_for(cycle: dict[str, Any]) -> Framework | None:
    """The cycle's framework when this service has it, else `None` (no checks)."""
    framework = reference_framework()
    if (cycle.get("framework_code"), cycle.get("framework_version")) != (
        framework.code,
        framework.version,
    ):
        return None
    return framework


# Suggestions


@dataclass(frozen=True)
class Candidate:
    reviewer_id: str
    name: str
    home_member: str
    home_region: str | None
    languages: tuple[str, ...]
    expertise: tuple[str, ...]
    workload: int


@dataclass(frozen=True)
class Suggestion:
    candidate: Candidate
    expertise_match: tuple[str, ...]
    language_match: tuple[str, ...]
    same_region: bool


def rank_reviewers(
    candidates: Iterable[Candidate],
    *,
    member: str,
    region: str,
    dimensions: Sequence[str],
    languages: Sequence[str],
) -> list[Suggestion]:
    """Eligible reviewers, best first: expertise, then language, then lightest load.

    A reviewer from the reviewed member is never suggested; one from its region is,
    flagged, because the Secretariat may still choose them.
    """
    suggestions = [
        Suggestion(
            candidate=candidate,
            expertise_match=tuple(d for d in dimensions if d in candidate.expertise),
            language_match=tuple(
                lang for lang in languages if lang in candidate.languages
            ),
            same_region=candidate.home_region == region,
        )
        for candidate in candidates
        if candidate.home_member != member
    ]
    return sorted(
        suggestions,
        key=lambda s: (
            -len(s.expertise_match),
            -len(s.language_match),
            s.candidate.workload,
            s.same_region,
            s.candidate.name,
        ),
    )


# Revision changes

ValueKey = tuple[str, int]


@dataclass(frozen=True)
class QueryTarget:
    query_id: str
    kpi: str | None
    data_element: str | None
    year: int | None


def _indexed(values: Iterable[dict[str, Any]]) -> dict[ValueKey, dict[str, Any]]:
    return {(v["data_element"], int(v["year"])): v for v in values}


def _shown(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"state": value["state"], "value": value["value"], "reason": value["reason"]}


def kpis_reading(
    framework: Framework | None, data_element: str, year: int, reporting_year: int
) -> tuple[str, ...]:
    if framework is None:
        return ()
    year_ref = "T" if year == reporting_year else "T-1"
    return tuple(
        kpi.code
        for kpi in framework.kpis
        if any(
            i.element == data_element and str(i.year.value) == year_ref
            for i in kpi.inputs
        )
    )


def _touches(
    target: QueryTarget, data_element: str, year: int, kpis: tuple[str, ...]
) -> bool:
    if target.data_element == data_element:
        return target.year is None or target.year == year
    return target.kpi is not None and target.kpi in kpis


def revision_changes(
    before: Iterable[dict[str, Any]],
    after: Iterable[dict[str, Any]],
    *,
    framework: Framework | None,
    reporting_year: int,
    queries: Sequence[QueryTarget],
) -> list[dict[str, Any]]:
    """Each value that differs between two revisions, the KPIs that read it and the
    queries it touches (a query on the value itself, or on a KPI that reads it)."""
    old, new = _indexed(before), _indexed(after)
    changes = []
    for key in sorted(old.keys() | new.keys()):
        was, now = _shown(old.get(key)), _shown(new.get(key))
        if was == now:
            continue
        data_element, year = key
        kpis = kpis_reading(framework, data_element, year, reporting_year)
        touched = [q.query_id for q in queries if _touches(q, data_element, year, kpis)]
        changes.append(
            {
                "data_element": data_element,
                "year": year,
                "before": was,
                "after": now,
                "kpis": list(kpis),
                "queries": touched,
            }
        )
    return changes


def review_outcome(
    verdicts: Iterable[Verdict], query_states: Iterable[QueryState]
) -> ReviewOutcome:
    """With reservations when any KPI is not plainly validated or any query was
    accepted with a reservation."""
    reserved = any(v is not Verdict.VALIDATED for v in verdicts) or any(
        s is QueryState.ACCEPTED_WITH_RESERVATION for s in query_states
    )
    if reserved:
        return ReviewOutcome.COMPLETED_WITH_RESERVATIONS
    return ReviewOutcome.COMPLETED


def kpi_results(assessment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each KPI's value, level and status from the methodology's canonical JSON."""
    return {
        kpi["code"]: {
            "value": kpi.get("value"),
            "level": kpi.get("level"),
            "status": kpi.get("status"),
        }
        for kpi in assessment.get("kpis", [])
        if isinstance(kpi, dict) and "code" in kpi
    }
