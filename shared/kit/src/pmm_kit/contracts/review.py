"""Events of the review service."""

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from pmm_kit.contracts.common import CycleRef, MemberCode, Part
from pmm_kit.events import Contract


class Verdict(StrEnum):
    VALIDATED = "validated"
    VALIDATED_WITH_RESERVATION = "validated_with_reservation"
    NOT_VALIDATED = "not_validated"


class ReviewOutcome(StrEnum):
    COMPLETED = "completed"
    COMPLETED_WITH_RESERVATIONS = "completed_with_reservations"


class ReviewRequested(Contract):
    """A member's NCP asked for a peer review of a submitted revision."""

    producer = "review"
    entity = "review"
    event = "requested"

    review_id: str
    submission_id: str
    cycle: CycleRef
    member: MemberCode
    revision: int
    requested_by: str


class ReviewAssigned(Contract):
    """The Secretariat assigned reviewers; they replace any assigned before.

    `reviewer_ids` are the review service's own ids of the reviewers;
    `reviewer_subjects` the token subjects (JWT `sub`) of the same reviewers, in the
    same order, which is what other services match a caller's token with.
    """

    producer = "review"
    entity = "review"
    event = "assigned"

    review_id: str
    submission_id: str
    member: MemberCode
    reviewer_ids: tuple[str, ...] = Field(
        description="The reviewers' ids in the review service."
    )
    reviewer_subjects: tuple[str, ...] = Field(
        description=(
            "The reviewers' token subjects (JWT `sub`), in the order of "
            "`reviewer_ids`: what a reader's token is matched with."
        )
    )
    assigned_by: str

    @model_validator(mode="after")
    def _one_subject_per_reviewer(self) -> Self:
        if len(self.reviewer_subjects) != len(self.reviewer_ids):
            raise ValueError("reviewer_subjects must name each of reviewer_ids")
        return self


class CorrectionRequested(Contract):
    """A reviewer needs values changed: the submission service returns these KPIs."""

    producer = "review"
    entity = "correction"
    event = "requested"

    review_id: str
    submission_id: str
    cycle: CycleRef
    member: MemberCode
    revision: int
    kpis: tuple[str, ...]
    reason: str
    requested_by: str


class KpiVerdict(Part):
    kpi: str
    verdict: Verdict
    reservation: str | None


class ReviewCompleted(Contract):
    """A review ended with its verdicts; no query was open."""

    producer = "review"
    entity = "review"
    event = "completed"

    review_id: str
    submission_id: str
    cycle: CycleRef
    member: MemberCode
    revision: int
    outcome: ReviewOutcome
    verdicts: tuple[KpiVerdict, ...]
    completed_by: str


class ReviewWithdrawn(Contract):
    """The member's NCP withdrew the request before completion."""

    producer = "review"
    entity = "review"
    event = "withdrawn"

    review_id: str
    submission_id: str
    member: MemberCode
    reason: str
    withdrawn_by: str
