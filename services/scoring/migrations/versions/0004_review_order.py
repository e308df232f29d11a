"""Reviews, so that their events give the same access in any order.

A review keeps the event time of the assignment whose reviewers are held and whether it
was withdrawn: a late, older assignment no longer replaces a newer one, and one that
comes after the withdrawal no longer opens access again. The reviewers of a withdrawn
review stay on record; the review's row says they read nothing.

The assignments already stored get a review each, its time unknown (so the next
assignment replaces them, as before). Reviews withdrawn earlier left no trace and cannot
be recorded.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review",
        sa.Column("review_id", sa.Text, primary_key=True),
        sa.Column("submission_id", sa.Text, nullable=False),
        sa.Column("member", sa.Text, nullable=False),
        sa.Column("assigned_as_of", TS),
        sa.Column("withdrawn_at", TS),
    )
    op.execute(
        "INSERT INTO review (review_id, submission_id, member)"
        " SELECT DISTINCT ON (review_id) review_id, submission_id, member"
        " FROM reviewer_assignment ORDER BY review_id"
    )
    op.create_foreign_key(
        "fk_reviewer_assignment_review_id_review",
        "reviewer_assignment",
        "review",
        ["review_id"],
        ["review_id"],
    )


def downgrade() -> None:
    op.execute(
        "DELETE FROM reviewer_assignment WHERE review_id IN"
        " (SELECT review_id FROM review WHERE withdrawn_at IS NOT NULL)"
    )
    op.drop_constraint(
        "fk_reviewer_assignment_review_id_review",
        "reviewer_assignment",
        type_="foreignkey",
    )
    op.drop_table("review")
