"""What the submission tests share: a clean, started service and a few builders."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from pmm_kit.auth import Role
from pmm_local.testing import RunningService, ServiceStarter, truncate_schema
from pmm_methodology import DataElement, reference_framework
from pmm_submission.main import create_app
from pmm_submission.registry import load_registry
from pmm_submission.settings import SubmissionSettings

SCHEMA = "submission"
T = 2024


def complete_answers(year: int = T) -> list[dict[str, Any]]:
    """Every data element of the reference framework for T and T-1, consistent
    with its rules (parts equal their totals), so that a submit is accepted."""
    answers = []
    for element in reference_framework().data_elements:
        for when in (year, year - 1):
            answers.append(
                {"data_element": element.code, "year": when, "value": _sample(element)}
            )
    return answers


def _sample(element: DataElement) -> Any:
    kind = element.type.value
    if kind == "boolean":
        return True
    if kind == "enum":
        return element.allowed[-1]
    if kind in ("duration", "percent"):
        return "10"
    return "100"


async def empty_schema(url: str) -> None:
    await truncate_schema(url, SCHEMA)


@asynccontextmanager
async def clean_service(
    run_service: ServiceStarter, url: str, nats_url: str, **overrides: Any
) -> AsyncIterator[RunningService]:
    """The service on an emptied schema, the member registry as shipped."""
    await reset_schema(url)
    async with run_service(
        create_app, SubmissionSettings, url, nats_url, **overrides
    ) as service:
        async with service.runtime.unit_of_work() as uow:
            await load_registry(uow.session)
            await uow.commit()
        yield service


async def reset_schema(url: str) -> None:
    # Emptying every table but the registry keeps each test's start fast; the
    # registry's own tests empty it too.
    connection = await asyncpg.connect(
        make_url(url).render_as_string(hide_password=False)
    )
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1"
            " AND tablename NOT IN ('alembic_version', 'members')",
            SCHEMA,
        )
        names = ", ".join(f'{SCHEMA}."{row["tablename"]}"' for row in tables)
        await connection.execute(f"TRUNCATE {names} RESTART IDENTITY")
        await connection.execute(
            "UPDATE submission.members SET administration_type = NULL,"
            " geography = NULL, version = 1"
        )
    finally:
        await connection.close()


async def open_cycle(
    service: RunningService, code: str = "PMM-2025", year: int = T
) -> str:
    secretariat = service.token(Role.SECRETARIAT)
    created = await service.client.post(
        "/cycles",
        json={
            "code": code,
            "reporting_year": year,
            "framework_code": "PMM",
            "framework_version": "1.0.0",
            "window_opens": f"{year + 1}-12-01",
            "window_closes": f"{year + 2}-03-31",
        },
        headers=secretariat,
    )
    assert created.status_code == 201, created.text
    cycle_id: str = created.json()["id"]
    opened = await service.client.post(f"/cycles/{cycle_id}/open", headers=secretariat)
    assert opened.status_code == 200, opened.text
    return cycle_id


def problem_of(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = json.loads(response.content)
    return body
