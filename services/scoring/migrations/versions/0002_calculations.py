"""Calculations: submitted inputs, results with lineage, current scorecards, reviewers.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _calculation_fk() -> "sa.Column[object]":
    return sa.Column(
        "calculation_id",
        UUID(as_uuid=True),
        sa.ForeignKey("calculation.id"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "submitted_revision",
        sa.Column("submission_id", sa.Text, primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("member", sa.Text, nullable=False),
        sa.Column("cycle_id", sa.Text, nullable=False),
        sa.Column("reporting_year", sa.Integer, nullable=False),
        sa.Column("framework_code", sa.Text, nullable=False),
        sa.Column("framework_version", sa.Text, nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "recalculation",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("cycle_id", sa.Text, nullable=False, index=True),
        sa.Column("framework_code", sa.Text),
        sa.Column("framework_version", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("calculations", sa.Integer, nullable=False),
    )
    op.create_table(
        "calculation",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "sequence", sa.BigInteger, sa.Identity(), nullable=False, unique=True
        ),
        sa.Column("submission_id", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("member", sa.Text, nullable=False),
        sa.Column("cycle_id", sa.Text, nullable=False),
        sa.Column("reporting_year", sa.Integer, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column(
            "recalculation_id", UUID(as_uuid=True), sa.ForeignKey("recalculation.id")
        ),
        sa.Column("framework_code", sa.Text, nullable=False),
        sa.Column("framework_version", sa.Text, nullable=False),
        sa.Column("framework_sha256", sa.Text, nullable=False),
        sa.Column("library_version", sa.Text, nullable=False),
        sa.Column("inputs_sha256", sa.Text, nullable=False),
        sa.Column("blocking_findings", sa.Integer, nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.Column("assessment", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id", "revision"],
            ["submitted_revision.submission_id", "submitted_revision.revision"],
        ),
        sa.Index("ix_calculation_member_cycle", "member", "cycle_id", "sequence"),
        sa.Index("ix_calculation_submission", "submission_id", "revision"),
    )
    op.create_table(
        "kpi_score",
        _calculation_fk(),
        sa.Column("kpi", sa.Text, primary_key=True),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("value_number", sa.Numeric),
        sa.Column("level", sa.Text, nullable=False),
    )
    op.create_table(
        "outcome_score",
        _calculation_fk(),
        sa.Column("outcome", sa.Text, primary_key=True),
        sa.Column("dimension", sa.Text, nullable=False),
        sa.Column("aggregation", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("level", sa.Numeric),
    )
    op.create_table(
        "dimension_score",
        _calculation_fk(),
        sa.Column("dimension", sa.Text, primary_key=True),
        sa.Column("score", sa.Numeric),
        sa.Column("outcomes_scored", sa.Integer, nullable=False),
        sa.Column("outcomes_applicable", sa.Integer, nullable=False),
        sa.Column("coverage", sa.Numeric),
    )
    op.create_table(
        "calculation_finding",
        _calculation_fk(),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("element", sa.Text),
        sa.Column("year", sa.Integer),
        sa.Column("kpi", sa.Text),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_table(
        "scorecard",
        sa.Column("member", sa.Text, primary_key=True),
        sa.Column("cycle_id", sa.Text, primary_key=True),
        sa.Column("submission_id", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column(
            "calculation_id",
            UUID(as_uuid=True),
            sa.ForeignKey("calculation.id"),
            nullable=False,
        ),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "reviewer_assignment",
        sa.Column("review_id", sa.Text, primary_key=True),
        sa.Column("reviewer_id", sa.Text, primary_key=True),
        sa.Column("submission_id", sa.Text, nullable=False),
        sa.Column("member", sa.Text, nullable=False),
        sa.Column("assigned_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Index("ix_reviewer_assignment_reviewer", "reviewer_id", "submission_id"),
    )


def downgrade() -> None:
    for table in (
        "reviewer_assignment",
        "scorecard",
        "calculation_finding",
        "dimension_score",
        "outcome_score",
        "kpi_score",
        "calculation",
        "recalculation",
        "submitted_revision",
    ):
        op.drop_table(table)
