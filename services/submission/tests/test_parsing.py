"""Reading feed files, without a service: where a reader stops."""

import tracemalloc
from collections.abc import Callable

import pytest

from pmm_submission.errors import FeedTooLargeError, InvalidInputError
from pmm_submission.parsing import parse_feed

from .helpers import SHEET, XLSX, replacing, with_part, workbook

ROW = ("PMM-2025", "DECL_TOTAL", 2024, 1)


def _csv(rows: int, tail: str) -> bytes:
    line = ",".join(str(cell) for cell in ROW) + "\n"
    return ("cycle,data_element,year,value\n" + line * rows + tail).encode()


def _json(rows: int, tail: str) -> bytes:
    row = '{"cycle": "PMM-2025", "data_element": "DECL_TOTAL", "year": 2024}'
    return ('{"rows": [' + ", ".join([row] * rows) + tail + "]}").encode()


def _xlsx(rows: int, tail: str) -> bytes:
    body = workbook([ROW] * (rows + 1))
    return with_part(body, SHEET, _broken_last_row) if tail else body


def _broken_last_row(sheet: bytes) -> bytes:
    last = sheet.rindex(b"<row ")
    return sheet[:last] + b"<row r='x'><c><v>broken" + sheet[last:]


@pytest.mark.parametrize(
    ("content_type", "build", "broken_tail"),
    [
        ("text/csv", _csv, 'PMM-2025,"DECL"_TOTAL,2024,1\n'),
        ("application/json", _json, ", NaN, {"),
        (XLSX, _xlsx, "broken"),
    ],
)
def test_a_feed_past_the_limit_is_refused_at_the_row_past_it(
    content_type: str, build: Callable[[int, str], bytes], broken_tail: str
) -> None:
    over = build(4, broken_tail)
    within = build(2, broken_tail)

    with pytest.raises(FeedTooLargeError) as refused:
        parse_feed(over, content_type, delimiter=None, max_rows=3)
    # Within the limit the reader goes on to the broken end; past it, it never
    # gets there: the feed is refused at row 4, unread beyond.
    with pytest.raises(InvalidInputError):
        parse_feed(within, content_type, delimiter=None, max_rows=3)

    assert refused.value.extensions == {"limit": 3}
    assert refused.value.detail == "a feed may have at most 3 rows; this one has more"


def test_a_workbook_part_that_inflates_past_its_bound_is_refused_unread() -> None:
    # A ZIP of a few kilobytes can hold a part that inflates to gigabytes; the
    # styles and shared strings are held whole, so a part's size is checked first.
    padding = b"<!--" + b"x" * (33 * 1024 * 1024) + b"-->"
    body = with_part(
        workbook([ROW, ROW]),
        "xl/styles.xml",
        replacing(b"</styleSheet>", padding + b"</styleSheet>"),
    )

    with pytest.raises(InvalidInputError) as refused:
        parse_feed(body, XLSX, delimiter=None, max_rows=3)

    assert len(body) < 1024 * 1024
    assert refused.value.extensions["errors"][0]["rule"] == "xlsx.invalid"
    assert refused.value.detail.startswith(
        "the workbook's part xl/styles.xml holds 34,"
    )
    assert refused.value.detail.endswith("a feed's may hold at most 33,554,432")


def test_a_row_is_read_in_bounded_memory_however_many_elements_it_holds() -> None:
    # Elements that are not cells are dropped as they end, as cells are once read;
    # a row's tree held whole took 26 MB here, and a 512 MB sheet gigabytes.
    value = b'<c r="D2" t="n"><v>1</v></c>'
    body = with_part(
        workbook([ROW]), SHEET, replacing(value, value + b"<x/>" * 300_000)
    )
    stuffed_cell = with_part(
        workbook([ROW]),
        SHEET,
        replacing(value, b'<c r="D2" t="n"><v>1</v>' + b"<x/>" * 10_001 + b"</c>"),
    )

    tracemalloc.start()
    try:
        rows = parse_feed(body, XLSX, delimiter=None, max_rows=3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with pytest.raises(InvalidInputError) as refused:
        parse_feed(stuffed_cell, XLSX, delimiter=None, max_rows=3)

    assert [(row.number, row.fields["value"]) for row in rows] == [(2, 1)]
    assert peak < 10 * 1024 * 1024
    assert refused.value.extensions["errors"] == [
        {
            "row": 2,
            "column": None,
            "rule": "xlsx.invalid",
            "message": "row 2 of sheet 'Sheet' has a cell of more than 10,000 XML "
            "elements",
        }
    ]


def test_trailing_separators_of_a_spreadsheet_export_are_read_as_nothing() -> None:
    feed = (
        b"cycle,data_element,year,value,,\n"
        b"PMM-2025,DECL_TOTAL,2024,1,,\n"
        b"PMM-2025,STAFF_TOTAL,2024,2,,x\n"
        b"PMM-2025,DECL_ELECTRONIC,2024,3\n"
    )

    rows = parse_feed(feed, "text/csv", delimiter=None, max_rows=10)

    assert [(r.number, r.fields.get("value"), r.refusal) for r in rows[::2]] == [
        (2, "1", None),
        (4, "3", None),
    ]
    refusal = rows[1].refusal
    assert refusal is not None
    assert (refusal.column, refusal.rule) == ("column 6", "cell.beyond_header")


def test_a_column_named_twice_is_named_in_the_refusal() -> None:
    feed = b"cycle,data_element,year,value,value\nPMM-2025,DECL_TOTAL,2024,1,2\n"

    with pytest.raises(InvalidInputError) as refused:
        parse_feed(feed, "text/csv", delimiter=None, max_rows=10)

    assert refused.value.extensions["errors"] == [
        {
            "row": 1,
            "column": "value",
            "rule": "column.duplicate",
            "message": "the column value is named twice",
        }
    ]
