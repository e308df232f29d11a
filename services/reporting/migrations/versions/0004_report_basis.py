"""The basis of a published report: the members and values behind the cells it
shows, so that the live views can be suppressed against it.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("report", sa.Column("basis", JSONB))


def downgrade() -> None:
    op.drop_column("report", "basis")
