"""The WCO region of each member, from the registry this service ships (see
data/PROVENANCE.md), overridden by what the submission service's events said.

Members are announced once, when registered or changed, so the events alone may not
name a reviewer's home member: the shipped registry fills the gap.
"""

import csv
import io
import unicodedata
from collections.abc import Sequence
from functools import cache
from importlib import resources

from sqlalchemy.ext.asyncio import AsyncSession

from pmm_review import repository

REGISTRY_FILE = "data/wco-members.csv"


@cache
def shipped_regions() -> dict[str, str]:
    text = resources.files("pmm_review").joinpath(REGISTRY_FILE).read_text("utf-8")
    return {
        row["iso3"].strip(): unicodedata.normalize("NFC", row["wco_region"].strip())
        for row in csv.DictReader(io.StringIO(text))
    }


async def regions_of(session: AsyncSession, members: Sequence[str]) -> dict[str, str]:
    """Each member's WCO region: as last heard of, else as shipped; a member known
    to neither is left out."""
    heard = await repository.regions_of(session, members)
    shipped = shipped_regions()
    return {
        member: heard.get(member) or shipped[member]
        for member in members
        if member in heard or member in shipped
    }


async def is_known_member(session: AsyncSession, member: str) -> bool:
    """Whether the member is in the shipped registry or was heard of since."""
    return member in await regions_of(session, [member])
