"""What the job does, read from the files it ships (`data/`), and the feeds it sends.

Nothing here talks to a service: the plan and the feed files are plain data, so
they can be checked on their own.
"""

import csv
import hashlib
import io
import re
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from pmm_methodology import Framework

DATA = resources.files("pmm_local.job") / "data"
Disclosure = Literal["public", "wco", "restricted"]


class _Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CyclePlan(_Plan):
    code: str
    reporting_year: int
    framework_code: str
    framework_version: str
    window_opens: date
    window_closes: date


class Mapping(_Plan):
    data_element: str
    unit: str | None = None


class Administration(_Plan):
    member: str = Field(pattern=r"^[A-Z]{3}$")
    figures: str
    mappings: dict[str, Mapping]
    disclosure: dict[str, Disclosure]

    def figures_text(self) -> str:
        return (DATA / "published-figures" / self.figures).read_text(encoding="utf-8")

    def published(self) -> list[dict[str, str]]:
        """The published rows; the feed's row n is the record n - 2 (the header
        is row 1)."""
        return list(csv.DictReader(io.StringIO(self.figures_text())))


class ReviewerPlan(_Plan):
    subject: str
    name: str
    home_member: str
    languages: list[str]
    expertise: list[str]
    accreditation: str


class QueryPlan(_Plan):
    data_element: str
    year: int
    subject: str
    message: str


class CorrectedValue(_Plan):
    data_element: str
    year: int
    state: Literal["not_available", "not_applicable"]
    reason: str


class CorrectionPlan(_Plan):
    kpis: list[str]
    reason: str
    value: CorrectedValue


class VerdictPlan(_Plan):
    verdict: Literal["validated", "validated_with_reservation", "not_validated"]
    reservation: str | None = None


class PeerReviewPlan(_Plan):
    member: str
    languages: list[str]
    focus_dimensions: list[str]
    reviewer: ReviewerPlan
    query: QueryPlan
    answer: str
    correction: CorrectionPlan
    resolution: str
    verdicts: dict[str, VerdictPlan]


class JobPlan(_Plan):
    cycle: CyclePlan
    not_available_reason: str
    qualifiers: list[str] = Field(min_length=1)
    administrations: list[Administration]
    peer_review: PeerReviewPlan

    def administration(self, member: str) -> Administration:
        return next(a for a in self.administrations if a.member == member)


@cache
def load_plan() -> JobPlan:
    text = (DATA / "cycle.yaml").read_text(encoding="utf-8")
    return JobPlan.model_validate(yaml.safe_load(text))


# The publisher's columns, and what a feed row takes from each. `source_url` and
# `note` stay with the published file: a feed carries figures, not commentary.
_FEED_COLUMNS = ("cycle", "name", "year", "value", "unit")


def feed_csv(administration: Administration, cycle_code: str) -> bytes:
    """The published file as a feed: every row as published, under the publisher's
    own names, for the feed mapping to place (or refuse)."""
    published = csv.DictReader(io.StringIO(administration.figures_text()))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_FEED_COLUMNS)
    for row in published:
        writer.writerow(
            (cycle_code, row["data_element"], row["year"], row["value"], row["unit"])
        )
    return out.getvalue().encode("utf-8")


def idempotency_key(
    administration: Administration, cycle_code: str, version: int
) -> str:
    """The same feed of the same cycle into the same version of the submission
    (0 before there is one) is one import, however often the request is sent."""
    digest = hashlib.sha256(feed_csv(administration, cycle_code)).hexdigest()
    return f"pmm-job-{cycle_code}-{administration.member}-{digest[:32]}-v{version}"


def qualifiers_in(note: str, qualifiers: list[str]) -> list[str]:
    """The qualifiers a published note uses, as whole words ('about', not the
    'about' inside 'roundabout')."""
    return [
        qualifier
        for qualifier in qualifiers
        if re.search(rf"\b{re.escape(qualifier)}\b", note, flags=re.IGNORECASE)
    ]


def required_inputs(framework: Framework, year: int) -> list[tuple[str, int]]:
    """Every (data element, year) some KPI reads: what a complete submission holds."""
    needed = {
        (declared.element, year - declared.year.lag)
        for kpi in framework.kpis
        for declared in kpi.inputs
    }
    return sorted(needed)
