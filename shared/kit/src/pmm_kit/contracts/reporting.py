"""Events of the reporting service."""

from datetime import datetime

from pmm_kit.contracts.common import CycleRef
from pmm_kit.events import Contract


class ReportPublished(Contract):
    """The Secretariat published a cycle's report as a frozen snapshot."""

    producer = "reporting"
    entity = "report"
    event = "published"

    report_id: str
    cycle: CycleRef
    published_at: datetime
    published_by: str
    snapshot_sha256: str
