"""What the API reads and answers. Bodies refuse unknown fields; text becomes NFC."""

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from pmm_kit.bounds import MAX_INT32, MAX_YEAR, MIN_YEAR
from pmm_kit.contracts.common import DisclosureLevel, MemberCode, ValueState
from pmm_kit.numbers import DIGITS_IN_URL, MAX_DECIMALS, MAX_WHOLE_DIGITS, Figure
from pmm_submission import examples
from pmm_submission.domain import nfc


def _said(text: str) -> str:
    # A reason or label of spaces only says nothing, and would be shown as blank.
    if not text.strip():
        raise PydanticCustomError("text.blank", "give some text, not only spaces")
    return text


# A reason or a label: a paragraph, not a document (a feed's cells keep the same).
# Trimmed first, as a feed's cells are, so that one reason is one text by any route.
MAX_TEXT_LENGTH = 2000
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_TEXT_LENGTH),
    AfterValidator(nfc),
    AfterValidator(_said),
]
CODE_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
Code = Annotated[str, Field(pattern=CODE_PATTERN)]
RawValue = Decimal | bool | int | str
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(raw: object) -> object:
    # Lax validation reads a number, or text of digits, as seconds since 1970
    # (4102444800 is 2100-01-01, and 20251201 a refusal about datetimes), and
    # takes a datetime at midnight as its day.
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str) and ISO_DATE.fullmatch(raw):
        return raw
    raise PydanticCustomError(
        "date_type", "a date is text in the form YYYY-MM-DD, such as 2026-03-31"
    )


IsoDate = Annotated[date, BeforeValidator(_iso_date)]

# Entry follows the cycle's state, which the Secretariat sets, never a clock: a
# schedule that slips is followed by closing later, with no date to rewrite.
WINDOW_RULE = (
    " The announced schedule, not enforced: the cycle's state governs entry (open"
    " allows it whatever the date, closing stops it, and an extension lets one"
    " member go on in a closed cycle until its date)."
)
WindowOpens = Annotated[
    IsoDate, Field(description="The first day of the submission window." + WINDOW_RULE)
]
WindowCloses = Annotated[
    IsoDate, Field(description="The last day of the submission window." + WINDOW_RULE)
]
# A year in a body is a JSON integer. Lax validation would read `true` as 1,
# "2025" as 2025 and 2025.0 as 2025, and write a value the caller never sent.
Year = Annotated[StrictInt, Field(description="A calendar year, a JSON integer")]

# Path parameters, declared so that a malformed one is a validation problem naming
# it before any handler or query sees it.
MemberInPath = Annotated[
    str, Path(pattern=r"^[A-Z]{3}$", description="ISO 3166 alpha-3 code")
]
ElementInPath = Annotated[
    str, Path(pattern=CODE_PATTERN, description="A framework data element's code")
]
KpiInPath = Annotated[str, Path(pattern=CODE_PATTERN, description="A KPI's code")]
YearInPath = Annotated[
    int,
    Field(ge=MIN_YEAR, le=MAX_YEAR),
    DIGITS_IN_URL,
    Path(description="A calendar year"),
]
RevisionInPath = Annotated[
    int,
    Field(ge=1, le=MAX_INT32),
    DIGITS_IN_URL,
    Path(description="A revision's number, from 1"),
]
MappingNameInPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        description="The member's own name, as its feeds' cells hold it: any text,"
        " `/` included (sent as `%2F` or as it is), with no spaces around it",
    ),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True)


def _shown(*shown: dict[str, Any]) -> ConfigDict:
    """An answer's config, with the examples its OpenAPI schema shows."""
    return ConfigDict(frozen=True, json_schema_extra={"examples": list(shown)})


# Members


class MemberOut(Answer):
    model_config = _shown(examples.MEMBER)

    code: str
    name: str
    wco_region: str
    income_group: str | None
    membership_date: str | None
    note: str | None
    administration_type: str | None
    geography: str | None
    version: int


class MemberPatch(Body):
    """Attributes the Secretariat sets; a field left out keeps its value."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{"administration_type": "customs", "geography": "island"}]
        },
    )

    administration_type: Text | None = None
    geography: Text | None = None


class MappingIn(Body):
    """A member's own name for a framework data element; `factor` multiplies.

    `unit` is the unit the member's figures under this name come in: a feed row
    without a unit is read in it, a row with another unit is converted from its own
    (exactly) or refused. For an amount in national currency it is that currency,
    and a figure in any other currency is refused: currencies are not converted."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"data_element": "REV_CUSTOMS", "factor": "1000000", "unit": "EUR"},
                {"data_element": "RELEASE_TIME_AVG", "unit": "days"},
            ]
        },
    )

    data_element: Code
    factor: Figure = Field(
        default=Decimal(1),
        gt=0,
        allow_inf_nan=False,
        max_digits=MAX_WHOLE_DIGITS + MAX_DECIMALS,
        decimal_places=MAX_DECIMALS,
    )
    unit: str | None = Field(default=None, min_length=1, max_length=40)


class MappingOut(Answer):
    model_config = _shown(examples.MAPPING)

    name: str
    data_element: str
    factor: str
    unit: str | None


class ApiKeyIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [{"label": "customs data warehouse"}]},
    )

    label: Text


class ApiKeyOut(Answer):
    model_config = _shown(examples.API_KEY)

    id: uuid.UUID
    member: str
    label: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedApiKey(ApiKeyOut):
    model_config = _shown(examples.ISSUED_API_KEY)

    key: str = Field(description="Shown once; only its hash is kept.")


# Cycles


class CycleCreate(Body):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "code": "PMM-2025",
                    "reporting_year": 2024,
                    "framework_code": "PMM",
                    "framework_version": "1.0.0",
                    "window_opens": "2025-12-01",
                    "window_closes": "2026-03-31",
                }
            ]
        },
    )

    code: Code
    reporting_year: Year = Field(ge=2000, le=2100)
    framework_code: Code
    framework_version: Code
    window_opens: WindowOpens
    window_closes: WindowCloses


class ExtensionIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"member": "BRA", "until": "2026-04-30", "reason": "system migration"}
            ]
        },
    )

    member: MemberCode
    until: IsoDate
    reason: Text


class ExtensionOut(Answer):
    model_config = _shown(examples.EXTENSION)

    member: str
    until: date
    reason: str
    granted_by: str
    granted_at: datetime


class CycleOut(Answer):
    model_config = _shown(examples.CYCLE)

    id: uuid.UUID
    code: str
    reporting_year: int
    framework_code: str
    framework_version: str
    window_opens: WindowOpens
    window_closes: WindowCloses
    state: str
    version: int
    extensions: list[ExtensionOut]


class ReasonIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [{"reason": "window ends"}]},
    )

    reason: Text | None = None


# Submissions


class ValueIn(Body):
    """One answer: `provided` with a value, or another state with a reason."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"state": "provided", "value": "196200"},
                {"state": "not_available", "reason": "register migrated in 2022"},
            ]
        },
    )

    state: ValueState = ValueState.PROVIDED
    value: RawValue | None = None
    reason: Text | None = None
    restatement_reason: Text | None = Field(
        default=None,
        description="Needed when a T-1 value differs from what was submitted before.",
    )


class ValueItem(ValueIn):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{"data_element": "DECL_TOTAL", "year": 2024, "value": "1200"}]
        },
    )

    data_element: Code
    year: Year


class ValueBatch(Body):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "values": [
                        {"data_element": "DECL_TOTAL", "year": 2024, "value": "200000"},
                        {
                            "data_element": "DECL_ELECTRONIC",
                            "year": 2024,
                            "value": "196200",
                        },
                    ]
                }
            ]
        },
    )

    values: list[ValueItem] = Field(min_length=1, max_length=5000)


class Restatement(Answer):
    model_config = _shown(examples.RESTATEMENT)

    previous_value: str | bool | None
    previous_cycle_id: uuid.UUID
    reason: str


class ValueOut(Answer):
    model_config = _shown(examples.VALUE, examples.RESTATED_VALUE)

    data_element: str
    year: int
    state: ValueState
    value: str | bool | None
    reason: str | None
    restatement: Restatement | None
    updated_at: datetime
    updated_by: str
    channel: str


class FindingOut(Answer):
    model_config = _shown(examples.FINDING)

    rule: str
    severity: str
    element: str | None
    year: int | None
    kpi: str | None
    message: str


class OptOutIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [{"reason": "no transit regime"}]},
    )

    reason: Text


class DisclosureIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [{"levels": {"TF.1.1": "public"}}]},
    )

    levels: dict[Code, DisclosureLevel] = Field(min_length=1)


class ReturnIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{"kpis": ["TF.1.1"], "reason": "declarations double counted"}]
        },
    )

    kpis: list[Code] = Field(min_length=1)
    reason: Text


class SubmissionOut(Answer):
    model_config = _shown(examples.SUBMISSION)

    id: uuid.UUID
    cycle_id: uuid.UUID
    member: str
    state: str
    revision: int
    version: int
    reopened_kpis: list[str] | None
    values: list[ValueOut]
    kpi_opt_outs: dict[str, str]
    disclosure: dict[str, DisclosureLevel]
    findings: list[FindingOut]
    can_submit: bool


class WriteResult(Answer):
    """What a write answers: the values written and the findings now."""

    model_config = _shown(examples.WRITE_RESULT)

    submission_id: uuid.UUID
    state: str
    version: int
    values: list[ValueOut]
    findings: list[FindingOut]
    can_submit: bool


class HistoryEntry(Answer):
    model_config = _shown(examples.HISTORY_ENTRY)

    data_element: str
    year: int
    actor: str
    channel: str
    at: datetime
    old_state: str | None
    old_value: str | None
    new_state: str | None
    new_value: str | None
    reason: str | None


class TransitionOut(Answer):
    model_config = _shown(examples.TRANSITION)

    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    reason: str | None


class RevisionOut(Answer):
    model_config = _shown(examples.REVISION)

    number: int
    submitted_at: datetime
    submitted_by: str
    content: dict[str, Any]


# Feeds


DiffAction = Literal["create", "update", "unchanged", "remove"]


class DiffItem(Answer):
    model_config = _shown(examples.DIFF_ITEMS[0], examples.DIFF_ITEMS[1])

    action: DiffAction
    member: str
    cycle: str
    data_element: str
    year: int
    old: str | bool | None = Field(description="The value stored; null when none")
    old_state: ValueState | None = Field(
        description="The stored value's state; null when nothing is stored"
    )
    new: str | bool | None = Field(description="The value fed; null when none")
    new_state: ValueState | None = Field(
        description="The state fed; null for a removal"
    )
    row: int | None


class RejectedRow(Answer):
    model_config = _shown(examples.REJECTED_ROW)

    row: int
    column: str | None
    rule: str
    message: str


class SubmissionFindings(Answer):
    model_config = _shown(examples.SUBMISSION_FINDINGS)

    submission_id: uuid.UUID | None
    member: str
    cycle: str
    findings: list[FindingOut]


class FeedReport(Answer):
    model_config = _shown(examples.FEED_REPORT)

    feed_id: uuid.UUID
    dry_run: bool
    mode: Literal["merge", "replace"]
    partial: bool
    applied: bool
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    counts: dict[DiffAction, int]
    diff: list[DiffItem]
    diff_truncated: bool
    rejected: list[RejectedRow] = Field(
        description="The rejected rows, in row order, the first "
        "PMM_FEED_REJECTED_LIMIT (1,000) of them; rows_rejected counts them all."
    )
    rejected_truncated: bool
    findings: list[SubmissionFindings]


class FeedJob(Answer):
    model_config = _shown(examples.FEED_JOB, examples.RUNNING_FEED_JOB)

    id: uuid.UUID
    status: Literal["running", "done", "failed"]
    rows_total: int
    rows_done: int
    http_status: int | None
    result: dict[str, Any] | None
