"""The reporting service's tables (in its own schema; see `pmm_kit.tables`).

Everything but `report` is a read model: built from events only, emptied and built
again by `pmm-reporting rebuild`. `report` holds published snapshots, which are this
service's own record and are never rebuilt.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import MetaData
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pmm_kit.tables import NAMING_CONVENTION


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Member(Base):
    """A WCO member as last registered (`MemberChanged`)."""

    __tablename__ = "member"

    code: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    wco_region: Mapped[str] = mapped_column(sa.Text)
    income_group: Mapped[str | None] = mapped_column(sa.Text)
    administration_type: Mapped[str | None] = mapped_column(sa.Text)
    geography: Mapped[str | None] = mapped_column(sa.Text)


class Cycle(Base):
    """A cycle; `version` rises with every event that changes the cycle's figures,
    which is what keeps the in-process benchmark cache honest."""

    __tablename__ = "cycle"

    cycle_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    code: Mapped[str | None] = mapped_column(sa.Text)
    reporting_year: Mapped[int] = mapped_column(sa.Integer)
    framework_code: Mapped[str] = mapped_column(sa.Text)
    framework_version: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.BigInteger)


class Submission(Base):
    """A member's submission for a cycle: its newest revision, state, disclosure
    levels and the member's attributes as submitted (the peer groups of the cycle)."""

    __tablename__ = "submission"
    __table_args__ = (sa.Index("ix_submission_cycle_member", "cycle_id", "member"),)

    submission_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    cycle_id: Mapped[str] = mapped_column(sa.Text)
    member: Mapped[str] = mapped_column(sa.Text)
    revision: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.Text)
    name: Mapped[str] = mapped_column(sa.Text)
    wco_region: Mapped[str] = mapped_column(sa.Text)
    income_group: Mapped[str | None] = mapped_column(sa.Text)
    administration_type: Mapped[str | None] = mapped_column(sa.Text)
    disclosure: Mapped[dict[str, str]] = mapped_column(JSONB)
    disclosure_as_of: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    submitted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class SubmissionDisclosure(Base):
    """The newest `DisclosureChanged` of a submission, kept whether or not the
    submission has arrived yet: a change that overtakes its submission applies when
    the submission comes, if it is still the newest."""

    __tablename__ = "submission_disclosure"

    submission_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    disclosure: Mapped[dict[str, str]] = mapped_column(JSONB)
    as_of: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class MemberResult(Base):
    """A member's current scored result for a cycle (the newest revision's)."""

    __tablename__ = "member_result"
    __table_args__ = (sa.Index("ix_member_result_member", "member"),)

    cycle_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    member: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    calculation_id: Mapped[str] = mapped_column(sa.Text)
    submission_id: Mapped[str] = mapped_column(sa.Text)
    revision: Mapped[int] = mapped_column(sa.Integer)
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    assessment: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # What a scorecard reads of the assessment (no inputs, bands or findings): a
    # tenth of its size, which is what keeps a scorecard within its latency budget.
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB)


class KpiValue(Base):
    """One KPI of a member's current result: what benchmarks are computed from.

    `value` holds numbers exactly; a yes/no answer is 1 or 0 with `kind` yes_no.
    """

    __tablename__ = "kpi_value"
    __table_args__ = (sa.Index("ix_kpi_value_cycle_kpi", "cycle_id", "kpi"),)

    cycle_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    member: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    kpi: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    revision: Mapped[int] = mapped_column(sa.Integer)
    kind: Mapped[str] = mapped_column(sa.Text)
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric)
    level: Mapped[str] = mapped_column(sa.Text)


class Review(Base):
    """A peer review of a member's submission, as far as it went, and its reviewers.

    `reviewer_subjects` are the token subjects of the reviewers last assigned (as of
    `assigned_as_of`, the time of that `review.assigned`). They open the member's
    restricted values of the review's cycle while the review is assigned or completed;
    a withdrawn review keeps its reviewers on record but opens nothing.
    """

    __tablename__ = "review"
    __table_args__ = (
        sa.Index("ix_review_cycle_member", "cycle_id", "member"),
        sa.Index(
            "ix_review_reviewer_subjects", "reviewer_subjects", postgresql_using="gin"
        ),
    )

    review_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    submission_id: Mapped[str] = mapped_column(sa.Text)
    cycle_id: Mapped[str | None] = mapped_column(sa.Text)
    member: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    reviewer_subjects: Mapped[list[str]] = mapped_column(
        ARRAY(sa.Text), server_default="{}"
    )
    assigned_as_of: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Report(Base):
    """A published cycle report: the snapshot's exact bytes (the public view),
    never rewritten; its `views`, the WCO view of the same moment, served only to
    WCO-level readers (none for reports published before it was kept); and its
    basis: the members and values behind the cells it released, which later
    reports are suppressed against (never served; none for reports published
    before bases were kept)."""

    __tablename__ = "report"

    report_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    cycle_id: Mapped[str] = mapped_column(sa.Text, index=True)
    published_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    published_by: Mapped[str] = mapped_column(sa.Text)
    snapshot: Mapped[str] = mapped_column(sa.Text)
    snapshot_sha256: Mapped[str] = mapped_column(sa.Text)
    basis: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    views: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


READ_MODEL_TABLES = (
    "member",
    "cycle",
    "submission",
    "submission_disclosure",
    "member_result",
    "kpi_value",
    "review",
)


def table(model: type[Base]) -> sa.Table:
    """A model's table, typed as one (SQLAlchemy types `__table__` loosely)."""
    found = model.__table__
    assert isinstance(found, sa.Table)
    return found
