"""Feed files into rows: JSON, CSV (UTF-8, BOM or not, `,` or `;`) and XLSX.

Nothing here interprets a figure through a float: CSV and JSON numbers stay text or
Decimal, and an XLSX number is taken from the cell's value (scaled by 100 where the
cell's number format is a percentage), never from the text a spreadsheet displays.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from pmm_kit.text import MESSAGES, json_may_hold_faults, shown, text_fault
from pmm_submission.deps import exact_json
from pmm_submission.domain import nfc
from pmm_submission.errors import (
    InvalidInputError,
    UnreadableFeedError,
    UnsupportedFeedError,
)

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


def _text_refusal(fields: dict[str, Any]) -> RowRefusal | None:
    """A row naming a column, or holding a cell, with text no service can keep
    (`pmm_kit.text`): refused whole, since nothing else in it can be echoed."""
    for name, cell in fields.items():
        rule = text_fault(name)
        if rule is not None:
            return RowRefusal(shown(name), rule, f"the column's name: {MESSAGES[rule]}")
        rule = text_fault(cell) if isinstance(cell, str) else None
        if rule is not None:
            return RowRefusal(name, rule, MESSAGES[rule])
    return None


def _json_rows(body: bytes) -> list[RawRow]:
    try:
        document = exact_json(body)
    except RecursionError:
        raise UnreadableFeedError(
            "the JSON body is nested deeper than any feed is: a feed is "
            '{"rows": [{...}, ...]}',
            errors=[{"row": None, "column": None, "rule": "json.depth"}],
        ) from None
    except ValueError as error:
        raise _refuse("json.invalid", f"the body is not JSON: {error}") from None
    if not isinstance(document, dict) or set(document) != {"rows"}:
        raise _refuse("json.shape", 'a JSON feed is {"rows": [...]} and nothing else')
    rows = document["rows"]
    if not isinstance(rows, list):
        raise _refuse("json.shape", "`rows` must be a list")

    may_hold_faults = json_may_hold_faults(body)
    parsed = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise _refuse("json.row", "each row must be an object", row=number)
        fields = {k: _text(v) for k, v in row.items()}
        refusal = _text_refusal(fields) if may_hold_faults else None
        parsed.append(RawRow(number, fields, refusal))
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
    # UTF-8 holds no lone surrogate; only a NUL needs looking for, row by row.
    may_hold_nul = "\x00" in text
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
            refusal = _text_refusal(fields) if may_hold_nul else None
            rows.append(RawRow(number, fields, refusal))
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
    unknown = [shown(name) for name in header if name not in COLUMNS]
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
        formulas = _formula_cells(body)

        rows = []
        for number, cells in enumerate(lines, start=2):
            fields = {
                name: _cell_value(cell)
                for name, cell in zip(header, cells, strict=False)
                if cell.value is not None and cell.value != ""
            }
            refusal = (
                _beyond_header(cells, len(header), number)
                or _unstored_formula(cells, header, number, formulas)
                or _text_refusal(fields)
            )
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


# A formula element in a worksheet's XML, whatever its namespace prefix.
_FORMULA_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_SCAN_CHUNK = 1 << 20


def _formula_cells(body: bytes) -> frozenset[tuple[int, int]]:
    """The (row, column) of every formula cell of the first sheet.

    Read with cached results, a formula whose file stores none (one a program
    wrote, never opened in a spreadsheet) looks like an empty cell; it is found by
    reading the sheet a second time for its formulas, and only when some sheet of
    the workbook holds one at all."""
    if not _holds_formulas(body):
        return frozenset()
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    try:
        return frozenset(
            (number, column)
            for number, cells in enumerate(workbook.worksheets[0].iter_rows(), 1)
            for column, cell in enumerate(cells, 1)
            if cell.data_type == "f"
        )
    finally:
        workbook.close()


def _holds_formulas(body: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for name in archive.namelist():
            if not name.startswith("xl/worksheets/"):
                continue
            with archive.open(name) as part:
                tail = b""
                while chunk := part.read(_SCAN_CHUNK):
                    if _FORMULA_ELEMENT.search(tail + chunk):
                        return True
                    tail = chunk[-32:]
    return False


def _unstored_formula(
    cells: Any, header: list[str], number: int, formulas: frozenset[tuple[int, int]]
) -> RowRefusal | None:
    """A formula cell under a header whose file stores no result for it: what the
    author meant is unknown, and an empty cell would read as no value at all."""
    if not formulas:
        return None
    for offset, (name, cell) in enumerate(zip(header, cells, strict=False), 1):
        if cell.value is None and (number, offset) in formulas:
            return RowRefusal(
                name,
                "cell.formula_without_result",
                f"cell {get_column_letter(offset)}{number} holds a formula with no "
                "stored result: "
                "save the file in a spreadsheet program (which computes it), or "
                "write the value itself",
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
