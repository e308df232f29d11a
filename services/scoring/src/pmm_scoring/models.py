"""The scoring service's tables (in its own schema; see `pmm_kit.tables`).

A calculation is never changed once stored: a recalculation adds one, and `scorecard`
names the current calculation of each member and cycle. A calculation is one row: the
columns it is looked up and listed by, and the canonical JSON of the methodology
library's result, byte for byte, from which every figure is read.
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import MetaData
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pmm_kit.tables import NAMING_CONVENTION

Timestamp = sa.DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SubmittedRevision(Base):
    """The inputs of a submitted revision, kept so that a recalculation needs no other
    service: `payload` is the `submission.submitted` event's data as received."""

    __tablename__ = "submitted_revision"

    submission_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    revision: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    member: Mapped[str] = mapped_column(sa.Text)
    cycle_id: Mapped[str] = mapped_column(sa.Text)
    reporting_year: Mapped[int] = mapped_column(sa.Integer)
    framework_code: Mapped[str] = mapped_column(sa.Text)
    framework_version: Mapped[str] = mapped_column(sa.Text)
    submitted_at: Mapped[datetime] = mapped_column(Timestamp)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    payload: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(
        Timestamp, server_default=sa.func.now()
    )


class Recalculation(Base):
    """A Secretariat request to compute a cycle again."""

    __tablename__ = "recalculation"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    cycle_id: Mapped[str] = mapped_column(sa.Text, index=True)
    framework_code: Mapped[str | None] = mapped_column(sa.Text)
    framework_version: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.Text)
    requested_by: Mapped[str] = mapped_column(sa.Text)
    requested_at: Mapped[datetime] = mapped_column(Timestamp)
    calculations: Mapped[int] = mapped_column(sa.Integer)


class Calculation(Base):
    __tablename__ = "calculation"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["submission_id", "revision"],
            ["submitted_revision.submission_id", "submitted_revision.revision"],
        ),
        sa.Index("ix_calculation_member_cycle", "member", "cycle_id", "sequence"),
        sa.Index("ix_calculation_submission", "submission_id", "revision"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # Orders calculations as they were stored, whatever the clocks say.
    sequence: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), unique=True)
    submission_id: Mapped[str] = mapped_column(sa.Text)
    revision: Mapped[int] = mapped_column(sa.Integer)
    member: Mapped[str] = mapped_column(sa.Text)
    cycle_id: Mapped[str] = mapped_column(sa.Text)
    reporting_year: Mapped[int] = mapped_column(sa.Integer)
    trigger: Mapped[str] = mapped_column(sa.Text)
    recalculation_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("recalculation.id")
    )
    framework_code: Mapped[str] = mapped_column(sa.Text)
    framework_version: Mapped[str] = mapped_column(sa.Text)
    framework_sha256: Mapped[str] = mapped_column(sa.Text)
    library_version: Mapped[str] = mapped_column(sa.Text)
    inputs_sha256: Mapped[str] = mapped_column(sa.Text)
    blocking_findings: Mapped[int] = mapped_column(sa.Integer)
    computed_at: Mapped[datetime] = mapped_column(Timestamp)
    assessment: Mapped[str] = mapped_column(sa.Text)


class Scorecard(Base):
    """Which calculation is current for a member in a cycle: that of the highest
    revision, the latest one stored for it."""

    __tablename__ = "scorecard"

    member: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    cycle_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    submission_id: Mapped[str] = mapped_column(sa.Text)
    revision: Mapped[int] = mapped_column(sa.Integer)
    calculation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("calculation.id")
    )
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class Review(Base):
    """A peer review as far as its events tell, whatever order they came in.

    `assigned_as_of` is the time of the `review.assigned` whose reviewers are held (an
    older one arriving later changes nothing); `withdrawn_at` that of the first
    `review.withdrawn`. A withdrawal is final: the reviewers stay on record but read
    nothing, even if an assignment arrives after it.
    """

    __tablename__ = "review"

    review_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    submission_id: Mapped[str] = mapped_column(sa.Text)
    member: Mapped[str] = mapped_column(sa.Text)
    assigned_as_of: Mapped[datetime | None] = mapped_column(Timestamp)
    withdrawn_at: Mapped[datetime | None] = mapped_column(Timestamp)


class ReviewerAssignment(Base):
    """A reviewer (by token subject) may read the results of a submission, unless
    the review was withdrawn."""

    __tablename__ = "reviewer_assignment"
    __table_args__ = (
        sa.Index(
            "ix_reviewer_assignment_reviewer", "reviewer_subject", "submission_id"
        ),
    )

    review_id: Mapped[str] = mapped_column(
        sa.Text, sa.ForeignKey("review.review_id"), primary_key=True
    )
    reviewer_subject: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    submission_id: Mapped[str] = mapped_column(sa.Text)
    member: Mapped[str] = mapped_column(sa.Text)
    assigned_at: Mapped[datetime] = mapped_column(
        Timestamp, server_default=sa.func.now()
    )
