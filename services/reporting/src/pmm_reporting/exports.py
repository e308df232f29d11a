"""Benchmark tables as CSV and XLSX.

Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return as a formula. CSV has no cell types, so such text is written there with a
leading apostrophe; XLSX has them, so the text is kept exactly as it is, in a text
cell that a spreadsheet shows and never evaluates. Numbers are never text: -5 stays
the number -5 (in CSV an unquoted number, in XLSX a numeric cell).
"""

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from openpyxl import Workbook

from pmm_reporting.schemas import CellOut

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CELL_COLUMNS = (
    "kpi",
    "grouping",
    "group",
    "suppressed",
    "suppression_reason",
    "order_statistics_withheld",
    "n",
    "mean",
    "median",
    "q1",
    "q3",
    "minimum",
    "maximum",
)

Cell = str | int | Decimal | bool | None


def safe_text(text: str) -> str:
    """Text a spreadsheet opening a CSV file will show, never evaluate."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def _csv_field(value: Cell) -> str | int | Decimal:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return value
    return safe_text(value)


def cell_rows(cells: Iterable[CellOut]) -> list[list[Cell]]:
    return [
        [
            cell.kpi,
            cell.grouping,
            cell.group,
            cell.suppressed,
            cell.suppression_reason,
            cell.order_statistics_withheld,
            cell.n,
            cell.mean,
            cell.median,
            cell.q1,
            cell.q3,
            cell.minimum,
            cell.maximum,
        ]
        for cell in cells
    ]


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(name) for name in header])
    for row in rows:
        writer.writerow([_csv_field(value) for value in row])
    return buffer.getvalue()


def to_xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                # openpyxl takes a string starting with `=` for a formula: the
                # cell's type says it is text, and text is never evaluated.
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
