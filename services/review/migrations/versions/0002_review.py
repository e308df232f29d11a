"""Review tables: read models of submissions, reviewers, reviews and their queries.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ACTIVE_REVIEW = "state IN ('requested', 'assigned', 'in_review')"


def upgrade() -> None:
    op.create_table(
        "member",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("wco_region", sa.Text, nullable=False),
    )
    op.create_table(
        "submission",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("member", sa.Text, nullable=False, index=True),
        sa.Column("cycle", JSONB, nullable=False),
        sa.Column("current_revision", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
    )
    op.create_table(
        "revision",
        sa.Column("submission_id", sa.Text, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("member", JSONB, nullable=False),
        sa.Column("values", JSONB, nullable=False),
        sa.Column("kpi_opt_outs", JSONB, nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("submitted_by", sa.Text, nullable=False),
    )
    op.create_table(
        "reviewer",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("home_member", sa.Text, nullable=False),
        sa.Column("languages", ARRAY(sa.Text), nullable=False),
        sa.Column("expertise", ARRAY(sa.Text), nullable=False),
        sa.Column("accreditation", sa.Text, nullable=False),
        sa.Column("accredited_until", sa.Date),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "review",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("submission_id", sa.Text, nullable=False, index=True),
        sa.Column("cycle", JSONB, nullable=False),
        sa.Column("member", sa.Text, nullable=False, index=True),
        sa.Column("wco_region", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("languages", ARRAY(sa.Text), nullable=False),
        sa.Column("focus_dimensions", ARRAY(sa.Text), nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("outcome", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    # One review in progress per submission, even when two requests race.
    op.create_index(
        "ux_review_active_submission",
        "review",
        ["submission_id"],
        unique=True,
        postgresql_where=sa.text(ACTIVE_REVIEW),
    )
    op.create_table(
        "assignment",
        sa.Column(
            "review_id",
            UUID(as_uuid=True),
            sa.ForeignKey("review.id"),
            primary_key=True,
        ),
        sa.Column(
            "reviewer_id",
            UUID(as_uuid=True),
            sa.ForeignKey("reviewer.id"),
            primary_key=True,
            index=True,
        ),
        sa.Column("assigned_by", sa.Text, nullable=False),
        sa.Column("assigned_at", TS, nullable=False),
        sa.Column("same_region", sa.Boolean, nullable=False),
    )
    op.create_table(
        "review_query",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "review_id",
            UUID(as_uuid=True),
            sa.ForeignKey("review.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("kpi", sa.Text),
        sa.Column("data_element", sa.Text),
        sa.Column("year", sa.Integer),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("opened_by", sa.Text, nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("closed_by", sa.Text),
        sa.Column("closed_at", TS),
        sa.Column("reservation", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint(
            "kpi IS NOT NULL OR data_element IS NOT NULL", name="names_its_target"
        ),
    )
    op.create_table(
        "query_message",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "query_id",
            UUID(as_uuid=True),
            sa.ForeignKey("review_query.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("author_role", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("sent_at", TS, nullable=False),
    )
    op.create_table(
        "correction",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "review_id",
            UUID(as_uuid=True),
            sa.ForeignKey("review.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("kpis", ARRAY(sa.Text), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("returned_at", TS),
        sa.Column("corrected_revision", sa.Integer),
        sa.Column("corrected_at", TS),
    )
    op.create_table(
        "revision_move",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "review_id",
            UUID(as_uuid=True),
            sa.ForeignKey("review.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("from_revision", sa.Integer, nullable=False),
        sa.Column("to_revision", sa.Integer, nullable=False),
        sa.Column("moved_at", TS, nullable=False),
        sa.Column("changes", JSONB, nullable=False),
    )
    op.create_table(
        "verdict",
        sa.Column(
            "review_id",
            UUID(as_uuid=True),
            sa.ForeignKey("review.id"),
            primary_key=True,
        ),
        sa.Column("kpi", sa.Text, primary_key=True),
        sa.Column("verdict", sa.Text, nullable=False),
        sa.Column("reservation", sa.Text),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("given_by", sa.Text, nullable=False),
        sa.Column("given_at", TS, nullable=False),
    )
    op.create_table(
        "transition",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "review_id",
            UUID(as_uuid=True),
            sa.ForeignKey("review.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("query_id", UUID(as_uuid=True)),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("from_state", sa.Text),
        sa.Column("to_state", sa.Text),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "transition",
        "verdict",
        "revision_move",
        "correction",
        "query_message",
        "review_query",
        "assignment",
        "review",
        "reviewer",
        "revision",
        "submission",
        "member",
    ):
        op.drop_table(table)
