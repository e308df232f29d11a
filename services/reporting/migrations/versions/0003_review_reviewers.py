"""The reviewers of a review, by token subject: who may read the reviewed member's
restricted values.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "review",
        sa.Column(
            "reviewer_subjects",
            ARRAY(sa.Text),
            nullable=False,
            server_default="{}",
        ),
    )
    op.add_column("review", sa.Column("assigned_as_of", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_review_reviewer_subjects",
        "review",
        ["reviewer_subjects"],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_review_reviewer_subjects", table_name="review")
    op.drop_column("review", "assigned_as_of")
    op.drop_column("review", "reviewer_subjects")
