"""Reviewer assignments keyed by the reviewers' token subjects.

`review.assigned` named reviewers by the review service's ids, which no token carries;
it now names their token subjects too, and access is matched on those. Rows already
stored hold ids that could never match a token, so they are dropped rather than kept
under a name that would call them subjects. The index follows the renamed column.

It also gives the unique constraint on `calculation.sequence` the name the models'
naming convention gives it (0002 left PostgreSQL's default name).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM reviewer_assignment")
    op.alter_column(
        "reviewer_assignment", "reviewer_id", new_column_name="reviewer_subject"
    )
    op.execute(
        "ALTER TABLE calculation RENAME CONSTRAINT calculation_sequence_key"
        " TO uq_calculation_sequence"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE calculation RENAME CONSTRAINT uq_calculation_sequence"
        " TO calculation_sequence_key"
    )
    op.execute("DELETE FROM reviewer_assignment")
    op.alter_column(
        "reviewer_assignment", "reviewer_subject", new_column_name="reviewer_id"
    )
