"""Every transition names the state it led to and why.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Transitions recorded before this revision may lack them; say so, never guess.
    transition = sa.table(
        "transition", sa.column("to_state", sa.Text), sa.column("reason", sa.Text)
    )
    for column in ("to_state", "reason"):
        op.execute(
            transition.update()
            .where(transition.c[column].is_(None))
            .values({column: "(not recorded)"})
        )
        op.alter_column("transition", column, nullable=False)


def downgrade() -> None:
    for column in ("to_state", "reason"):
        op.alter_column("transition", column, nullable=True)
