"""A correction has a state, may lapse when the submission moves on without it, and
its transitions name it.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("correction", sa.Column("state", sa.Text))
    op.add_column("correction", sa.Column("lapsed_at", TS))
    op.add_column("correction", sa.Column("lapse_reason", sa.Text))
    op.execute(
        "UPDATE correction SET state = CASE"
        " WHEN corrected_revision IS NOT NULL THEN 'corrected'"
        " WHEN returned_at IS NOT NULL THEN 'returned'"
        " ELSE 'requested' END"
    )
    op.alter_column("correction", "state", nullable=False)
    op.add_column("transition", sa.Column("correction_id", UUID(as_uuid=True)))


def downgrade() -> None:
    op.drop_column("transition", "correction_id")
    op.drop_column("correction", "lapse_reason")
    op.drop_column("correction", "lapsed_at")
    op.drop_column("correction", "state")
