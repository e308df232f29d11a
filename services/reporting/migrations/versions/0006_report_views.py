"""The views a published report froze for audiences other than the public (the
WCO view), served to those readers instead of the live table.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("report", sa.Column("views", JSONB))


def downgrade() -> None:
    op.drop_column("report", "views")
