"""The migrations create exactly the tables the models describe."""

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

from pmm_kit.contracts.submission import SubmissionSubmitted
from pmm_kit.db import create_engine
from pmm_kit.migrations import alembic_config
from pmm_local.testing import schema_differences, truncate_schema
from pmm_scoring.models import Base

from .helpers import library_result, submitted

pytestmark = pytest.mark.asyncio(loop_scope="session")

SERVICE_DIR = Path(__file__).resolve().parents[1]


async def test_the_migrated_schema_matches_the_models(scoring_database: str) -> None:
    found = await schema_differences(scoring_database, "scoring", Base.metadata)

    assert found == []


async def test_a_downgrade_below_0005_refills_the_score_rows_from_the_documents(
    scoring_database: str,
) -> None:
    await truncate_schema(scoring_database, "scoring")
    event = submitted(member="ECU", opt_outs={"TF.8.1": "no transit regime"})
    engine = create_engine(scoring_database, schema="scoring", pool_size=1)
    config = alembic_config(
        SERVICE_DIR, database_url=scoring_database, schema="scoring"
    )
    try:
        await _store_calculation(engine, event, library_result(event))

        await asyncio.to_thread(command.downgrade, config, "0004")
        try:
            async with engine.connect() as connection:
                kpi = (
                    await connection.execute(
                        sa.text(
                            "SELECT kpi, outcome, status, value, value_number, level"
                            " FROM kpi_score WHERE kpi IN ('TF.1.1', 'TF.8.1')"
                            " ORDER BY kpi"
                        )
                    )
                ).all()
                counts = (
                    await connection.execute(
                        sa.text(
                            "SELECT (SELECT count(*) FROM kpi_score),"
                            " (SELECT count(*) FROM outcome_score),"
                            " (SELECT count(*) FROM dimension_score)"
                        )
                    )
                ).one()
        finally:
            await asyncio.to_thread(command.upgrade, config, "head")
    finally:
        await engine.dispose()

    assert [tuple(row) for row in kpi] == [
        ("TF.1.1", "TF.1", "computed", "98.10", Decimal("98.10"), "4"),
        ("TF.8.1", "TF.8", "opted_out", None, None, "n/a"),
    ]
    assert tuple(counts) == (51, 23, 4)


async def _store_calculation(
    engine: AsyncEngine, event: SubmissionSubmitted, document: str
) -> None:
    row = {
        "submission_id": event.submission_id,
        "revision": event.revision,
        "member": event.member.code,
        "cycle_id": event.cycle.cycle_id,
        "year": event.cycle.reporting_year,
        "at": datetime.now(UTC),
    }
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO submitted_revision (submission_id, revision, member,"
                " cycle_id, reporting_year, framework_code, framework_version,"
                " submitted_at, event_id, payload) VALUES (:submission_id,"
                " :revision, :member, :cycle_id, :year, 'PMM', '1.0.0', :at,"
                " :event_id, '{}')"
            ),
            {**row, "event_id": uuid.uuid4()},
        )
        await connection.execute(
            sa.text(
                "INSERT INTO calculation (id, submission_id, revision, member,"
                " cycle_id, reporting_year, trigger, framework_code,"
                " framework_version, framework_sha256, library_version,"
                " inputs_sha256, blocking_findings, computed_at, assessment)"
                " VALUES (:id, :submission_id, :revision, :member, :cycle_id,"
                " :year, 'submitted', 'PMM', '1.0.0', '', '', '', 0, :at,"
                " :assessment)"
            ),
            {**row, "id": uuid.uuid4(), "assessment": document},
        )
