"""The submission service's tables (in its own schema; see `pmm_kit.tables`)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import MetaData
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pmm_kit.tables import NAMING_CONVENTION


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Member(Base):
    """A WCO member as the registry ships it, plus what the Secretariat adds."""

    __tablename__ = "members"

    code: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    wco_region: Mapped[str] = mapped_column(sa.Text)
    income_group: Mapped[str | None] = mapped_column(sa.Text)
    # As the source gives it: a date, or only a year where that is all it says.
    membership_date: Mapped[str | None] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)
    administration_type: Mapped[str | None] = mapped_column(sa.Text)
    geography: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(sa.Text)


class Cycle(Base):
    __tablename__ = "cycles"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    code: Mapped[str] = mapped_column(sa.Text, unique=True)
    reporting_year: Mapped[int] = mapped_column(sa.Integer)
    framework_code: Mapped[str] = mapped_column(sa.Text)
    framework_version: Mapped[str] = mapped_column(sa.Text)
    window_opens: Mapped[date] = mapped_column(sa.Date)
    window_closes: Mapped[date] = mapped_column(sa.Date)
    state: Mapped[str] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(sa.Text)


class Extension(Base):
    """One member may enter data in a closed cycle until a date."""

    __tablename__ = "extensions"

    cycle_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("cycles.id"), primary_key=True
    )
    member: Mapped[str] = mapped_column(
        sa.Text, sa.ForeignKey("members.code"), primary_key=True
    )
    until: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.Text)
    granted_by: Mapped[str] = mapped_column(sa.Text)
    granted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Submission(Base):
    """One member's answers in one cycle; `revision` counts the frozen submits."""

    __tablename__ = "submissions"
    __table_args__ = (sa.UniqueConstraint("cycle_id", "member"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    cycle_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("cycles.id")
    )
    member: Mapped[str] = mapped_column(sa.Text, sa.ForeignKey("members.code"))
    state: Mapped[str] = mapped_column(sa.Text)
    revision: Mapped[int] = mapped_column(sa.Integer, default=0)
    reopened_kpis: Mapped[list[str] | None] = mapped_column(ARRAY(sa.Text))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class DataValueRow(Base):
    """The current answer for one data element in one year of a submission.

    Exactly one of `number`, `flag`, `code` is set when the state is `provided`.
    A restatement keeps the figure the member submitted for that year before.
    """

    __tablename__ = "data_values"

    submission_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("submissions.id"), primary_key=True
    )
    data_element: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    state: Mapped[str] = mapped_column(sa.Text)
    number: Mapped[Decimal | None] = mapped_column(sa.Numeric)
    flag: Mapped[bool | None] = mapped_column(sa.Boolean)
    code: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    previous_value: Mapped[str | None] = mapped_column(sa.Text)
    previous_cycle_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    restatement_reason: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(sa.Text)
    channel: Mapped[str] = mapped_column(sa.Text)


class ValueChange(Base):
    """One change of one value: who, through which channel, when, before and after."""

    __tablename__ = "value_history"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    data_element: Mapped[str] = mapped_column(sa.Text)
    year: Mapped[int] = mapped_column(sa.Integer)
    actor: Mapped[str] = mapped_column(sa.Text)
    channel: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    old_state: Mapped[str | None] = mapped_column(sa.Text)
    old_value: Mapped[str | None] = mapped_column(sa.Text)
    new_state: Mapped[str | None] = mapped_column(sa.Text)
    new_value: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)


class KpiOptOutRow(Base):
    __tablename__ = "kpi_opt_outs"

    submission_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("submissions.id"), primary_key=True
    )
    kpi: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    reason: Mapped[str] = mapped_column(sa.Text)


class DisclosureRow(Base):
    """A KPI's disclosure level; a KPI without a row is restricted."""

    __tablename__ = "disclosures"

    submission_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("submissions.id"), primary_key=True
    )
    kpi: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    level: Mapped[str] = mapped_column(sa.Text)


class Revision(Base):
    """A frozen submit: the payload of the event it emitted, kept to be read back."""

    __tablename__ = "revisions"

    submission_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("submissions.id"), primary_key=True
    )
    number: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    submitted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    submitted_by: Mapped[str] = mapped_column(sa.Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)


class Transition(Base):
    """Every state change of a cycle or a submission: actor, time and reason."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    entity: Mapped[str] = mapped_column(sa.Text)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    from_state: Mapped[str | None] = mapped_column(sa.Text)
    to_state: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(sa.Text)


class ElementMapping(Base):
    """A member's own name for a framework data element, with the factor to apply
    and, optionally, the unit its figures come in (a currency for an amount)."""

    __tablename__ = "element_mappings"

    member: Mapped[str] = mapped_column(
        sa.Text, sa.ForeignKey("members.code"), primary_key=True
    )
    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    data_element: Mapped[str] = mapped_column(sa.Text)
    factor: Mapped[Decimal] = mapped_column(sa.Numeric)
    unit: Mapped[str | None] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class ApiKey(Base):
    """A feed key of one member; only its sha256 is kept."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    member: Mapped[str] = mapped_column(sa.Text, sa.ForeignKey("members.code"))
    label: Mapped[str] = mapped_column(sa.Text)
    key_sha256: Mapped[str] = mapped_column(sa.Text, unique=True)
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class FeedRun(Base):
    """One feed sent: its idempotency key, progress and result."""

    __tablename__ = "feeds"
    __table_args__ = (sa.UniqueConstraint("caller", "idempotency_key"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    caller: Mapped[str] = mapped_column(sa.Text)
    member: Mapped[str | None] = mapped_column(sa.Text)
    idempotency_key: Mapped[str | None] = mapped_column(sa.Text)
    request_sha256: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    rows_total: Mapped[int] = mapped_column(sa.Integer, default=0)
    rows_done: Mapped[int] = mapped_column(sa.Integer, default=0)
    http_status: Mapped[int | None] = mapped_column(sa.Integer)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
