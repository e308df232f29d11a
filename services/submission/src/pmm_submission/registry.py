"""The WCO member registry the service ships (see data/PROVENANCE.md).

Loading is idempotent: a member already in the table is left as it is (the Secretariat
may have edited it), and only a newly registered member emits `MemberChanged`.
"""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.contracts.common import MemberAttributes
from pmm_kit.contracts.submission import MemberChanged
from pmm_kit.outbox import add_event
from pmm_submission.domain import nfc
from pmm_submission.models import Member

REGISTRY_FILE = "data/wco-members.csv"
REGISTRY_ACTOR = "system:member-registry"


@dataclass(frozen=True)
class RegistryEntry:
    code: str
    name: str
    wco_region: str
    income_group: str | None
    membership_date: str | None
    note: str | None


def registry_entries() -> list[RegistryEntry]:
    text = resources.files("pmm_submission").joinpath(REGISTRY_FILE).read_text("utf-8")
    return [_entry(row) for row in csv.DictReader(io.StringIO(text))]


def _entry(row: dict[str, str]) -> RegistryEntry:
    joined = row["membership_date"].strip()
    return RegistryEntry(
        code=row["iso3"].strip(),
        name=nfc(row["name"].strip()),
        wco_region=nfc(row["wco_region"].strip()),
        income_group=row["income_group"].strip() or None,
        membership_date=joined or None,
        note=nfc(row["note"].strip()) or None,
    )


def member_rows(at: datetime) -> list[dict[str, Any]]:
    return [
        {
            "code": entry.code,
            "name": entry.name,
            "wco_region": entry.wco_region,
            "income_group": entry.income_group,
            "membership_date": entry.membership_date,
            "note": entry.note,
            "version": 1,
            "updated_at": at,
            "updated_by": REGISTRY_ACTOR,
        }
        for entry in registry_entries()
    ]


def insert_registry(at: datetime) -> sa.Insert:
    """Insert the members not yet present; returns the codes that were added."""
    return (
        insert(Member)
        .values(member_rows(at))
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(Member.code)
    )


def attributes_of(member: Member) -> MemberAttributes:
    return MemberAttributes(
        code=member.code,
        name=member.name,
        wco_region=member.wco_region,
        income_group=member.income_group,
        administration_type=member.administration_type,
        geography=member.geography,
    )


def registered_event(entry: dict[str, Any]) -> MemberChanged:
    attributes = MemberAttributes(
        code=entry["code"],
        name=entry["name"],
        wco_region=entry["wco_region"],
        income_group=entry["income_group"],
        administration_type=None,
        geography=None,
    )
    return MemberChanged(member=attributes, changed_by=REGISTRY_ACTOR)


async def load_registry(session: AsyncSession) -> int:
    """Register the shipped members missing from the table; returns how many."""
    at = datetime.now(UTC)
    added = set((await session.execute(insert_registry(at))).scalars())
    for row in member_rows(at):
        if row["code"] in added:
            await add_event(session, registered_event(row), subject=row["code"])
    return len(added)
