"""Events of the scoring service."""

from datetime import datetime
from typing import Any

from pmm_kit.contracts.common import CycleRef, MemberCode
from pmm_kit.events import Contract


class ScoresComputed(Contract):
    """A calculation was stored for a revision.

    `assessment` is the methodology library's result as its canonical JSON (KPI values
    and levels, outcome levels, dimension scores with coverage, findings, lineage);
    `current` says whether it is now the member's current result for the cycle.
    """

    producer = "scoring"
    entity = "scores"
    event = "computed"

    calculation_id: str
    submission_id: str
    cycle: CycleRef
    member: MemberCode
    revision: int
    computed_at: datetime
    trigger: str
    current: bool
    assessment: dict[str, Any]
