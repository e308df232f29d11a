"""Read models (members, cycles, submissions, results, KPI values, reviews) and
published reports.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "member",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("wco_region", sa.Text, nullable=False),
        sa.Column("income_group", sa.Text),
        sa.Column("administration_type", sa.Text),
        sa.Column("geography", sa.Text),
    )
    op.create_table(
        "cycle",
        sa.Column("cycle_id", sa.Text, primary_key=True),
        sa.Column("code", sa.Text),
        sa.Column("reporting_year", sa.Integer, nullable=False),
        sa.Column("framework_code", sa.Text, nullable=False),
        sa.Column("framework_version", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "submission",
        sa.Column("submission_id", sa.Text, primary_key=True),
        sa.Column("cycle_id", sa.Text, nullable=False),
        sa.Column("member", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("wco_region", sa.Text, nullable=False),
        sa.Column("income_group", sa.Text),
        sa.Column("administration_type", sa.Text),
        sa.Column("disclosure", JSONB, nullable=False),
        sa.Column("disclosure_as_of", TIMESTAMP, nullable=False),
        sa.Column("submitted_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_submission_cycle_member", "submission", ["cycle_id", "member"])
    op.create_table(
        "member_result",
        sa.Column("cycle_id", sa.Text, primary_key=True),
        sa.Column("member", sa.Text, primary_key=True),
        sa.Column("calculation_id", sa.Text, nullable=False),
        sa.Column("submission_id", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        sa.Column("assessment", JSONB, nullable=False),
        sa.Column("summary", JSONB, nullable=False),
    )
    op.create_index("ix_member_result_member", "member_result", ["member"])
    op.create_table(
        "kpi_value",
        sa.Column("cycle_id", sa.Text, primary_key=True),
        sa.Column("member", sa.Text, primary_key=True),
        sa.Column("kpi", sa.Text, primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("value", sa.Numeric),
        sa.Column("level", sa.Text, nullable=False),
    )
    op.create_index("ix_kpi_value_cycle_kpi", "kpi_value", ["cycle_id", "kpi"])
    op.create_table(
        "review",
        sa.Column("review_id", sa.Text, primary_key=True),
        sa.Column("submission_id", sa.Text, nullable=False),
        sa.Column("cycle_id", sa.Text),
        sa.Column("member", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text),
    )
    op.create_index("ix_review_cycle_member", "review", ["cycle_id", "member"])
    op.create_table(
        "report",
        sa.Column("report_id", sa.Text, primary_key=True),
        sa.Column("cycle_id", sa.Text, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=False),
        sa.Column("published_by", sa.Text, nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.Column("snapshot_sha256", sa.Text, nullable=False),
    )
    op.create_index("ix_report_cycle_id", "report", ["cycle_id"])


def downgrade() -> None:
    for table in (
        "report",
        "review",
        "kpi_value",
        "member_result",
        "submission",
        "cycle",
        "member",
    ):
        op.drop_table(table)
