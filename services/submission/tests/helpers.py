"""What the submission tests share: a clean, started service and a few builders."""

import io
import json
import zipfile
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
import openpyxl
from sqlalchemy.engine import make_url

from pmm_kit.auth import Role
from pmm_local.testing import RunningService, ServiceStarter, truncate_schema
from pmm_methodology import DataElement, reference_framework
from pmm_submission.main import create_app
from pmm_submission.registry import load_registry
from pmm_submission.settings import SubmissionSettings

SCHEMA = "submission"
T = 2024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FEED_HEADER = ("cycle", "data_element", "year", "value")
SHEET = "xl/worksheets/sheet1.xml"

ServiceToStart = AbstractAsyncContextManager[RunningService]


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


def cycle_body(code: str, *, year: int = T, **fields: Any) -> dict[str, Any]:
    """A cycle of the reference framework as the secretariat creates it, its
    window the winter after the reporting year; `fields` replace any of it."""
    return {
        "code": code,
        "reporting_year": year,
        "framework_code": "PMM",
        "framework_version": "1.0.0",
        "window_opens": f"{year + 1}-12-01",
        "window_closes": f"{year + 2}-03-31",
        **fields,
    }


async def draft_cycle(service: RunningService, code: str, **fields: Any) -> str:
    created = await service.client.post(
        "/cycles",
        json=cycle_body(code, **fields),
        headers=service.token(Role.SECRETARIAT),
    )
    assert created.status_code == 201, created.text
    cycle_id: str = created.json()["id"]
    return cycle_id


async def open_cycle(
    service: RunningService, code: str = "PMM-2025", year: int = T
) -> str:
    cycle_id = await draft_cycle(service, code, year=year)
    opened = await service.client.post(
        f"/cycles/{cycle_id}/open", headers=service.token(Role.SECRETARIAT)
    )
    assert opened.status_code == 200, opened.text
    return cycle_id


def problem_of(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = json.loads(response.content)
    return body


def workbook(
    rows: Iterable[Sequence[Any]],
    *,
    header: Sequence[str] = FEED_HEADER,
    number_formats: Mapping[str, str] | None = None,
) -> bytes:
    """An XLSX feed of one sheet, as openpyxl saves it. A number format (by cell,
    such as "D2": "0%") changes what a spreadsheet shows, never the value."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for cell, number_format in (number_formats or {}).items():
        sheet[cell].number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_part(body: bytes, part_name: str, change: Callable[[bytes], bytes]) -> bytes:
    """The workbook with one part of its archive rewritten by `change`; every
    part keeps its compression, so a deflated part stays small in the ZIP."""
    source = zipfile.ZipFile(io.BytesIO(body))
    assert part_name in source.namelist()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename == part_name:
                part = change(part)
            target.writestr(item, part)
    return buffer.getvalue()


def replacing(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    """A change for `with_part`: `old`, which the part must hold, becomes `new`."""

    def change(part: bytes) -> bytes:
        assert old in part
        return part.replace(old, new)

    return change


def with_shared_strings(body: bytes, part: bytes) -> bytes:
    """The workbook with `part` as its shared strings (openpyxl writes none: its
    text cells are inline), the sheet's cells unchanged."""
    relationship = (
        b'<Relationship Id="rIdShared" Target="sharedStrings.xml" Type="http://'
        b'schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"'
        b" /></Relationships>"
    )
    body = with_part(
        body,
        "xl/_rels/workbook.xml.rels",
        replacing(b"</Relationships>", relationship),
    )
    buffer = io.BytesIO(body)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", part)
    return buffer.getvalue()
