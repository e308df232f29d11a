"""Feed files into rows: JSON, CSV (UTF-8, BOM or not, `,` or `;`) and XLSX.

Nothing here interprets a figure through a float: CSV and JSON numbers stay text or
Decimal, and an XLSX number is taken from the cell's value (scaled by 100 where the
cell's number format is a percentage), never from the text a spreadsheet displays.
"""

import csv
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain
from typing import Any

from openpyxl.utils import get_column_letter

from pmm_kit.exact_json import JsonObject, decode_at, exact_decoder, json_object
from pmm_kit.text import MESSAGES, json_may_hold_faults, shown, text_fault
from pmm_submission.domain import nfc
from pmm_submission.errors import (
    FeedTooLargeError,
    InvalidInputError,
    UnreadableFeedError,
    UnsupportedFeedError,
)
from pmm_submission.xlsx import (
    Scalar,
    SheetCell,
    SheetError,
    SheetRow,
    first_sheet_rows,
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
    body: bytes, content_type: str, *, delimiter: str | None, max_rows: int
) -> list[RawRow]:
    """The feed's rows, or a refusal as soon as it is found: a feed of more than
    `max_rows` rows is refused at the row past the limit, unread beyond it."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in JSON_TYPES:
        return _json_rows(body, max_rows)
    if media_type in CSV_TYPES:
        return _csv_rows(body, delimiter, max_rows)
    if media_type in XLSX_TYPES:
        return _xlsx_rows(body, max_rows)
    raise UnsupportedFeedError(
        f"'{media_type}' is not a feed format: send text/csv, application/json or "
        "an XLSX workbook"
    )


def _check_count(rows: int, max_rows: int) -> None:
    if rows > max_rows:
        raise FeedTooLargeError(
            f"a feed may have at most {max_rows} rows; this one has more",
            limit=max_rows,
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


_JSON_SPACE = "[ \t\n\r]*"
_ROWS_OPEN = re.compile(
    rf'{_JSON_SPACE}\{{{_JSON_SPACE}"rows"{_JSON_SPACE}:{_JSON_SPACE}\[{_JSON_SPACE}'
)
_ROWS_NEXT = re.compile(rf"{_JSON_SPACE}([,\]]){_JSON_SPACE}")
_ROWS_CLOSE = re.compile(rf"{_JSON_SPACE}\}}{_JSON_SPACE}")
# Longer integers are read as Decimal: Python refuses to read an int of over
# 4,300 digits, and a figure or a year never has 19.
_INT_DIGITS = 18


def _json_int(text: str) -> int | Decimal:
    return int(text) if len(text.lstrip("-")) <= _INT_DIGITS else Decimal(text)


_DECODER = exact_decoder(parse_int=_json_int, object_pairs_hook=json_object)


def _json_rows(body: bytes, max_rows: int) -> list[RawRow]:
    """Rows decoded one by one from `{"rows": [`, so that a feed past the limit is
    refused at the row past it. A body of another shape is decoded whole, to say
    what is wrong with it."""
    try:
        text = body.decode(json.detect_encoding(body), "surrogatepass")
    except ValueError as error:
        raise _refuse("json.invalid", f"the body is not JSON: {error}") from None
    opening = _ROWS_OPEN.match(text)
    if opening is None:
        return _json_document_rows(text, max_rows)

    may_hold_faults = json_may_hold_faults(body)
    rows: list[RawRow] = []
    position = opening.end()
    if text.startswith("]", position):
        position += 1
    else:
        while True:
            row, position = _json_value(text, position)
            rows.append(_json_row(len(rows) + 1, row, may_hold_faults))
            _check_count(len(rows), max_rows)
            separator = _ROWS_NEXT.match(text, position)
            if separator is None:
                return _json_document_rows(text, max_rows)
            position = separator.end()
            if separator.group(1) == "]":
                break
    if not _ROWS_CLOSE.fullmatch(text, position):
        return _json_document_rows(text, max_rows)
    return rows


def _json_document_rows(text: str, max_rows: int) -> list[RawRow]:
    document, end = _json_value(text, len(text) - len(text.lstrip(" \t\n\r")))
    if text[end:].strip(" \t\n\r"):
        error = json.JSONDecodeError("Extra data", text, end)
        raise _refuse("json.invalid", f"the body is not JSON: {error}")
    if isinstance(document, JsonObject) and document.repeated is not None:
        key = shown(document.repeated)
        raise _refuse("json.shape", f"the key {key} is given twice")
    if not isinstance(document, dict) or set(document) != {"rows"}:
        raise _refuse("json.shape", 'a JSON feed is {"rows": [...]} and nothing else')
    rows = document["rows"]
    if not isinstance(rows, list):
        raise _refuse("json.shape", "`rows` must be a list")
    _check_count(len(rows), max_rows)

    may_hold_faults = json_may_hold_faults(text.encode("utf-8", "surrogatepass"))
    return [
        _json_row(number, row, may_hold_faults)
        for number, row in enumerate(rows, start=1)
    ]


def _json_value(text: str, position: int) -> tuple[Any, int]:
    """The JSON value at `position` with every number exact, and where it ends."""
    try:
        return decode_at(_DECODER, text, position)
    except RecursionError:
        raise UnreadableFeedError(
            "the JSON body is nested deeper than any feed is: a feed is "
            '{"rows": [{...}, ...]}',
            errors=[{"row": None, "column": None, "rule": "json.depth"}],
        ) from None
    except json.JSONDecodeError as error:
        raise _refuse("json.invalid", f"the body is not JSON: {error}") from None


def _json_row(number: int, row: Any, may_hold_faults: bool) -> RawRow:
    if not isinstance(row, dict):
        raise _refuse("json.row", "each row must be an object", row=number)
    fields = {k: _text(v) for k, v in row.items()}
    refusal = _repeated_key(row) or (_text_refusal(fields) if may_hold_faults else None)
    return RawRow(number, fields, refusal)


def _repeated_key(row: dict[str, Any]) -> RowRefusal | None:
    if not isinstance(row, JsonObject) or row.repeated is None:
        return None

    column = shown(row.repeated)
    return RowRefusal(
        column, "row.duplicate_key", f"the row gives the column {column} twice"
    )


def _text(value: Any) -> Any:
    return nfc(value) if isinstance(value, str) else value


def _csv_rows(body: bytes, delimiter: str | None, max_rows: int) -> list[RawRow]:
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
    # A spreadsheet program writes a separator after the last cell of every line
    # when a column beyond the data was ever touched: nameless, and empty.
    named = len(header)
    while named and not header[named - 1]:
        named -= 1
    header = header[:named]
    _check_header(header)

    rows: list[RawRow] = []
    number = 1
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cells):
                continue
            if len(cells) < len(header):
                raise _refuse(
                    "csv.cells",
                    f"row {number} has {len(cells)} cells; the header has "
                    f"{len(header)}",
                    row=number,
                )
            beyond = _csv_beyond_header(cells, len(header), number)
            # Cells are stripped where they are read: most are clean, and skipping
            # a strip per cell is a good part of reading 100,000 rows fast.
            # The cells past the header were checked just above.
            pairs = zip(header, cells, strict=False)
            fields = {name: cell for name, cell in pairs if cell}
            refusal = beyond or (_text_refusal(fields) if may_hold_nul else None)
            rows.append(RawRow(number, fields, refusal))
            _check_count(len(rows), max_rows)
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


def _csv_beyond_header(cells: list[str], width: int, number: int) -> RowRefusal | None:
    """A value in a cell after the last named column: the row says more than it
    can, as in an XLSX feed. Empty cells there are the spreadsheet's trailing
    separators."""
    for index in range(width, len(cells)):
        if cells[index].strip():
            return RowRefusal(
                f"column {index + 1}",
                "cell.beyond_header",
                f"cell {index + 1} of row {number} holds a value but the header "
                f"names {width} columns",
            )
    return None


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
    named = set()
    for name in header:
        if name in named:
            message = f"the column {shown(name)} is named twice"
            raise InvalidInputError(
                message,
                errors=[
                    {
                        "row": 1,
                        "column": shown(name),
                        "rule": "column.duplicate",
                        "message": message,
                    }
                ],
            )
        named.add(name)
    missing = [
        " or ".join(choice) for choice in _REQUIRED if not set(choice) & set(header)
    ]
    if missing:
        raise InvalidInputError(
            f"missing column(s): {', '.join(missing)}",
            errors=[
                {
                    "row": 1,
                    "column": choice.split(" or ")[0],
                    "rule": "column.missing",
                    "message": f"the header needs {choice}",
                }
                for choice in missing
            ],
        )


# Columns a row cannot do without, one of each group: a header lacking one says
# no row can be read (a value that is not provided has a state instead).
_REQUIRED = (("cycle",), ("data_element", "name"), ("year",), ("value", "state"))


def _xlsx_rows(body: bytes, max_rows: int) -> list[RawRow]:
    lines = first_sheet_rows(body)
    try:
        first = next(lines, None)
        if first is None:
            raise _refuse("xlsx.empty", "the first sheet has no header row")
        header = _xlsx_header(first)
        _check_header(header)

        rows: list[RawRow] = []
        for number, cells in lines if first[0] == 1 else chain([first], lines):
            fields = {
                header[column - 1]: _cell_value(cell.value)
                for column, cell in cells.items()
                if column <= len(header) and cell.value not in (None, "")
            }
            refusal = (
                _beyond_header(cells, len(header), number)
                or _unstored_formula(cells, header, number)
                or _text_refusal(fields)
            )
            if fields or refusal:
                rows.append(RawRow(number, fields, refusal))
                _check_count(len(rows), max_rows)
        return rows
    except SheetError as error:
        raise _refuse("xlsx.invalid", error.message, row=error.row) from None
    finally:
        lines.close()


def _xlsx_header(first: SheetRow) -> list[str]:
    """Row 1's names, a gap as an empty name; no names when the sheet has no row 1."""
    number, cells = first
    if number != 1 or not cells:
        return []
    header = [""] * max(cells)
    for column, cell in cells.items():
        header[column - 1] = "" if cell.value is None else str(cell.value).strip()
    while header and header[-1] == "":
        header.pop()
    return header


def _beyond_header(
    cells: dict[int, SheetCell], width: int, number: int
) -> RowRefusal | None:
    """A value in a column without a header: the row says more than it can."""
    for column in sorted(c for c in cells if c > width):
        if cells[column].value not in (None, ""):
            letter = get_column_letter(column)
            return RowRefusal(
                letter,
                "cell.beyond_header",
                f"cell {letter}{number} holds a value but column {letter} has no "
                "header",
            )
    return None


def _unstored_formula(
    cells: dict[int, SheetCell], header: list[str], number: int
) -> RowRefusal | None:
    """A formula cell under a header whose file stores no result for it: what the
    author meant is unknown, and an empty cell would read as no value at all."""
    for column in sorted(cells):
        if column <= len(header) and cells[column].formula_without_result:
            return RowRefusal(
                header[column - 1],
                "cell.formula_without_result",
                f"cell {get_column_letter(column)}{number} holds a formula with no "
                "stored result: "
                "save the file in a spreadsheet program (which computes it), or "
                "write the value itself",
            )
    return None


def _cell_value(value: Scalar) -> Any:
    if isinstance(value, str):
        return nfc(value.strip())
    return value
