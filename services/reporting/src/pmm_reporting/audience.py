"""Who is reading, and which members' values that reader may see.

public (no token) < wco (any NCP or reviewer) < restricted (the member itself, the
Secretariat, and the reviewers assigned to the member's peer review of the cycle read).
A preparer reads its own member's values and, for other members, only what the public
may: preparers are not among the NCPs and reviewers that WCO level opens to.

Benchmark cells aggregate many members, so they are not read as any one member's:
a reader gets the cells of its audience (public, WCO or Secretariat) whoever it is.
Its own member's values count as hidden there like anyone else's; the k rule already
allows for a contributor that knows its own value.
"""

from dataclasses import dataclass
from enum import StrEnum

from pmm_kit.auth import MEMBER_SCOPED_ROLES, Principal, Role
from pmm_kit.contracts.common import DisclosureLevel

WCO_LEVEL_ROLES = frozenset({Role.NCP, Role.REVIEWER})


class Audience(StrEnum):
    PUBLIC = "public"
    WCO = "wco"
    MEMBER = "member"
    ASSIGNED_REVIEWER = "assigned_reviewer"
    SECRETARIAT = "secretariat"


RESTRICTED_AUDIENCES = frozenset(
    {Audience.MEMBER, Audience.ASSIGNED_REVIEWER, Audience.SECRETARIAT}
)


@dataclass(frozen=True)
class Reader:
    """A caller; `reviewing` holds the (cycle, member) pairs whose peer review the
    caller is assigned to (empty for anyone but a reviewer)."""

    principal: Principal | None
    reviewing: frozenset[tuple[str, str]] = frozenset()

    def audience_for(self, member: str, cycle_id: str) -> Audience:
        """The audience this reader belongs to when reading `member`'s values of the
        cycle `cycle_id`."""
        principal = self.principal
        if principal is None:
            return Audience.PUBLIC
        if principal.role is Role.SECRETARIAT:
            return Audience.SECRETARIAT
        if principal.role in MEMBER_SCOPED_ROLES and principal.member == member:
            return Audience.MEMBER
        if principal.role is Role.REVIEWER and (cycle_id, member) in self.reviewing:
            return Audience.ASSIGNED_REVIEWER
        if principal.role in WCO_LEVEL_ROLES:
            return Audience.WCO
        return Audience.PUBLIC

    @property
    def cells_audience(self) -> Audience:
        """The audience whose view of the benchmark cells this reader gets."""
        principal = self.principal
        if principal is None:
            return Audience.PUBLIC
        if principal.role is Role.SECRETARIAT:
            return Audience.SECRETARIAT
        if principal.role in WCO_LEVEL_ROLES:
            return Audience.WCO
        return Audience.PUBLIC


def may_see(audience: Audience, level: DisclosureLevel | str | None) -> bool:
    """Whether a value disclosed at `level` reaches `audience`."""
    if audience in RESTRICTED_AUDIENCES:
        return True
    disclosed = DisclosureLevel(level or DisclosureLevel.RESTRICTED)
    if disclosed is DisclosureLevel.PUBLIC:
        return True
    return disclosed is DisclosureLevel.WCO and audience is Audience.WCO
