"""The KPI results the scoring service computed for each revision.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revision_score",
        sa.Column("calculation_id", sa.Text, primary_key=True),
        sa.Column("submission_id", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kpis", JSONB, nullable=False),
    )
    op.create_index(
        "ix_revision_score_submission_id",
        "revision_score",
        ["submission_id", "revision"],
    )


def downgrade() -> None:
    op.drop_table("revision_score")
