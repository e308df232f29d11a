"""The review service's tables (in its own schema; see `pmm_kit.tables`).

Submissions, revisions and members are read models built from the submission
service's events; everything else belongs to the review. Rows whose state changes
carry a `version` that every transition checks and increments.
"""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pmm_kit.tables import NAMING_CONVENTION

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Member(Base):
    """A WCO member as last heard of (for the reviewers' regions)."""

    __tablename__ = "member"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    wco_region: Mapped[str] = mapped_column(Text)


class Submission(Base):
    """A submission as the review service knows it from events."""

    __tablename__ = "submission"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    member: Mapped[str] = mapped_column(Text, index=True)
    cycle: Mapped[dict[str, Any]] = mapped_column(JSONB)
    current_revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)


class Revision(Base):
    """A frozen revision, exactly as `SubmissionSubmitted` carried it."""

    __tablename__ = "revision"

    submission_id: Mapped[str] = mapped_column(Text, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    member: Mapped[dict[str, Any]] = mapped_column(JSONB)
    values: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    kpi_opt_outs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    submitted_at: Mapped[datetime] = mapped_column(Timestamp)
    submitted_by: Mapped[str] = mapped_column(Text)


class Reviewer(Base):
    __tablename__ = "reviewer"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    subject: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    home_member: Mapped[str] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(ARRAY(Text))
    expertise: Mapped[list[str]] = mapped_column(ARRAY(Text))
    accreditation: Mapped[str] = mapped_column(Text)
    accredited_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


ACTIVE_REVIEW = "state IN ('requested', 'assigned', 'in_review')"


class Review(Base):
    __tablename__ = "review"
    __table_args__ = (
        # One review in progress per submission, even when two requests race.
        Index(
            "ux_review_active_submission",
            "submission_id",
            unique=True,
            postgresql_where=text(ACTIVE_REVIEW),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    submission_id: Mapped[str] = mapped_column(Text, index=True)
    cycle: Mapped[dict[str, Any]] = mapped_column(JSONB)
    member: Mapped[str] = mapped_column(Text, index=True)
    wco_region: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(ARRAY(Text))
    focus_dimensions: Mapped[list[str]] = mapped_column(ARRAY(Text))
    requested_by: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(Timestamp)
    outcome: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class Assignment(Base):
    __tablename__ = "assignment"

    review_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("review.id"), primary_key=True
    )
    reviewer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reviewer.id"), primary_key=True, index=True
    )
    assigned_by: Mapped[str] = mapped_column(Text)
    assigned_at: Mapped[datetime] = mapped_column(Timestamp)
    same_region: Mapped[bool] = mapped_column(Boolean)


class Query(Base):
    """A reviewer's question about one KPI or data element of a revision."""

    __tablename__ = "review_query"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("review.id"), index=True)
    kpi: Mapped[str | None] = mapped_column(Text)
    data_element: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(Timestamp)
    closed_by: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    reservation: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)


class QueryMessage(Base):
    __tablename__ = "query_message"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    query_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("review_query.id"), index=True
    )
    author: Mapped[str] = mapped_column(Text)
    author_role: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(Timestamp)


class Correction(Base):
    """A reviewer's request that some KPIs' values change (see `CorrectionState`)."""

    __tablename__ = "correction"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("review.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    kpis: Mapped[list[str]] = mapped_column(ARRAY(Text))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(Timestamp)
    returned_at: Mapped[datetime | None] = mapped_column(Timestamp)
    corrected_revision: Mapped[int | None] = mapped_column(Integer)
    corrected_at: Mapped[datetime | None] = mapped_column(Timestamp)
    lapsed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    lapse_reason: Mapped[str | None] = mapped_column(Text)


class RevisionMove(Base):
    """A review moved to a newer revision: what changed, which queries it touches."""

    __tablename__ = "revision_move"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("review.id"), index=True)
    from_revision: Mapped[int] = mapped_column(Integer)
    to_revision: Mapped[int] = mapped_column(Integer)
    moved_at: Mapped[datetime] = mapped_column(Timestamp)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)


class GivenVerdict(Base):
    """A reviewer's verdict on one KPI, on the revision it was given on."""

    __tablename__ = "verdict"

    review_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("review.id"), primary_key=True
    )
    kpi: Mapped[str] = mapped_column(Text, primary_key=True)
    verdict: Mapped[str] = mapped_column(Text)
    reservation: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    given_by: Mapped[str] = mapped_column(Text)
    given_at: Mapped[datetime] = mapped_column(Timestamp)


class Transition(Base):
    """Every transition of a review or of one of its queries or corrections: who,
    when, why, from which state to which."""

    __tablename__ = "transition"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("review.id"), index=True)
    query_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    correction_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(Text)
    from_state: Mapped[str | None] = mapped_column(Text)
    to_state: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(Timestamp)


class RevisionScore(Base):
    """One calculation of a revision: each KPI's value, level and status."""

    __tablename__ = "revision_score"
    __table_args__ = (
        Index("ix_revision_score_submission_id", "submission_id", "revision"),
    )

    calculation_id: Mapped[str] = mapped_column(Text, primary_key=True)
    submission_id: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(Timestamp)
    kpis: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSONB)
