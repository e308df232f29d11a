"""A published report as a public HTML page and as a PDF with charts, both drawn
from the snapshot's figures alone, so they show exactly what was published."""

from collections import defaultdict
from functools import cache
from io import BytesIO
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from pmm_reporting.charts import distribution_by_region
from pmm_reporting.schemas import CellOut

STATISTICS = ("n", "mean", "median", "q1", "q3", "minimum", "maximum")
# An order statistic of a cell with values not made public is left out.
WITHHELD = "\N{EN DASH}"


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("pmm_reporting", "templates"),
        autoescape=select_autoescape(["html"]),
    )


def snapshot_cells(snapshot: dict[str, Any]) -> dict[str, list[CellOut]]:
    """The benchmark cells of a snapshot, per KPI."""
    cells: dict[str, list[CellOut]] = defaultdict(list)
    for figure, data in snapshot["figures"].items():
        kind, *path = figure.split("/", 3)
        if kind != "benchmark":
            continue
        kpi, grouping, group = path
        cells[kpi].append(
            CellOut(
                kpi=kpi,
                grouping=grouping,
                group=group,
                suppressed=data["suppression_reason"] is not None,
                **data,
            )
        )
    return dict(sorted(cells.items()))


def _figure_text(cell: CellOut, name: str) -> str:
    if cell.suppressed:
        return "suppressed"
    value = getattr(cell, name)
    return WITHHELD if value is None else str(value)


def report_html(snapshot: dict[str, Any], units: dict[str, str]) -> str:
    template = _templates().get_template("report.html")
    return template.render(
        snapshot=snapshot,
        cells=snapshot_cells(snapshot),
        units=units,
        statistics=STATISTICS,
        withheld=WITHHELD,
    )


def report_pdf(
    snapshot: dict[str, Any], units: dict[str, str], chart_kpis: int = 6
) -> bytes:
    styles = getSampleStyleSheet()
    cycle = snapshot["cycle"]
    story: list[Any] = [
        Paragraph(
            f"PMM report, cycle {cycle['code'] or cycle['cycle_id']}", styles["Title"]
        ),
        Paragraph(
            f"Reporting year {cycle['reporting_year']}; framework "
            f"{cycle['framework_code']} {cycle['framework_version']}; published "
            f"{snapshot['published_at']}. Cells with fewer than "
            f"{snapshot['suppression']['min_contributors']} administrations, "
            "dominated by one, or that would let a value not made public be worked "
            "out are suppressed; medians, quartiles and ranges are shown only where "
            "every value is public.",
            styles["Normal"],
        ),
        Spacer(1, 0.5 * cm),
    ]
    cells = snapshot_cells(snapshot)
    rows: list[list[str]] = [["KPI", "group", *STATISTICS]]
    for kpi, kpi_cells in cells.items():
        for cell in kpi_cells:
            if cell.grouping != "all":
                continue
            figures = [_figure_text(cell, name) for name in STATISTICS]
            rows.append([kpi, "all", *figures])
    table = Table(rows, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 7),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ]
        )
    )
    story += [table, PageBreak()]
    for kpi in list(cells)[:chart_kpis]:
        png = distribution_by_region(kpi, units.get(kpi, ""), cells[kpi], "png")
        story += [
            Image(BytesIO(png), width=16 * cm, height=9 * cm),
            Spacer(1, 0.3 * cm),
        ]
    buffer = BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title="PMM report").build(story)
    return buffer.getvalue()
