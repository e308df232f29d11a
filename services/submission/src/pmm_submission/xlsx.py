"""The first sheet of an XLSX workbook, cell by cell, read from its XML as it streams.

A number is the text the file stores in the cell, read as an exact decimal: never
through a float, so that every digit written is kept (a float keeps 15 to 17). The
sheet is read whole whatever its `<dimension>` tag claims, and a part the file gets
wrong (a shared string, style or cell reference that does not exist, a number or a
date that is not one, broken XML or a broken archive) is a SheetError saying where.
"""

import io
import re
import zipfile
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from posixpath import dirname, join, normpath
from typing import IO, Literal
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import (
    CALENDAR_MAC_1904,
    CALENDAR_WINDOWS_1900,
    from_excel,
)

# Excel's own bounds: 1,048,576 rows and 16,384 columns (A to XFD).
MAX_ROW = 1_048_576
MAX_COLUMN = 16_384
# What a part may hold once inflated. A few kilobytes of ZIP can inflate to
# gigabytes; the sheet is streamed and stops at the row limit, but the shared
# strings and styles are held whole. A 250,000-row feed's sheet is about 60 MB.
MAX_SHEET_BYTES = 512 * 1024 * 1024
MAX_PART_BYTES = 32 * 1024 * 1024

Scalar = str | int | Decimal | bool


class SheetError(ValueError):
    """The workbook breaks the format; `row` is the sheet row it was met in."""

    def __init__(self, message: str, *, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row


@dataclass(frozen=True, slots=True)
class SheetCell:
    """A cell's value (None when empty) and whether it is a formula whose file
    stores no result (one a program wrote, never opened in a spreadsheet)."""

    value: Scalar | None
    formula_without_result: bool = False


SheetRow = tuple[int, dict[int, SheetCell]]


@dataclass(slots=True)
class _OpenRow:
    """A row being read: its number, depth in the sheet's XML, and cells so far."""

    number: int
    depth: int
    cells: dict[int, SheetCell] = field(default_factory=dict)
    last_column: int = 0


@dataclass(frozen=True)
class _Book:
    sheet_name: str
    sheet_path: str
    shared_strings: list[str]
    styles: list[str]  # per cell style: "percent", "date", "duration" or ""
    epoch: datetime


def first_sheet_rows(body: bytes) -> Generator[SheetRow, None, None]:
    """The first sheet's rows in order: (row number, cells by column from 1)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise SheetError("the body is not an XLSX workbook (a ZIP archive)") from None
    with archive:
        book = _read_book(archive)
        reader = _SheetReader(book)
        try:
            with _open(archive, book.sheet_path, MAX_SHEET_BYTES) as source:
                yield from reader.rows(source)
        except ParseError as error:
            line, column = error.position
            raise SheetError(
                f"sheet '{book.sheet_name}' is not well-formed XML (line {line}, "
                f"column {column}), after row {reader.last_row}",
                row=reader.last_row + 1,
            ) from None
        except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError):
            raise SheetError(
                f"sheet '{book.sheet_name}' cannot be read from the archive, "
                f"after row {reader.last_row}",
                row=reader.last_row + 1,
            ) from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attribute(element: Element, local_name: str) -> str | None:
    """An attribute by its local name, whatever namespace the file gives it."""
    for name, value in element.attrib.items():
        if _local(name) == local_name:
            return value
    return None


def _read_book(archive: zipfile.ZipFile) -> _Book:
    try:
        workbook_path = _office_document(archive)
        targets = _relationships(archive, workbook_path)
        name, relation, epoch = _first_sheet(archive, workbook_path)
        sheet_path = targets.get(relation)
        if sheet_path is None or sheet_path not in archive.namelist():
            raise SheetError(f"the workbook's sheet '{name}' is missing")
        shared_path = _target_of_type(targets, "sharedStrings")
        styles_path = _target_of_type(targets, "styles")
        return _Book(
            sheet_name=name,
            sheet_path=sheet_path,
            shared_strings=_shared_strings(archive, shared_path),
            styles=_styles(archive, styles_path),
            epoch=epoch,
        )
    except ParseError as error:
        raise SheetError(
            f"a part of the workbook is not well-formed XML: {error}"
        ) from None
    except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise SheetError(
            f"a part of the workbook cannot be read: {type(error).__name__}"
        ) from None


_Event = Literal["start", "end"]
_CHUNK = 1 << 16
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# The byte order marks of UTF-16 and UTF-32 (whose BOM-less parts start with NUL).
_WIDE_START = (b"\xff\xfe", b"\xfe\xff")
_ENCODING = re.compile(
    rb"(?:\xef\xbb\xbf)?<\?xml[^>]*?\sencoding\s*=\s*[\"']([^\"']*)[\"']"
)


def iterparse(
    source: IO[bytes], part: str, events: tuple[_Event, ...] = ("end",)
) -> Iterator[tuple[str, Element]]:
    """ElementTree's events for a part, refusing any document type declaration:
    no part of a workbook has one, and entities are how XML is made to explode."""
    parser: XMLPullParser[Element] = XMLPullParser(events)
    chunk = source.read(_CHUNK)
    _check_utf8(chunk, part)
    tail = b""
    while chunk:
        if _DECLARATION.search(tail + chunk):
            raise SheetError("a part of the workbook declares a document type")
        tail = chunk[-16:]
        parser.feed(chunk)
        yield from parser.read_events()  # type: ignore[misc]
        chunk = source.read(_CHUNK)
    parser.close()
    yield from parser.read_events()  # type: ignore[misc]


def _check_utf8(head: bytes, part: str) -> None:
    """Excel writes every part in UTF-8. The search for a declaration reads bytes
    as UTF-8 does, so a part in another encoding could hide one from it."""
    declared = _ENCODING.match(head)
    wide = head.startswith(_WIDE_START) or b"\x00" in head[:4]
    if wide or (declared is not None and declared.group(1).lower() != b"utf-8"):
        raise SheetError(
            f"the workbook's part {part} is not in UTF-8: each part of a workbook "
            "must be UTF-8"
        )


def _parts(archive: zipfile.ZipFile, path: str) -> Iterator[Element]:
    with _open(archive, path) as source:
        for _, element in iterparse(source, path):
            yield element


def _open(
    archive: zipfile.ZipFile, path: str, limit: int = MAX_PART_BYTES
) -> IO[bytes]:
    """A part to read, refused when it would inflate past `limit` bytes. The size
    is the archive's own record of it, which the reader holds the part to: a part
    that inflates past it fails its check rather than being read on."""
    size = archive.getinfo(path).file_size
    if size > limit:
        raise SheetError(
            f"the workbook's part {path} holds {size:,} bytes once inflated; a "
            f"feed's may hold at most {limit:,}"
        )
    return archive.open(path)


def _office_document(archive: zipfile.ZipFile) -> str:
    for element in _parts(archive, "_rels/.rels"):
        kind = element.get("Type", "")
        if _local(element.tag) == "Relationship" and kind.endswith("/officeDocument"):
            return element.get("Target", "").lstrip("/")
    raise SheetError("the archive names no workbook: it is not an XLSX file")


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    """A part's relationships: id to the target's path in the archive (and
    `type:<kind>` to the path, for the parts found by their kind)."""
    folder = dirname(part)
    rels = join(folder, "_rels", part.rsplit("/", 1)[-1] + ".rels")
    targets: dict[str, str] = {}
    if rels not in archive.namelist():
        return targets
    for element in _parts(archive, rels):
        if _local(element.tag) != "Relationship":
            continue
        target = element.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else join(folder, target)
        path = normpath(path)
        targets[element.get("Id", "")] = path
        targets["type:" + element.get("Type", "").rsplit("/", 1)[-1]] = path
    return targets


def _target_of_type(targets: dict[str, str], kind: str) -> str | None:
    return targets.get("type:" + kind)


def _first_sheet(archive: zipfile.ZipFile, path: str) -> tuple[str, str, datetime]:
    sheet: tuple[str, str] | None = None
    epoch = CALENDAR_WINDOWS_1900
    for element in _parts(archive, path):
        tag = _local(element.tag)
        if tag == "sheet" and sheet is None:
            sheet = (element.get("name", ""), _attribute(element, "id") or "")
        elif tag == "workbookPr" and element.get("date1904") in ("1", "true"):
            epoch = CALENDAR_MAC_1904
    if sheet is None:
        raise SheetError("the workbook has no sheet")
    return sheet[0], sheet[1], epoch


def _shared_strings(archive: zipfile.ZipFile, path: str | None) -> list[str]:
    if path is None or path not in archive.namelist():
        return []
    strings = []
    with _open(archive, path) as source:
        for _, element in iterparse(source, path):
            if _local(element.tag) == "si":
                strings.append(_rich_text(element))
                element.clear()
    return strings


def _rich_text(element: Element) -> str:
    """The text of a string item (plain or in runs), without its phonetic guide."""
    parts = []
    for child in element:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _styles(archive: zipfile.ZipFile, path: str | None) -> list[str]:
    if path is None or path not in archive.namelist():
        return []
    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    styles: list[str] = []
    in_cell_formats = False
    with _open(archive, path) as source:
        for event, element in iterparse(source, path, events=("start", "end")):
            tag = _local(element.tag)
            if tag == "cellXfs":
                in_cell_formats = event == "start"
            elif event == "end" and tag == "numFmt":
                formats[_whole(element.get("numFmtId"), 0)] = element.get(
                    "formatCode", ""
                )
            elif event == "end" and tag == "xf" and in_cell_formats:
                code = formats.get(_whole(element.get("numFmtId"), 0), "General")
                styles.append(_kind_of_format(code))
    return styles


# What a format shows as written rather than as a number: quoted text, a
# backslash-escaped character, or a `[...]` section (a colour, a condition).
_LITERAL = re.compile(r'"[^"]*"?|\\.|\[[^\]]*\]?')


def _kind_of_format(code: str) -> str:
    # `0.0"%"` or `0.0\%` only shows a % sign: the cell holds 12.5 for 12.5%.
    if "%" in _LITERAL.sub("", code):
        return "percent"
    if is_date_format(code):
        # Elapsed time, `[h]:mm`, is a duration rather than a moment.
        return "duration" if re.search(r"\[[hms]+\]", code, re.I) else "date"
    return ""


def _whole(text: str | None, default: int) -> int:
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 9:
        return default
    return int(text)


_CELL_REF = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
# Text a cell stores for a number: what Excel and other writers produce.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}")
# Moving the decimal point of a percent cell never rounds nor overflows.
_EXACT = Context(prec=400, Emax=MAX_EMAX, Emin=MIN_EMIN)


# Elements a cell may hold: a value, a formula, an inline string's runs. Elements
# are held only while their cell is read, so this bounds what a row holds too.
MAX_CELL_ELEMENTS = 10_000


class _SheetReader:
    """Rows of one sheet; `last_row` is the number of the last one read whole.

    Each element is dropped from the tree once it ends and is read, except inside
    the cell being read: a row of millions of cells never sits whole either."""

    def __init__(self, book: _Book) -> None:
        self.book = book
        self.last_row = 0

    def rows(self, source: IO[bytes]) -> Iterator[SheetRow]:
        open_elements: list[Element] = []
        row: _OpenRow | None = None
        cell_elements = 0
        events = iterparse(source, self.book.sheet_path, events=("start", "end"))
        for event, element in events:
            tag = _local(element.tag)
            if event == "start":
                open_elements.append(element)
                if row is None and tag == "row":
                    row = _OpenRow(self._row_number(element), len(open_elements))
                elif row is not None and len(open_elements) > row.depth + 1:
                    cell_elements += 1
                    self._check_cell_size(row, cell_elements)
                continue
            depth = len(open_elements)
            open_elements.pop()
            if row is not None and depth > row.depth + 1:
                continue  # part of the cell being read, which needs it
            if row is not None and depth == row.depth + 1 and tag == "c":
                self._add_cell(row, element)
            elif row is not None and depth == row.depth:
                self.last_row = row.number
                yield row.number, row.cells
                row = None
            cell_elements = 0
            if open_elements:
                del open_elements[-1][:]

    def _check_cell_size(self, row: "_OpenRow", elements: int) -> None:
        if elements <= MAX_CELL_ELEMENTS:
            return

        raise SheetError(
            f"row {row.number} of sheet '{self.book.sheet_name}' has a cell of more "
            f"than {MAX_CELL_ELEMENTS:,} XML elements",
            row=row.number,
        )

    def _row_number(self, element: Element) -> int:
        text = element.get("r")
        if text is None:
            number = self.last_row + 1
        elif not (text.isascii() and text.isdigit() and len(text) <= 7):
            raise SheetError(
                f"a row of sheet '{self.book.sheet_name}' is numbered '{text[:20]}'",
                row=self.last_row + 1,
            )
        else:
            number = int(text)
        if number <= self.last_row or number > MAX_ROW:
            raise SheetError(
                f"row {number} of sheet '{self.book.sheet_name}' comes after row "
                f"{self.last_row}: rows are numbered 1 to {MAX_ROW} in order",
                row=number,
            )
        return number

    def _add_cell(self, row: "_OpenRow", element: Element) -> None:
        column = self._column(element, row.number, row.last_column)
        row.last_column = column
        ref = f"{_letters(column)}{row.number}"
        row.cells[column] = self._cell(element, ref, row.number)

    def _column(self, element: Element, number: int, previous: int) -> int:
        ref = element.get("r")
        if ref is None:
            column = previous + 1
        else:
            found = _CELL_REF.fullmatch(ref)
            column = _column_index(found.group(1)) if found else 0
            if found is None or int(found.group(2)) != number:
                raise self._not_of_row(ref, number)
        if column > MAX_COLUMN:
            raise SheetError(
                f"row {number} of sheet '{self.book.sheet_name}' has a cell past "
                f"column XFD, the last one (A{number} to XFD{number})",
                row=number,
            )
        if column <= previous:
            raise SheetError(
                f"row {number} of sheet '{self.book.sheet_name}' has cell "
                f"{_letters(column)}{number} after cell {_letters(previous)}{number}: "
                "a row's cells come once each, in column order",
                row=number,
            )
        return column

    def _not_of_row(self, ref: str, number: int) -> SheetError:
        return SheetError(
            f"row {number} of sheet '{self.book.sheet_name}' has a cell named "
            f"'{ref[:20]}', which is not a cell of that row (A{number} to "
            f"XFD{number})",
            row=number,
        )

    def _cell(self, element: Element, ref: str, number: int) -> SheetCell:
        style = self._style(element, ref, number)
        kind = element.get("t", "n")
        text: str | None = None
        has_formula = False
        inline: Element | None = None
        for child in element:
            tag = _local(child.tag)
            if tag == "v":
                text = child.text or ""
            elif tag == "f":
                has_formula = True
            elif tag == "is":
                inline = child
        if kind == "inlineStr":
            return SheetCell(_rich_text(inline) if inline is not None else None)
        if text is None or (not text.strip() and kind != "str"):
            # An empty <v> stores no result either (openpyxl writes one so).
            return SheetCell(None, formula_without_result=has_formula)
        try:
            return SheetCell(self._value(kind, text, style))
        except (ValueError, IndexError, OverflowError, TypeError):
            raise SheetError(
                f"cell {ref} of sheet '{self.book.sheet_name}' holds "
                f"'{text[:40]}', which is not {_WHAT.get(kind, 'a cell type')}",
                row=number,
            ) from None

    def _style(self, element: Element, ref: str, number: int) -> str:
        text = element.get("s")
        if text is None:
            return ""
        index = _whole(text, -1)
        if not 0 <= index < len(self.book.styles) and not (
            index == 0 and not self.book.styles
        ):
            raise SheetError(
                f"cell {ref} of sheet '{self.book.sheet_name}' uses style "
                f"'{text[:20]}', which the workbook does not define",
                row=number,
            )
        return self.book.styles[index] if self.book.styles else ""

    def _value(self, kind: str, text: str, style: str) -> Scalar:
        if kind == "n":
            return self._number(text, style)
        if kind == "s":
            index = _whole(text.strip(), -1)
            if index < 0:
                raise IndexError(text)
            return self.book.shared_strings[index]
        if kind == "b":
            answer = _YES_NO.get(text.strip())
            if answer is None:
                raise ValueError(text)
            return answer
        if kind == "d":
            return str(datetime.fromisoformat(text.strip()))
        if kind in ("str", "e"):
            return text
        raise ValueError(kind)

    def _number(self, text: str, style: str) -> Scalar:
        written = text.strip()
        if not _NUMBER.fullmatch(written):
            raise ValueError(written)
        if style in ("date", "duration"):
            moment = from_excel(
                float(written), self.book.epoch, timedelta=style == "duration"
            )
            if moment is None:
                raise ValueError(written)
            return str(moment)
        if style == "percent":
            # A percent cell holds the share (0.125 for 12.5 %, 1 for 100 %).
            return Decimal(written).scaleb(2, _EXACT)
        if _WHOLE.fullmatch(written):
            return int(written)
        return Decimal(written)


_YES_NO = {"0": False, "1": True, "false": False, "true": True}
_WHAT = {
    "n": "a number (or a date, by its format)",
    "s": "an entry of the workbook's shared strings",
    "b": "a yes/no (0 or 1)",
    "d": "an ISO 8601 date",
}


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index


def _letters(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
