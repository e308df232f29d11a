"""A calculation is its row and its canonical document: no per-KPI rows.

The KPI, outcome, dimension and finding rows repeated what the stored assessment
holds, no query read them, and writing them was most of what storing a calculation
cost (eighty rows, each with a foreign key check). The document stays the record;
the calculation's own columns are what the API looks up by.

A downgrade recreates the tables and fills them from the stored documents.

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


def upgrade() -> None:
    for table in (
        "calculation_finding",
        "dimension_score",
        "outcome_score",
        "kpi_score",
    ):
        op.drop_table(table)


def _calculation_fk() -> "sa.Column[object]":
    return sa.Column(
        "calculation_id",
        UUID(as_uuid=True),
        sa.ForeignKey("calculation.id"),
        primary_key=True,
    )


def downgrade() -> None:
    op.create_table(
        "kpi_score",
        _calculation_fk(),
        sa.Column("kpi", sa.Text, primary_key=True),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("value_number", sa.Numeric),
        sa.Column("level", sa.Text, nullable=False),
    )
    op.create_table(
        "outcome_score",
        _calculation_fk(),
        sa.Column("outcome", sa.Text, primary_key=True),
        sa.Column("dimension", sa.Text, nullable=False),
        sa.Column("aggregation", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("level", sa.Numeric),
    )
    op.create_table(
        "dimension_score",
        _calculation_fk(),
        sa.Column("dimension", sa.Text, primary_key=True),
        sa.Column("score", sa.Numeric),
        sa.Column("outcomes_scored", sa.Integer, nullable=False),
        sa.Column("outcomes_applicable", sa.Integer, nullable=False),
        sa.Column("coverage", sa.Numeric),
    )
    op.create_table(
        "calculation_finding",
        _calculation_fk(),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("element", sa.Text),
        sa.Column("year", sa.Integer),
        sa.Column("kpi", sa.Text),
        sa.Column("message", sa.Text, nullable=False),
    )
    # Decimals are strings in the document; a KPI's value is a number or yes/no.
    op.execute(
        "INSERT INTO kpi_score"
        " SELECT c.id, k->>'code', k->>'outcome', k->>'status', k->>'value',"
        " CASE WHEN jsonb_typeof(k->'value') = 'string'"
        " THEN (k->>'value')::numeric END, k->>'level'"
        " FROM calculation c,"
        " jsonb_array_elements(c.assessment::jsonb->'kpis') k"
    )
    op.execute(
        "INSERT INTO outcome_score"
        " SELECT c.id, o->>'code', o->>'dimension', o->>'aggregation',"
        " o->>'status', (o->>'level')::numeric"
        " FROM calculation c,"
        " jsonb_array_elements(c.assessment::jsonb->'outcomes') o"
    )
    op.execute(
        "INSERT INTO dimension_score"
        " SELECT c.id, d->>'code', (d->>'score')::numeric,"
        " (d->'coverage'->>'scored')::integer,"
        " (d->'coverage'->>'applicable')::integer,"
        " (d->'coverage'->>'ratio')::numeric"
        " FROM calculation c,"
        " jsonb_array_elements(c.assessment::jsonb->'dimensions') d"
    )
    op.execute(
        "INSERT INTO calculation_finding"
        " SELECT c.id, f.position - 1, f.finding->>'rule', f.finding->>'severity',"
        " f.finding->>'element', (f.finding->>'year')::integer,"
        " f.finding->>'kpi', f.finding->>'message'"
        " FROM calculation c, jsonb_array_elements(c.assessment::jsonb->'findings')"
        " WITH ORDINALITY AS f(finding, position)"
    )
