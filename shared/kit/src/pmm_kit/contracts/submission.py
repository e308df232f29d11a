"""Events of the submission service: members, cycles and submissions."""

from datetime import date, datetime

from pmm_kit.contracts.common import (
    CycleRef,
    DisclosureLevel,
    MemberAttributes,
    MemberCode,
    Part,
    ValueState,
    Window,
)
from pmm_kit.events import Contract


class MemberChanged(Contract):
    """A member was registered or its attributes changed (the full current record)."""

    producer = "submission"
    entity = "member"
    event = "changed"

    member: MemberAttributes
    changed_by: str


class CycleOpened(Contract):
    """The Secretariat opened a cycle for data entry."""

    producer = "submission"
    entity = "cycle"
    event = "opened"

    cycle: CycleRef
    code: str
    window: Window
    opened_by: str


class CycleClosed(Contract):
    """The Secretariat closed a cycle: no more entry except by extension."""

    producer = "submission"
    entity = "cycle"
    event = "closed"

    cycle: CycleRef
    closed_by: str


class ExtensionGranted(Contract):
    """One member may go on entering data in a closed cycle until a date."""

    producer = "submission"
    entity = "cycle"
    event = "extension_granted"

    cycle: CycleRef
    member: MemberCode
    until: date
    reason: str
    granted_by: str


class SubmittedValue(Part):
    """One data element in one year, as frozen in a revision.

    `value` is set only when `state` is `provided`: numbers as exact decimal text
    (`"196200"`, `"98.10"`), yes/no as a boolean, an enumeration as its code.
    """

    data_element: str
    year: int
    state: ValueState
    value: bool | str | None
    reason: str | None


class KpiOptOut(Part):
    """The member chose not to use a KPI (national specificity), with its reason."""

    kpi: str
    reason: str


class Restatement(Part):
    """A T-1 value that differs from what the member submitted for that year before."""

    data_element: str
    year: int
    previous_value: bool | str | None
    value: bool | str | None
    previous_cycle_id: str
    reason: str


class SubmissionSubmitted(Contract):
    """A member's NCP submitted a revision: everything a consumer needs is inside."""

    producer = "submission"
    entity = "submission"
    event = "submitted"

    submission_id: str
    cycle: CycleRef
    member: MemberAttributes
    revision: int
    submitted_at: datetime
    submitted_by: str
    values: tuple[SubmittedValue, ...]
    kpi_opt_outs: tuple[KpiOptOut, ...]
    disclosure: dict[str, DisclosureLevel]
    restatements: tuple[Restatement, ...]


class SubmissionReturned(Contract):
    """A submitted revision was returned to the member for corrections of some KPIs."""

    producer = "submission"
    entity = "submission"
    event = "returned"

    submission_id: str
    cycle: CycleRef
    member: MemberCode
    revision: int
    kpis: tuple[str, ...]
    reason: str
    returned_by: str
    review_id: str | None


class SubmissionAccepted(Contract):
    """The Secretariat accepted a submission; it is closed."""

    producer = "submission"
    entity = "submission"
    event = "accepted"

    submission_id: str
    cycle: CycleRef
    member: MemberCode
    revision: int
    accepted_by: str


class DisclosureChanged(Contract):
    """The NCP changed the disclosure level of some KPIs (the full current set)."""

    producer = "submission"
    entity = "submission"
    event = "disclosure_changed"

    submission_id: str
    cycle: CycleRef
    member: MemberCode
    disclosure: dict[str, DisclosureLevel]
    changed_by: str
