"""The reviewer's unique subject takes the name the models' convention gives it.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE reviewer RENAME CONSTRAINT reviewer_subject_key"
        " TO uq_reviewer_subject"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE reviewer RENAME CONSTRAINT uq_reviewer_subject"
        " TO reviewer_subject_key"
    )
