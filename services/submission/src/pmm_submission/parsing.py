"""Feed files into rows: JSON, CSV (UTF-8, BOM or not, `,` or `;`) and XLSX.

Nothing here interprets a figure through a float: CSV and JSON numbers stay text or
Decimal, and an XLSX number is taken from the cell's value (scaled by 100 where the
cell's number format is a percentage), never from the text a spreadsheet displays.
"""

import csv
import io
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from pmm_submission.deps import exact_json
from pmm_submission.domain import nfc
from pmm_submission.errors import InvalidInputError, UnsupportedFeedError

COLUMNS = frozenset(
    {
        "member",
        "cycle",
        "data_element",
        "name",
        "year",
        "value",
        "state",
        "reason",
        "scale",
        "unit",
        "restatement_reason",
    }
)

JSON_TYPES = frozenset({"application/json"})
CSV_TYPES = frozenset({"text/csv", "application/csv"})
XLSX_TYPES = frozenset(
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
)


@dataclass(frozen=True)
class RowRefusal:
    """Why a row is rejected before its fields are read (its column, rule, message)."""

    column: str
    rule: str
    message: str


@dataclass(frozen=True)
class RawRow:
    """A row as the file gave it; `number` counts from 1 with the header as row 1
    (CSV, XLSX) or from 1 for the first object (JSON)."""

    number: int
    fields: dict[str, Any]
    refusal: RowRefusal | None = None


def parse_feed(
    body: bytes, content_type: str, *, delimiter: str | None
) -> list[RawRow]:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in JSON_TYPES:
        return _json_rows(body)
    if media_type in CSV_TYPES:
        return _csv_rows(body, delimiter)
    if media_type in XLSX_TYPES:
        return _xlsx_rows(body)
    raise UnsupportedFeedError(
        f"'{media_type}' is not a feed format: send text/csv, application/json or "
        "an XLSX workbook"
    )


def _refuse(rule: str, message: str, *, row: int | None = None) -> InvalidInputError:
    return InvalidInputError(
        message, errors=[{"row": row, "column": None, "rule": rule, "message": message}]
    )


def _json_rows(body: bytes) -> list[RawRow]:
    try:
        document = exact_json(body)
    except ValueError as error:
        raise _refuse("json.invalid", f"the body is not JSON: {error}") from None
    if not isinstance(document, dict) or set(document) != {"rows"}:
        raise _refuse("json.shape", 'a JSON feed is {"rows": [...]} and nothing else')
    rows = document["rows"]
    if not isinstance(rows, list):
        raise _refuse("json.shape", "`rows` must be a list")

    parsed = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise _refuse("json.row", "each row must be an object", row=number)
        parsed.append(RawRow(number, {k: _text(v) for k, v in row.items()}))
    return parsed


def _text(value: Any) -> Any:
    return nfc(value) if isinstance(value, str) else value


def _csv_rows(body: bytes, delimiter: str | None) -> list[RawRow]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _refuse(
            "encoding.utf8", f"a CSV feed is UTF-8: byte {error.start} is not"
        ) from None
    text = nfc(text)
    first_line = text.split("\n", 1)[0]
    separator = delimiter or (
        ";" if first_line.count(";") > first_line.count(",") else ","
    )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise _refuse("csv.empty", "the CSV feed has no header row") from None
    except csv.Error as error:
        raise _csv_syntax(error, 1) from None
    _check_header(header)

    rows: list[RawRow] = []
    number = 1
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cells):
                continue
            if len(cells) != len(header):
                raise _refuse(
                    "csv.cells",
                    f"row {number} has {len(cells)} cells; the header has "
                    f"{len(header)}",
                    row=number,
                )
            # Cells are stripped where they are read: most are clean, and skipping
            # a strip per cell is a good part of reading 100,000 rows fast.
            fields = {
                name: cell for name, cell in zip(header, cells, strict=True) if cell
            }
            rows.append(RawRow(number, fields))
    except csv.Error as error:
        # The reader failed on the row after the last one it gave.
        raise _csv_syntax(error, number + 1) from None
    return rows


def _csv_syntax(error: csv.Error, row: int) -> InvalidInputError:
    """A row the CSV reader cannot split: the rows after it cannot be trusted."""
    reason = str(error)
    if "field larger than field limit" in reason:
        message = (
            f"row {row} has a cell longer than {csv.field_size_limit()} characters"
        )
        return _refuse("csv.cell_too_long", message, row=row)
    message = (
        f"row {row} is not valid CSV ({reason}): a quoted cell ends with a quote "
        'followed by the separator, and a quote inside it is written twice ("")'
    )
    return _refuse("csv.quoting", message, row=row)


def _check_header(header: list[str]) -> None:
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise InvalidInputError(
            f"unknown column(s): {', '.join(unknown)}",
            errors=[
                {
                    "row": 1,
                    "column": name,
                    "rule": "column.unknown",
                    "message": "unknown column",
                }
                for name in unknown
            ],
        )
    if len(set(header)) != len(header):
        raise _refuse("column.duplicate", "a column is named twice", row=1)


def _xlsx_rows(body: bytes) -> list[RawRow]:
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(body), read_only=True, data_only=True
        )
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise _refuse(
            "xlsx.invalid", f"not a readable XLSX workbook: {type(error).__name__}"
        ) from None
    try:
        sheet = workbook.worksheets[0]
        lines = sheet.iter_rows()
        header_cells = next(lines, None)
        if header_cells is None:
            raise _refuse("xlsx.empty", "the first sheet has no header row")
        header = [
            str(cell.value).strip() if cell.value is not None else ""
            for cell in header_cells
        ]
        while header and header[-1] == "":
            header.pop()
        _check_header(header)

        rows = []
        for number, cells in enumerate(lines, start=2):
            fields = {
                name: _cell_value(cell)
                for name, cell in zip(header, cells, strict=False)
                if cell.value is not None and cell.value != ""
            }
            refusal = _beyond_header(cells, len(header), number)
            if fields or refusal:
                rows.append(RawRow(number, fields, refusal))
        return rows
    finally:
        workbook.close()


def _beyond_header(cells: Any, width: int, number: int) -> RowRefusal | None:
    """A value in a column without a header: the row says more than it can."""
    for offset, cell in enumerate(cells[width:], start=width + 1):
        if cell.value is not None and cell.value != "":
            column = get_column_letter(offset)
            return RowRefusal(
                column,
                "cell.beyond_header",
                f"cell {column}{number} holds a value but column {column} has no "
                "header",
            )
    return None


# Wide enough that moving the decimal point of any cell's number never rounds it.
_EXACT = Context(prec=400)


def _cell_value(cell: Any) -> Any:
    value = cell.value
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        # The stored double's shortest repr is what the author typed (up to 15 digits).
        number = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
        if "%" in (cell.number_format or ""):
            # A percent cell holds the share (0.125 for 12.5 %, 1 for 100 %).
            number = number.scaleb(2, _EXACT)
        return number
    if isinstance(value, str):
        return nfc(value.strip())
    return str(value)
