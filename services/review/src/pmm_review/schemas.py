"""What the review API reads and answers."""

import uuid
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pmm_kit.bounds import MAX_YEAR, MIN_YEAR
from pmm_kit.contracts.common import MemberCode
from pmm_kit.contracts.review import ReviewOutcome, Verdict
from pmm_review.domain import (
    MAX_QUERY_DUE_DAYS,
    Accreditation,
    CorrectionState,
    QueryClosure,
    QueryState,
    ReviewState,
    dimension_codes,
)

# A query's thread is prose, not a document: ten thousand characters hold several
# pages of it, and the report's PDF is tested at this bound.
MAX_MESSAGE_LENGTH = 10_000

# Bounds on what a person types: a name or a query's subject is a line, a reason a
# paragraph, a code a framework's code. Unbounded, one subject of 200,000
# characters made every later report PDF of its review take half a minute.
MAX_LINE_LENGTH = 200
MAX_REASON_LENGTH = 2_000
MAX_CODE_LENGTH = 64

Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LINE_LENGTH),
    Field(description=f"At most {MAX_LINE_LENGTH} characters."),
]
MessageBody = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_LENGTH
    ),
    Field(description=f"At most {MAX_MESSAGE_LENGTH:,} characters."),
]
Reason = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_REASON_LENGTH
    ),
    Field(description=f"At most {MAX_REASON_LENGTH:,} characters."),
]
Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CODE_LENGTH),
]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
KpiInPath = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,64}$", description="A KPI's code")
]


def _dimension(code: str) -> str:
    known = dimension_codes()
    if code not in known:
        raise ValueError(
            f"not a framework dimension; one of {', '.join(sorted(known))}"
        )
    return code


Dimension = Annotated[str, AfterValidator(_dimension)]
_Item = TypeVar("_Item", str, uuid.UUID)


def _each_once(items: list[_Item]) -> list[_Item]:
    # A list that names one thing twice was meant to say something else; keeping
    # one of the two would hide that.
    seen: set[_Item] = set()
    for item in items:
        if item in seen:
            raise PydanticCustomError(
                "list.duplicate", "'{item}' is given twice", {"item": str(item)}
            )
        seen.add(item)
    return items


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Reviewers


class ReviewerProfile(Request):
    subject: Text = Field(description="The token subject of the reviewer's identity.")
    name: Text
    home_member: MemberCode
    languages: list[Language] = Field(min_length=1)
    expertise: list[Dimension] = Field(
        default_factory=list, description="Dimension codes, e.g. TF, RC, ES, OD."
    )
    accreditation: Accreditation
    accredited_until: date | None = None
    active: bool = True


class ReviewerView(Answer):
    id: uuid.UUID
    subject: str
    name: str
    home_member: str
    languages: list[str]
    expertise: list[str]
    accreditation: Accreditation
    accredited_until: date | None
    active: bool
    version: int


class SuggestionView(BaseModel):
    reviewer_id: uuid.UUID
    name: str
    home_member: str
    expertise_match: list[str]
    language_match: list[str]
    workload: int
    same_region: bool


# Reviews


class ReviewRequest(Request):
    submission_id: Text
    languages: list[Language] = Field(
        default_factory=list, description="Languages the review should be held in."
    )
    focus_dimensions: list[Dimension] = Field(
        default_factory=list, description="Dimensions to review; empty means all."
    )
    reason: Reason = Field(description="Why the member asks for a review.")


class AssignmentRequest(Request):
    reviewer_ids: Annotated[list[uuid.UUID], AfterValidator(_each_once)] = Field(
        min_length=1,
        max_length=3,
        description="The reviewers, replacing any before; each once.",
    )
    reason: Reason = Field(
        description="Why these reviewers; recorded for each one added or removed."
    )


class ReasonRequest(Request):
    reason: Reason


class AssignedReviewer(BaseModel):
    reviewer_id: uuid.UUID
    name: str
    home_member: str
    same_region: bool
    assigned_at: datetime


class QuerySummary(Answer):
    id: uuid.UUID
    kpi: str | None
    data_element: str | None
    year: int | None
    subject: str
    due_date: date
    state: QueryState
    revision: int
    version: int


class CorrectionView(Answer):
    id: uuid.UUID
    revision: int
    kpis: list[str]
    reason: str
    state: CorrectionState
    requested_by: str
    requested_at: datetime
    returned_at: datetime | None
    corrected_revision: int | None
    corrected_at: datetime | None
    lapsed_at: datetime | None
    lapse_reason: str | None


class RevisionMoveView(Answer):
    from_revision: int
    to_revision: int
    moved_at: datetime
    changes: list[dict[str, Any]]


class VerdictView(Answer):
    kpi: str
    verdict: Verdict
    reservation: str | None
    revision: int
    given_by: str
    given_at: datetime


class TransitionView(Answer):
    action: str
    query_id: uuid.UUID | None
    correction_id: uuid.UUID | None
    from_state: str | None = Field(description="None for what the transition began.")
    to_state: str
    actor: str
    reason: str
    at: datetime


class ReviewView(BaseModel):
    id: uuid.UUID
    submission_id: str
    cycle: dict[str, Any]
    member: str
    revision: int
    state: ReviewState
    outcome: ReviewOutcome | None
    languages: list[str]
    focus_dimensions: list[str]
    requested_by: str
    requested_at: datetime
    version: int
    reviewers: list[AssignedReviewer]
    warnings: list[str]
    queries: list[QuerySummary]
    corrections: list[CorrectionView]
    revision_moves: list[RevisionMoveView]
    verdicts: list[VerdictView]


# Queries


class QueryOpening(Request):
    kpi: Code | None = None
    data_element: Code | None = None
    year: int | None = Field(default=None, ge=MIN_YEAR, le=MAX_YEAR)
    subject: Text
    message: MessageBody
    due_date: date = Field(
        description=f"Today or later, at most {MAX_QUERY_DUE_DAYS} days after today."
    )

    @model_validator(mode="after")
    def _names_one_target(self) -> "QueryOpening":
        if (self.kpi is None) == (self.data_element is None):
            raise ValueError("a query is about one KPI or one data element")
        return self


class MessagePost(Request):
    body: MessageBody


class QueryClosing(Request):
    outcome: QueryClosure
    reason: Reason


class MessageView(Answer):
    author: str
    author_role: str
    body: str
    revision: int
    sent_at: datetime


class QueryView(QuerySummary):
    review_id: uuid.UUID
    opened_by: str
    opened_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    reservation: str | None
    messages: list[MessageView]


class OverdueQuery(QuerySummary):
    review_id: uuid.UUID
    member: str
    days_overdue: int


# Corrections and verdicts


class CorrectionRequest(Request):
    kpis: Annotated[list[Code], AfterValidator(_each_once)] = Field(
        min_length=1, description="The KPIs to correct, each once."
    )
    reason: Reason


class VerdictRequest(Request):
    verdict: Verdict
    # Validated when left out too, so that a missing reservation is named as one.
    reservation: Reason | None = Field(default=None, validate_default=True)

    @field_validator("reservation")
    @classmethod
    def _reserved_verdicts_say_why(
        cls, reservation: str | None, info: ValidationInfo
    ) -> str | None:
        verdict = info.data.get("verdict")
        if verdict is None:
            return reservation  # the verdict's own error says what is wrong
        if verdict is not Verdict.VALIDATED and reservation is None:
            raise PydanticCustomError(
                "verdict.reservation_missing",
                "a verdict other than validated needs a reservation",
            )
        if verdict is Verdict.VALIDATED and reservation is not None:
            raise PydanticCustomError(
                "verdict.reservation_forbidden",
                "a validated verdict takes no reservation; give "
                "validated_with_reservation to keep one",
            )
        return reservation


class ReviewReport(BaseModel):
    review: ReviewView
    queries: list[QueryView]
    history: list[TransitionView]
    generated_at: datetime


# As the scoring service computed it: a number as exact decimal text ("98.10"), a
# yes/no as a JSON boolean, None when it was not computed.
KpiValue = Annotated[
    bool | str | None,
    Field(description="Exact decimal text for a number, a boolean for a yes/no."),
]


class KpiScore(BaseModel):
    kpi: str
    value: KpiValue
    level: int | str | None
    status: str | None
    previous_value: KpiValue
    previous_level: int | str | None
    changed: bool


class ReviewScores(BaseModel):
    """The scoring of the revision under review beside that of the revision before."""

    revision: int
    calculation_id: str | None
    computed_at: datetime | None
    previous_revision: int | None
    kpis: list[KpiScore]
