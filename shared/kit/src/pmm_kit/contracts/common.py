"""Value types that several contracts share."""

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

# The methodology's own vocabulary travels on the wire unchanged.
from pmm_methodology import DisclosureLevel, ValueState

__all__ = [
    "CycleRef",
    "DisclosureLevel",
    "MemberAttributes",
    "MemberCode",
    "Part",
    "ValueState",
    "Window",
]

_MEMBER_CODE = re.compile(r"^[A-Z]{3}$")


def _member_code(code: str) -> str:
    if not _MEMBER_CODE.match(code):
        raise ValueError("a member is named by its ISO 3166 alpha-3 code")
    return code


MemberCode = Annotated[str, AfterValidator(_member_code)]


class Part(BaseModel):
    """A part of a contract: frozen, no field beyond those declared."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MemberAttributes(Part):
    """A WCO member as the reports group it."""

    code: MemberCode
    name: str
    wco_region: str
    income_group: str | None
    administration_type: str | None
    geography: str | None


class CycleRef(Part):
    """The cycle an event belongs to, with what a consumer needs to interpret it."""

    cycle_id: str
    reporting_year: int
    framework_code: str
    framework_version: str


class Window(Part):
    opens: date
    closes: date
