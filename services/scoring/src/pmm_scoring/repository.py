"""Reading and writing calculations; every function works in the caller's session."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from pmm_scoring.models import (
    Base,
    Calculation,
    Recalculation,
    Review,
    ReviewerAssignment,
    Scorecard,
    SubmittedRevision,
)


def _table(model: type[Base]) -> sa.Table:
    return cast(sa.Table, model.__table__)


def _stored_calculation() -> sa.Insert:
    calculation = _table(Calculation)
    return sa.insert(calculation).values(
        {
            column.name: sa.bindparam(column.name)
            for column in calculation.columns
            if column is not calculation.c.sequence
        }
    )


def _made_current(stored: sa.CTE) -> sa.Insert:
    """Make the stored calculation current unless a higher revision is; returns the
    scorecard's calculation id if it became current."""
    scorecard, calculation = _table(Scorecard), _table(Calculation)
    statement = pg_insert(scorecard).from_select(
        [
            scorecard.c.member,
            scorecard.c.cycle_id,
            scorecard.c.submission_id,
            scorecard.c.revision,
            scorecard.c.calculation_id,
            scorecard.c.updated_at,
        ],
        sa.select(
            *(
                sa.bindparam(name, type_=calculation.c[name].type)
                for name in ("member", "cycle_id", "submission_id", "revision")
            ),
            stored.c.id,
            sa.bindparam("computed_at", type_=calculation.c.computed_at.type),
        ),
    )
    return statement.on_conflict_do_update(
        index_elements=[scorecard.c.member, scorecard.c.cycle_id],
        set_={
            "submission_id": statement.excluded.submission_id,
            "revision": statement.excluded.revision,
            "calculation_id": statement.excluded.calculation_id,
            "updated_at": statement.excluded.updated_at,
        },
        where=scorecard.c.revision <= statement.excluded.revision,
    ).returning(scorecard.c.calculation_id)


def _add_calculation() -> sa.Executable:
    """Insert a calculation and, in the same statement, make it current."""
    stored = _stored_calculation().returning(_table(Calculation).c.id).cte("stored")
    return _made_current(stored)


# The revision's own columns are bound under this prefix: its framework is the one
# it was submitted under, the calculation's the one it was computed with.
_REVISION = "revision_"
_REVISION_COLUMNS = (
    "submission_id",
    "revision",
    "member",
    "cycle_id",
    "reporting_year",
    "framework_code",
    "framework_version",
    "submitted_at",
    "event_id",
    "payload",
)


def _keep_revision_and_add_calculation() -> sa.Executable:
    """Keep a revision and store its calculation, made current unless a higher
    revision is, in one statement; nothing is stored if the revision was kept
    already. Returns whether it was kept, and whether it became current."""
    revision, calculation = _table(SubmittedRevision), _table(Calculation)
    kept = (
        pg_insert(revision)
        .from_select(
            list(_REVISION_COLUMNS),
            sa.select(
                *(
                    sa.bindparam(_REVISION + name, type_=revision.c[name].type)
                    for name in _REVISION_COLUMNS
                )
            ),
        )
        .on_conflict_do_nothing()
        .returning(revision.c.revision)
        .cte("kept")
    )
    columns = [column for column in calculation.columns if column.name != "sequence"]
    stored = (
        sa.insert(calculation)
        .from_select(
            [column.name for column in columns],
            sa.select(
                *(sa.bindparam(column.name, type_=column.type) for column in columns)
            ).where(sa.exists(kept.select())),
        )
        .returning(calculation.c.id)
        .cte("stored")
    )
    made_current = _made_current(stored).cte("made_current")
    return sa.select(
        sa.exists(kept.select()).label("kept"),
        sa.exists(made_current.select()).label("current"),
    )


# The statements a worker runs for every submission are built once: building one
# costs more than PostgreSQL takes to run it.
_ADD_CALCULATION = _add_calculation()
_KEEP_REVISION_AND_ADD_CALCULATION = _keep_revision_and_add_calculation()


async def get_revision(
    session: AsyncSession, submission_id: str, revision: int
) -> SubmittedRevision | None:
    return await session.get(SubmittedRevision, (submission_id, revision))


async def keep_revision_and_add_calculation(
    session: AsyncSession, revision: dict[str, Any], calculation: dict[str, Any]
) -> tuple[bool, bool]:
    """Keep a submitted revision's inputs and, unless they were kept already, store
    its calculation as `add_calculation` does, in one round trip; returns whether
    the revision was kept and whether the calculation became current."""
    parameters = calculation | {_REVISION + k: v for k, v in revision.items()}
    result: sa.Result[Any] = await session.execute(
        _KEEP_REVISION_AND_ADD_CALCULATION, parameters
    )
    row = result.one()
    return bool(row.kept), bool(row.current)


async def add_calculation(session: AsyncSession, calculation: dict[str, Any]) -> bool:
    """Store a calculation and make it the member's current one for the cycle,
    unless a higher revision is current already; True if it became current.

    One statement: its upsert locks the scorecard row, so two workers storing
    revisions of one submission at once are applied one after the other.
    """
    stored: sa.Result[Any] = await session.execute(_ADD_CALCULATION, calculation)
    return stored.first() is not None


async def get_scorecard(
    session: AsyncSession, member: str, cycle_id: str
) -> Scorecard | None:
    return await session.get(Scorecard, (member, cycle_id))


async def scorecards_of_cycle(
    session: AsyncSession, cycle_id: str, *, lock: bool = False
) -> Sequence[Scorecard]:
    query = (
        sa.select(Scorecard)
        .where(Scorecard.cycle_id == cycle_id)
        .order_by(Scorecard.member)
    )
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).all()


async def get_calculation(
    session: AsyncSession, calculation_id: uuid.UUID
) -> Calculation | None:
    return await session.get(Calculation, calculation_id)


async def latest_calculation_of_revision(
    session: AsyncSession, member: str, cycle_id: str, revision: int
) -> Calculation | None:
    query = (
        sa.select(Calculation)
        .where(
            Calculation.member == member,
            Calculation.cycle_id == cycle_id,
            Calculation.revision == revision,
        )
        .order_by(Calculation.sequence.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def calculations_of(
    session: AsyncSession, member: str, cycle_id: str
) -> Sequence[Calculation]:
    """Newest first, without the stored result itself."""
    query = (
        sa.select(Calculation)
        .options(defer(Calculation.assessment, raiseload=True))
        .where(Calculation.member == member, Calculation.cycle_id == cycle_id)
        .order_by(Calculation.sequence.desc())
    )
    return (await session.scalars(query)).all()


async def add_recalculation(
    session: AsyncSession, recalculation: Recalculation
) -> None:
    session.add(recalculation)
    await session.flush()


async def is_assigned(
    session: AsyncSession, *, reviewer_subject: str, submission_id: str
) -> bool:
    query = (
        sa.select(sa.literal(1))
        .select_from(ReviewerAssignment)
        .join(Review, Review.review_id == ReviewerAssignment.review_id)
        .where(
            ReviewerAssignment.reviewer_subject == reviewer_subject,
            ReviewerAssignment.submission_id == submission_id,
            Review.withdrawn_at.is_(None),
        )
    )
    return (await session.execute(query.limit(1))).first() is not None


async def replace_assignments(
    session: AsyncSession,
    *,
    review_id: str,
    submission_id: str,
    member: str,
    reviewer_subjects: Sequence[str],
    assigned_at: datetime,
) -> bool:
    """The event names the review's reviewers as a whole: that set replaces ours
    unless ours was assigned later; True if it did.

    The upsert locks the review's row, so events of one review handled at once are
    applied one after the other.
    """
    if not await _record_assignment_time(
        session,
        review_id=review_id,
        submission_id=submission_id,
        member=member,
        assigned_at=assigned_at,
    ):
        return False

    table = _table(ReviewerAssignment)
    await session.execute(sa.delete(table).where(table.c.review_id == review_id))
    if reviewer_subjects:
        await session.execute(
            sa.insert(table),
            [
                {
                    "review_id": review_id,
                    "reviewer_subject": subject,
                    "submission_id": submission_id,
                    "member": member,
                }
                for subject in sorted(set(reviewer_subjects))
            ],
        )
    return True


async def _record_assignment_time(
    session: AsyncSession,
    *,
    review_id: str,
    submission_id: str,
    member: str,
    assigned_at: datetime,
) -> bool:
    """Keep the assignment's time unless a later one is kept; True if it was."""
    table = _table(Review)
    statement = pg_insert(table).values(
        review_id=review_id,
        submission_id=submission_id,
        member=member,
        assigned_as_of=assigned_at,
    )
    newer = sa.or_(
        table.c.assigned_as_of.is_(None),
        table.c.assigned_as_of <= statement.excluded.assigned_as_of,
    )
    held: sa.Result[Any] = await session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.review_id],
            set_={"assigned_as_of": statement.excluded.assigned_as_of},
            where=newer,
        ).returning(table.c.review_id)
    )
    return held.first() is not None


async def withdraw_review(
    session: AsyncSession,
    *,
    review_id: str,
    submission_id: str,
    member: str,
    withdrawn_at: datetime,
) -> None:
    """Close the review for good: an assignment arriving later opens nothing."""
    table = _table(Review)
    statement = pg_insert(table).values(
        review_id=review_id,
        submission_id=submission_id,
        member=member,
        withdrawn_at=withdrawn_at,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.review_id],
            set_={
                "withdrawn_at": sa.func.least(
                    table.c.withdrawn_at, statement.excluded.withdrawn_at
                )
            },
        )
    )
