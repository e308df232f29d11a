"""Who is reading, and which members' values that reader may see.

public (no token) < wco (any NCP or reviewer) < restricted (the member itself and the
Secretariat). A preparer reads its own member's values and, for other members, only
what the public may: preparers are not among the NCPs and reviewers that WCO level
opens to.
"""

from dataclasses import dataclass
from enum import StrEnum

from pmm_kit.auth import MEMBER_SCOPED_ROLES, Principal, Role
from pmm_kit.contracts.common import DisclosureLevel

# TODO(#7): let a member's assigned reviewers read its restricted values; when
# `ReviewAssigned` carries the reviewers' token subjects (it names review-service ids).
WCO_LEVEL_ROLES = frozenset({Role.NCP, Role.REVIEWER})


class Audience(StrEnum):
    PUBLIC = "public"
    WCO = "wco"
    MEMBER = "member"
    SECRETARIAT = "secretariat"


@dataclass(frozen=True)
class Reader:
    principal: Principal | None

    @property
    def is_secretariat(self) -> bool:
        return self.principal is not None and self.principal.role is Role.SECRETARIAT

    def audience_for(self, member: str) -> Audience:
        """The audience this reader belongs to when reading `member`'s values."""
        principal = self.principal
        if principal is None:
            return Audience.PUBLIC
        if principal.role is Role.SECRETARIAT:
            return Audience.SECRETARIAT
        if principal.role in MEMBER_SCOPED_ROLES and principal.member == member:
            return Audience.MEMBER
        if principal.role in WCO_LEVEL_ROLES:
            return Audience.WCO
        return Audience.PUBLIC

    def may_see(self, member: str, level: DisclosureLevel | str | None) -> bool:
        """Whether `member`'s value disclosed at `level` reaches this reader."""
        return may_see(self.audience_for(member), level)


def may_see(audience: Audience, level: DisclosureLevel | str | None) -> bool:
    if audience in {Audience.SECRETARIAT, Audience.MEMBER}:
        return True
    disclosed = DisclosureLevel(level or DisclosureLevel.RESTRICTED)
    if disclosed is DisclosureLevel.PUBLIC:
        return True
    return disclosed is DisclosureLevel.WCO and audience is Audience.WCO


PUBLIC_READER = Reader(None)
