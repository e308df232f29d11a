"""Who may see a review: the Secretariat all, a member its own, a reviewer theirs.

Anything a caller may not see is answered as if it did not exist.
"""

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.auth import MEMBER_SCOPED_ROLES, Principal, Role
from pmm_review import repository
from pmm_review.errors import NotAllowedError, ReviewNotFoundError
from pmm_review.models import Query, Review


@dataclass(frozen=True)
class Caller:
    principal: Principal
    reviewer_id: uuid.UUID | None

    @property
    def subject(self) -> str:
        return self.principal.subject

    @property
    def role(self) -> Role:
        return self.principal.role

    @property
    def is_member(self) -> bool:
        return self.role in MEMBER_SCOPED_ROLES

    def reviews(self) -> sa.Select[Review]:
        return repository.visible_reviews(
            member=self.principal.member if self.is_member else None,
            reviewer_id=self.reviewer_id if self.role is Role.REVIEWER else None,
            everything=self.role is Role.SECRETARIAT,
        )


async def caller_of(session: AsyncSession, principal: Principal) -> Caller:
    if principal.role is not Role.REVIEWER:
        return Caller(principal, None)

    reviewer = await repository.reviewer_by_subject(session, principal.subject)
    return Caller(principal, reviewer.id if reviewer else None)


async def can_see(session: AsyncSession, caller: Caller, review: Review) -> bool:
    if caller.role is Role.SECRETARIAT:
        return True
    if caller.is_member:
        return caller.principal.member == review.member
    if caller.reviewer_id is None:
        return False
    return await repository.is_assigned(session, review.id, caller.reviewer_id)


async def visible_review(
    session: AsyncSession, caller: Caller, review_id: uuid.UUID, *, lock: bool = False
) -> Review:
    review = await repository.review_by_id(session, review_id, lock=lock)
    if review is None or not await can_see(session, caller, review):
        raise ReviewNotFoundError(f"no review {review_id}")
    return review


async def visible_query(
    session: AsyncSession, caller: Caller, query_id: uuid.UUID, *, lock: bool = False
) -> tuple[Query, Review]:
    """The query and its review; with `lock`, both rows locked, the review first as
    on every path that locks both, so that no withdrawal or completion slips between
    a query's check and its change, and no two paths deadlock."""
    query = await repository.query_by_id(session, query_id)
    if query is None:
        raise ReviewNotFoundError(f"no query {query_id}")
    review = await repository.review_by_id(session, query.review_id, lock=lock)
    if review is None or not await can_see(session, caller, review):
        raise ReviewNotFoundError(f"no query {query_id}")
    if lock:
        query = await repository.query_by_id(session, query_id, lock=True)
        assert query is not None, "a query is never deleted"
    return query, review


def require_role(caller: Caller, *roles: Role) -> None:
    if caller.role not in roles:
        raise NotAllowedError(f"this needs the role {' or '.join(roles)}")
