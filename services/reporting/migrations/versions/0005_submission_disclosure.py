"""The newest disclosure change of each submission, kept even before the
submission arrives, so that disclosure levels do not depend on event order.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_disclosure",
        sa.Column("submission_id", sa.Text, primary_key=True),
        sa.Column("disclosure", JSONB, nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("submission_disclosure")
