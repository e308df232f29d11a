"""The submission service's tables: members, cycles, submissions, values, feeds.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (
    "cycles",
    "feeds",
    "members",
    "transitions",
    "value_history",
    "api_keys",
    "element_mappings",
    "extensions",
    "submissions",
    "data_values",
    "disclosures",
    "kpi_opt_outs",
    "revisions",
)


def upgrade() -> None:
    op.create_table(
        "cycles",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("reporting_year", sa.Integer(), nullable=False),
        sa.Column("framework_code", sa.Text(), nullable=False),
        sa.Column("framework_version", sa.Text(), nullable=False),
        sa.Column("window_opens", sa.Date(), nullable=False),
        sa.Column("window_closes", sa.Date(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
        sa.UniqueConstraint("code", name=op.f("uq_cycles_code")),
    )
    op.create_table(
        "feeds",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("member", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("request_sha256", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feeds")),
        sa.UniqueConstraint("caller", "idempotency_key", name=op.f("uq_feeds_caller")),
    )
    op.create_table(
        "members",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("wco_region", sa.Text(), nullable=False),
        sa.Column("income_group", sa.Text(), nullable=True),
        sa.Column("membership_date", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("administration_type", sa.Text(), nullable=True),
        sa.Column("geography", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_members")),
    )
    op.create_table(
        "transitions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("from_state", sa.Text(), nullable=True),
        sa.Column("to_state", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transitions")),
    )
    op.create_table(
        "value_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("data_element", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_state", sa.Text(), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_state", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_history")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("member", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("key_sha256", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member"], ["members.code"], name=op.f("fk_api_keys_member_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_sha256", name=op.f("uq_api_keys_key_sha256")),
    )
    op.create_table(
        "element_mappings",
        sa.Column("member", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("data_element", sa.Text(), nullable=False),
        sa.Column("factor", sa.Numeric(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member"],
            ["members.code"],
            name=op.f("fk_element_mappings_member_members"),
        ),
        sa.PrimaryKeyConstraint("member", "name", name=op.f("pk_element_mappings")),
    )
    op.create_table(
        "extensions",
        sa.Column("cycle_id", sa.UUID(), nullable=False),
        sa.Column("member", sa.Text(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_extensions_cycle_id_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["member"], ["members.code"], name=op.f("fk_extensions_member_members")
        ),
        sa.PrimaryKeyConstraint("cycle_id", "member", name=op.f("pk_extensions")),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("cycle_id", sa.UUID(), nullable=False),
        sa.Column("member", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("reopened_kpis", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_submissions_cycle_id_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["member"], ["members.code"], name=op.f("fk_submissions_member_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("cycle_id", "member", name=op.f("uq_submissions_cycle_id")),
    )
    op.create_table(
        "data_values",
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("data_element", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("number", sa.Numeric(), nullable=True),
        sa.Column("flag", sa.Boolean(), nullable=True),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("previous_value", sa.Text(), nullable=True),
        sa.Column("previous_cycle_id", sa.UUID(), nullable=True),
        sa.Column("restatement_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_data_values_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint(
            "submission_id", "data_element", "year", name=op.f("pk_data_values")
        ),
    )
    op.create_table(
        "disclosures",
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("kpi", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_disclosures_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("submission_id", "kpi", name=op.f("pk_disclosures")),
    )
    op.create_table(
        "kpi_opt_outs",
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("kpi", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_kpi_opt_outs_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("submission_id", "kpi", name=op.f("pk_kpi_opt_outs")),
    )
    op.create_table(
        "revisions",
        sa.Column("submission_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.Text(), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_revisions_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("submission_id", "number", name=op.f("pk_revisions")),
    )
    op.create_index(
        op.f("ix_transitions_entity_id"), "transitions", ["entity_id"], unique=False
    )
    op.create_index(
        op.f("ix_value_history_submission_id"),
        "value_history",
        ["submission_id"],
        unique=False,
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
