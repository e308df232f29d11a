"""Exports: CSV safe against formula injection with numbers kept numbers, XLSX cell
values, charts as SVG and PNG, the PDF report and the public HTML page (checked in
headless Chromium where one is installed)."""

import asyncio
import base64
import contextlib
import csv
import io
import re
import shutil
import socket
import struct
import zlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from openpyxl import load_workbook

from pmm_kit.contracts.common import DisclosureLevel

from .helpers import (
    ServiceToStart,
    attributes,
    cycle_opened,
    cycle_ref,
    participation,
    publish_and_wait,
    publish_report,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CYCLE = cycle_ref(2024)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Group names are what members' attributes say: text a spreadsheet would run.
HOSTILE_REGION = "=1+1"
HOSTILE_TYPE = "@x"


def _alcohol_variation(percent: int) -> dict[tuple[str, int], Any]:
    """Data giving ES.2.1 (variation in alcohol seizures) exactly `percent` %."""
    return {
        ("ALCOHOL_SEIZURES", 2023): Decimal(1000),
        ("ALCOHOL_SEIZURES", 2024): Decimal(1000 + 10 * percent),
    }


async def _seed(s: Any) -> None:
    events: list[Any] = [cycle_opened(CYCLE)]
    for seed, (code, percent) in enumerate((("FRA", -5), ("DEU", 10), ("ITA", 20))):
        member = attributes(code, region=HOSTILE_REGION, administration=HOSTILE_TYPE)
        events += participation(
            CYCLE,
            member,
            _alcohol_variation(percent),
            seed=seed,
            disclosure={"ES.2.1": DisclosureLevel.PUBLIC},
        )
    await publish_and_wait(s, events)
    await publish_report(s)


@pytest.fixture
async def reporting(reporting_service: ServiceToStart) -> AsyncIterator[Any]:
    async with reporting_service as s:
        await _seed(s)
        yield s


async def test_a_csv_export_opens_safely_and_keeps_negative_numbers(
    reporting: Any,
) -> None:
    response = await reporting.client.get("/cycles/cycle-2024/benchmarks.csv")

    rows = list(csv.DictReader(io.StringIO(response.text)))
    region = next(
        r for r in rows if r["kpi"] == "ES.2.1" and r["grouping"] == "wco_region"
    )
    kind = next(
        r
        for r in rows
        if r["kpi"] == "ES.2.1" and r["grouping"] == "administration_type"
    )
    raw_line = next(
        line for line in response.text.splitlines() if "ES.2.1,wco_region" in line
    )
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert region["group"] == "'=1+1"
    assert kind["group"] == "'@x"
    assert region["minimum"] == "-5.00"
    assert ",-5.00," in raw_line
    assert region["mean"] == "8.3333"


async def test_an_xlsx_export_keeps_text_as_written_in_text_cells(
    reporting: Any,
) -> None:
    response = await reporting.client.get("/cycles/cycle-2024/benchmarks.xlsx")

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    region = next(
        line
        for line in sheet.iter_rows(min_row=2)
        if (line[0].value, line[1].value) == ("ES.2.1", "wco_region")
    )
    kind = next(
        line
        for line in sheet.iter_rows(min_row=2)
        if (line[0].value, line[1].value) == ("ES.2.1", "administration_type")
    )
    group, minimum = region[header.index("group")], region[header.index("minimum")]
    # Text as the member's attributes say it, no apostrophe: a text cell (type
    # "s") is shown and never evaluated, where "f" would be a formula.
    assert (group.value, group.data_type) == ("=1+1", "s")
    assert (
        kind[header.index("group")].value,
        kind[header.index("group")].data_type,
    ) == (
        "@x",
        "s",
    )
    assert (minimum.value, minimum.data_type) == (-5, "n")
    assert region[header.index("n")].value == 3


def _texts(svg: str) -> list[str]:
    """The texts of a matplotlib SVG (drawn as paths, each named in a comment)."""
    return re.findall(r"<!-- (.*?) -->", svg)


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return width, height


async def test_charts_show_released_figures_and_leave_withheld_ones_out(
    reporting: Any,
) -> None:
    cycle = cycle_ref(2024, "cycle-charts")
    events: list[Any] = [cycle_opened(cycle)]
    for seed, (code, percent, level) in enumerate(
        (
            ("FRA", -5, DisclosureLevel.PUBLIC),
            ("DEU", 10, DisclosureLevel.PUBLIC),
            ("ITA", 20, DisclosureLevel.PUBLIC),
            ("ESP", 30, DisclosureLevel.RESTRICTED),
            ("PRT", 40, DisclosureLevel.RESTRICTED),
            ("GRC", 50, DisclosureLevel.RESTRICTED),
        )
    ):
        events += participation(
            cycle,
            attributes(code),
            _alcohol_variation(percent),
            seed=seed,
            disclosure={"ES.2.1": level},
        )
    await publish_and_wait(reporting, events)
    await publish_report(reporting, cycle)
    client, secretariat = reporting.client, reporting.token("secretariat")
    base = "/cycles/cycle-charts"

    png = await client.get(f"{base}/kpis/ES.2.1/distribution.png")
    by_region = await client.get(f"{base}/kpis/ES.2.1/distribution.svg")
    by_region_in_full = await client.get(
        f"{base}/kpis/ES.2.1/distribution.svg", headers=secretariat
    )
    spain = await client.get(f"{base}/members/ESP/kpis/ES.2.1/peers.svg")
    spain_own = await client.get(
        f"{base}/members/ESP/kpis/ES.2.1/peers.svg",
        headers=reporting.token("ncp", "ESP"),
    )
    france = await client.get(f"{base}/members/FRA/kpis/ES.2.1/peers.svg")
    france_in_full = await client.get(
        f"{base}/members/FRA/kpis/ES.2.1/peers.svg", headers=secretariat
    )

    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert _png_size(png.content) == (800, 450)
    # Three values are restricted: the public gets Europe's mean but no order
    # statistics, which are members' values.
    assert "ES.2.1 by WCO region (1 not shown)" in _texts(by_region.text)
    assert "ES.2.1 by WCO region" in _texts(by_region_in_full.text)
    assert {"Europe", "(n=6)"} <= set(_texts(by_region_in_full.text))
    assert spain.headers["content-type"] == "image/svg+xml"
    assert "ESP" not in _texts(spain.text)
    assert "30.00" not in _texts(spain.text)
    assert {"ESP", "30.00"} <= set(_texts(spain_own.text))
    assert {"FRA", "-5.00"} <= set(_texts(france.text))
    assert "all: all" not in _texts(france.text)
    # The Secretariat gets the medians: -5, 10, 20, 30, 40 and 50 have 25 between
    # the middle two.
    assert {"FRA", "-5.00", "all: all", "25.0000"} <= set(_texts(france_in_full.text))


async def test_a_published_report_comes_as_pdf_and_html(
    reporting: Any, tmp_path: Path
) -> None:
    published = await reporting.client.post(
        "/cycles/cycle-2024/reports", headers=reporting.token("secretariat")
    )
    report_id = published.json()["report_id"]

    pdf = await reporting.client.get(f"/reports/{report_id}/report.pdf")
    page = await reporting.client.get(f"/reports/{report_id}/page")

    drawn = _pdf_text(pdf.content)
    assert pdf.content.startswith(b"%PDF")
    # The table of all-member benchmarks, then a page of charts at least.
    assert _pdf_pages(pdf.content) >= 2
    assert "(PMM report, cycle PMM-2024) Tj" in drawn
    assert "(8.3333) Tj" in drawn
    assert "(-5.00) Tj" in drawn
    assert "PMM report, cycle PMM-2024" in page.text
    assert 'data-kpi="ES.2.1"' in page.text
    assert "=1+1" in page.text
    assert "<td>8.3333</td>" in page.text
    assert "<td>-5.00</td>" in page.text


def _pdf_text(pdf: bytes) -> str:
    """The streams of a PDF as reportlab writes them (ASCII85, then deflated),
    decoded: pypdf is not a dependency."""
    streams = re.findall(rb"stream\r?\n(.*?)endstream", pdf, flags=re.DOTALL)
    texts = []
    for stream in streams:
        encoded = b"".join(stream.split()).removesuffix(b"~>")
        with contextlib.suppress(ValueError, zlib.error):
            texts.append(zlib.decompress(base64.a85decode(encoded)).decode("latin-1"))
    return "\n".join(texts)


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


@contextlib.asynccontextmanager
async def _served(app: Any) -> AsyncIterator[int]:
    """The app on a real local port (its lifespan already runs in the test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_config=None
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on this machine (CI installs Debian's chromium); "
    "`apt-get install -y chromium` to run this check",
)
async def test_the_public_page_renders_in_headless_chromium(
    reporting: Any, tmp_path: Path
) -> None:
    published = await reporting.client.post(
        "/cycles/cycle-2024/reports", headers=reporting.token("secretariat")
    )
    report_id = published.json()["report_id"]
    assert CHROMIUM is not None

    async with _served(reporting.app) as port:
        process = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--dump-dom",
            f"http://127.0.0.1:{port}/reports/{report_id}/page",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        dom, _ = await asyncio.wait_for(process.communicate(), timeout=60)

    text = dom.decode()
    assert process.returncode == 0
    assert '<h1 id="title">PMM report, cycle PMM-2024</h1>' in text
    assert 'data-grouping="wco_region" data-group="=1+1"' in text
    assert "8.3333" in text


async def test_the_instrument_and_sdg_views_list_kpis_with_their_results(
    reporting: Any,
) -> None:
    instruments = await reporting.client.get("/cycles/cycle-2024/instruments")
    targets = await reporting.client.get("/cycles/cycle-2024/sdg-targets")

    by_instrument = {t["code"]: t for t in instruments.json()["themes"]}
    by_target = {t["code"]: t for t in targets.json()["themes"]}
    safe = {k["code"]: k for k in by_instrument["SAFE"]["kpis"]}
    excise = {k["code"]: k for k in by_target["3.5"]["kpis"]}
    alcohol_cells = {c["grouping"]: c for c in excise["ES.2.1"]["cells"]}
    assert set(safe) == {"TF.2.1", "TF.2.2", "TF.2.3", "ES.4.1", "ES.4.2"}
    assert by_instrument["RKC"]["name"].startswith("Revised Kyoto")
    assert list(by_target)[:2] == ["3.5", "3.a"]
    assert alcohol_cells["all"]["n"] == 3
    assert alcohol_cells["all"]["minimum"] == "-5.00"
