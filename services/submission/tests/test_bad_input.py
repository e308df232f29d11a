"""Bad input a new user found answered with 500: each is now a problem naming the
field (or row and column) and the rule, and changes nothing."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from pmm_kit.auth import Role
from pmm_local.testing import RunningService

from .helpers import (
    SHEET,
    XLSX,
    ServiceToStart,
    T,
    cycle_body,
    open_cycle,
    problem_of,
    replacing,
    with_part,
    with_shared_strings,
    workbook,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

JSON = {"content-type": "application/json"}
CSV = "text/csv"


def _url(cycle_id: str, tail: str = "") -> str:
    return f"/cycles/{cycle_id}/submissions/BRA{tail}"


async def _feed(
    s: RunningService, body: bytes, content_type: str, **params: Any
) -> Any:
    return await s.client.post(
        "/feeds",
        content=body,
        params={k: str(v).lower() for k, v in params.items()},
        headers={**s.token(Role.PREPARER, "BRA"), "content-type": content_type},
    )


async def _values(s: RunningService, cycle_id: str) -> dict[Any, Any]:
    view = await s.client.get(_url(cycle_id), headers=s.token(Role.SECRETARIAT))
    if view.status_code == 404:
        return {}
    return {(v["data_element"], v["year"]): v["value"] for v in view.json()["values"]}


def _fields(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(e["field"], e["code"]) for e in problem_of(response)["errors"]]


def _rejected(response: Any) -> list[tuple[int, str, str]]:
    return [(r["row"], r["column"], r["rule"]) for r in response.json()["rejected"]]


async def test_a_nul_or_lone_surrogate_in_a_body_is_refused_naming_the_field(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = {**s.token(Role.PREPARER, "BRA"), **JSON}
        ncp = {**s.token(Role.NCP, "BRA"), **JSON}
        value = _url(cycle_id, f"/values/DECL_TOTAL/{T - 1}")
        nul = await s.client.put(
            value,
            content=b'{"state": "not_available", "reason": "a\\u0000b"}',
            headers=preparer,
        )
        surrogate = await s.client.put(
            value,
            content=b'{"state": "not_available", "reason": "a\\ud800"}',
            headers=preparer,
        )
        batch = await s.client.post(
            _url(cycle_id, "/values"),
            content=b'{"values": [{"data_element": "DECL_TOTAL", "year": 2024,'
            b' "value": "1"}, {"data_element": "DECL_TOTAL", "year": 2023,'
            b' "state": "not_available", "reason": "\\udfff"}]}',
            headers=preparer,
        )
        label = await s.client.post(
            "/members/BRA/api-keys", content=b'{"label": "dw\\u0000"}', headers=ncp
        )
        unit = await s.client.put(
            "/members/BRA/mappings/revenue",
            content=b'{"data_element": "REV_CUSTOMS", "unit": "E\\u0000UR"}',
            headers=ncp,
        )
        keys = await s.client.get("/members/BRA/api-keys", headers=ncp)
        mappings = await s.client.get("/members/BRA/mappings", headers=ncp)
        values = await _values(s, cycle_id)

    assert _fields(nul) == [("body.reason", "text.nul")]
    assert _fields(surrogate) == [("body.reason", "text.surrogate")]
    assert _fields(batch) == [("body.values.1.reason", "text.surrogate")]
    assert _fields(label) == [("body.label", "text.nul")]
    assert _fields(unit) == [("body.unit", "text.nul")]
    assert "NUL character" in problem_of(nul)["errors"][0]["message"]
    assert (keys.json(), mappings.json(), values) == ([], [], {})


async def test_a_feed_row_with_such_text_is_a_rejected_row_in_json_and_csv(
    submission_service: ServiceToStart,
) -> None:
    rows = [
        {"cycle": "PMM-2025", "data_element": "DECL_TOTAL", "year": T, "value": "5"},
        {
            "cycle": "PMM-2025",
            "data_element": "STAFF_TOTAL",
            "year": T,
            "state": "not_available",
            "reason": "a\x00b",
        },
        {"cycle": "PMM-2025", "name": "rev\ud800", "year": T, "value": "1"},
        {"cycle": "PMM-2025\x00", "data_element": "AEO_COUNT", "year": T, "value": 1},
        {"cycle": "PMM-2025", "data_element": "AEO_COUNT", "year": T, "x\x00": 1},
    ]
    json_feed = json.dumps({"rows": rows}).encode()
    csv_feed = (
        "cycle,data_element,year,value,state,reason\n"
        f"PMM-2025,STAFF_WOMEN,{T},2,,\n"
        f"PMM-2025,STAFF_TOTAL,{T - 1},,not_available,lost\x00\n"
    ).encode()
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        from_json = await _feed(s, json_feed, "application/json", partial=True)
        from_csv = await _feed(s, csv_feed, CSV, partial=True)
        values = await _values(s, cycle_id)

    assert from_json.status_code == 200, from_json.text
    assert _rejected(from_json) == [
        (2, "reason", "text.nul"),
        (3, "name", "text.surrogate"),
        (4, "cycle", "text.nul"),
        (5, "x\\u0000", "text.nul"),
    ]
    assert from_csv.status_code == 200, from_csv.text
    assert _rejected(from_csv) == [(3, "reason", "text.nul")]
    assert values == {("DECL_TOTAL", T): "5", ("STAFF_WOMEN", T): "2"}


async def test_a_nul_in_the_path_or_query_is_a_400_problem(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        member = await s.client.get("/members/BRA%00")
        mapping = await s.client.delete(
            "/members/BRA/mappings/a%00b", headers=s.token(Role.NCP, "BRA")
        )
        feed = await s.client.post(
            "/feeds?mode=merge%00",
            content=b"cycle,data_element,year,value\n",
            headers={**s.token(Role.PREPARER, "BRA"), "content-type": CSV},
        )
        values = await _values(s, cycle_id)

    for response, field in [
        (member, "path"),
        (mapping, "path"),
        (feed, "query.mode"),
    ]:
        assert response.status_code == 400
        problem = problem_of(response)
        assert problem["type"] == "urn:pmm:problem:invalid-url"
        assert [(e["field"], e["code"]) for e in problem["errors"]] == [
            (field, "text.nul")
        ]
    assert values == {}


async def test_malformed_path_parameters_are_validation_problems(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        spaced = await s.client.put(
            _url(cycle_id, f"/values/DECL%20TOTAL/{T}"),
            json={"value": "1"},
            headers=preparer,
        )
        huge_year = await s.client.get(
            _url(cycle_id, "/values/DECL_TOTAL/2147483648/history"), headers=preparer
        )
        huge_write = await s.client.put(
            _url(cycle_id, "/values/DECL_TOTAL/99999999999"),
            json={"value": "1"},
            headers=preparer,
        )
        huge_revision = await s.client.get(
            _url(cycle_id, "/revisions/2147483648"), headers=preparer
        )
        # One resource, one address: a year or a number is written as digits alone.
        other_years = [
            await s.client.put(
                _url(cycle_id, f"/values/DECL_TOTAL/{year}"),
                json={"value": "1"},
                headers=preparer,
            )
            for year in (f"{T}.0", f"+{T}", f"0{T}", f"{T // 1000}_{T % 1000}")
        ]
        padded_revision = await s.client.get(
            _url(cycle_id, "/revisions/01"), headers=preparer
        )
        opt_out = await s.client.put(
            _url(cycle_id, "/opt-outs/TF 1"),
            json={"reason": "none"},
            headers=preparer,
        )
        member = await s.client.get(
            f"/cycles/{cycle_id}/submissions/bra%20x", headers=preparer
        )
        long_name = await s.client.put(
            "/members/BRA/mappings/" + "n" * 3000,
            json={"data_element": "REV_CUSTOMS"},
            headers=s.token(Role.NCP, "BRA"),
        )
        values = await _values(s, cycle_id)

    assert _fields(spaced) == [("path.data_element", "string_pattern_mismatch")]
    assert _fields(huge_year) == [("path.year", "less_than_equal")]
    assert _fields(huge_write) == [("path.year", "less_than_equal")]
    assert _fields(huge_revision) == [("path.number", "less_than_equal")]
    for response in other_years:
        assert _fields(response) == [("path.year", "int_digits")]
    assert _fields(padded_revision) == [("path.number", "int_digits")]
    assert _fields(opt_out) == [("path.kpi", "string_pattern_mismatch")]
    assert _fields(member) == [("path.member", "string_pattern_mismatch")]
    assert _fields(long_name) == [("path.name", "string_too_long")]
    assert values == {}


async def test_a_body_that_cannot_be_read_as_json_says_why(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = {**s.token(Role.PREPARER, "BRA"), **JSON}
        not_utf8 = await s.client.put(
            _url(cycle_id, f"/values/DECL_TOTAL/{T}"),
            content=b'{"state": "not_available", "reason": "r\xe9gie"}',
            headers=preparer,
        )
        long_number = await s.client.put(
            _url(cycle_id, f"/values/DECL_TOTAL/{T}"),
            content=b'{"value": ' + b"9" * 4301 + b"}",
            headers=preparer,
        )
        values = await _values(s, cycle_id)

    assert problem_of(not_utf8)["type"] == "urn:pmm:problem:validation"
    assert problem_of(not_utf8)["errors"] == [
        {
            "field": "body",
            "code": "json_invalid",
            "message": "the body is not valid JSON: byte 39 (0xe9) is not UTF-8,"
            " and JSON is UTF-8 text",
        }
    ]
    assert _fields(long_number) == [("body", "number_too_long")]
    assert "more than 4300 digits" in problem_of(long_number)["errors"][0]["message"]
    assert values == {}


async def test_a_year_in_a_body_is_a_json_integer_never_a_coerced_one(
    submission_service: ServiceToStart,
) -> None:
    cycle = cycle_body("PMM-LAX")
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        batch = await s.client.post(
            _url(cycle_id, "/values"),
            content=b'{"values": ['
            b'{"data_element": "DECL_TOTAL", "year": true, "value": "1"},'
            b'{"data_element": "DECL_TOTAL", "year": "2024", "value": "1"},'
            b'{"data_element": "DECL_TOTAL", "year": 2024.5, "value": "1"},'
            b'{"data_element": "DECL_TOTAL", "year": 2024.0, "value": "1"}]}',
            headers={**s.token(Role.PREPARER, "BRA"), **JSON},
        )
        secretariat = s.token(Role.SECRETARIAT)
        cycles = [
            await s.client.post(
                "/cycles", json={**cycle, "reporting_year": year}, headers=secretariat
            )
            for year in (True, "2024", 2024.0)
        ]
        values = await _values(s, cycle_id)
        stored_cycles = await s.client.get("/cycles", headers=secretariat)

    assert problem_of(batch)["type"] == "urn:pmm:problem:validation"
    assert _fields(batch) == [
        (f"body.values.{row}.year", "int_type") for row in range(4)
    ]
    for response in cycles:
        assert _fields(response) == [("body.reporting_year", "int_type")]
    assert values == {}
    assert [c["id"] for c in stored_cycles.json()] == [cycle_id]


async def test_a_body_nested_beyond_any_reader_is_a_problem_saying_so(
    submission_service: ServiceToStart,
) -> None:
    deep = b'{"rows":' + b"[" * 100_000
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        feed = await _feed(s, deep, "application/json")
        form = await s.client.put(
            _url(cycle_id, f"/values/DECL_TOTAL/{T}"),
            content=b'{"value":' + b"[" * 100_000,
            headers={**s.token(Role.PREPARER, "BRA"), **JSON},
        )
        values = await _values(s, cycle_id)

    assert feed.status_code == 400
    problem = problem_of(feed)
    assert problem["type"] == "urn:pmm:problem:unreadable-feed"
    assert problem["errors"] == [{"row": None, "column": None, "rule": "json.depth"}]
    assert form.status_code == 422
    assert problem_of(form)["type"] == "urn:pmm:problem:validation"
    assert _fields(form) == [("body", "json_too_deep")]
    assert values == {}


@pytest.mark.parametrize(
    "written", ["1_000", "\u0661\u0662\u0663", "1 000", "1E+999999999", "\uff11"]
)
async def test_a_figure_is_ascii_digits_a_sign_and_one_point_in_forms_and_feeds(
    submission_service: ServiceToStart,
    written: str,
) -> None:
    csv_feed = f"cycle,data_element,year,value\nPMM-2025,DECL_TOTAL,{T},{written}\n"
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        form = await s.client.put(
            _url(cycle_id, f"/values/DECL_TOTAL/{T}"),
            json={"value": written},
            headers=s.token(Role.PREPARER, "BRA"),
        )
        feed = await _feed(s, csv_feed.encode(), CSV)
        factor = await s.client.put(
            "/members/BRA/mappings/revenue",
            json={"data_element": "REV_CUSTOMS", "factor": written},
            headers=s.token(Role.NCP, "BRA"),
        )
        values = await _values(s, cycle_id)

    assert form.status_code == 422
    assert [(e["field"], e["rule"]) for e in problem_of(form)["errors"]] == [
        ("value", "value.number")
    ]
    assert feed.status_code == 422
    assert _rejected(feed) == [(2, "value", "value.number")]
    assert _fields(factor) == [("body.factor", "value.number")]
    assert values == {}


async def test_a_formula_without_a_stored_result_says_so(
    submission_service: ServiceToStart,
) -> None:
    feed = workbook(
        [["PMM-2025", "DECL_TOTAL", T, "=1+1"], ["PMM-2025", "STAFF_TOTAL", T, 7]]
    )
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        response = await _feed(s, feed, XLSX, partial=True)
        values = await _values(s, cycle_id)

    assert response.status_code == 200, response.text
    assert _rejected(response) == [(2, "value", "cell.formula_without_result")]
    message = response.json()["rejected"][0]["message"]
    assert "cell D2 holds a formula with no stored result" in message
    assert "save the file in a spreadsheet program" in message
    assert values == {("STAFF_TOTAL", T): "7"}


async def test_a_year_that_is_a_number_but_not_a_whole_year_says_so(
    submission_service: ServiceToStart,
) -> None:
    feed = (
        "cycle,data_element,year,value\n"
        f"PMM-2025,DECL_TOTAL,{T}.0,1\n"
        "PMM-2025,DECL_TOTAL,99999999999999999999,1\n"
        f"PMM-2025,DECL_TOTAL,FY{T - 1}/{T % 100},1\n"
    ).encode()
    async with submission_service as s:
        await open_cycle(s)
        response = await _feed(s, feed, CSV, dry_run=True)

    rejected = response.json()["rejected"]
    assert [(r["row"], r["rule"]) for r in rejected] == [
        (2, "year.not_calendar"),
        (3, "year.not_calendar"),
        (4, "year.not_calendar"),
    ]
    assert rejected[0]["message"] == (
        f"'{T}.0' is not a whole year number: write the calendar year in four "
        f"digits, such as {T}"
    )
    assert "99999999999999999999' is not a whole year number" in rejected[1]["message"]
    assert "a fiscal or part-year figure" in rejected[2]["message"]


async def test_json_sent_as_plain_text_is_a_415_naming_the_media_type(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        response = await s.client.put(
            _url(cycle_id, f"/values/DECL_TOTAL/{T}"),
            content=b'{"value": "1"}',
            headers={**s.token(Role.PREPARER, "BRA"), "content-type": "text/plain"},
        )
        values = await _values(s, cycle_id)

    assert response.status_code == 415
    problem = problem_of(response)
    assert problem["type"] == "urn:pmm:problem:unsupported-media-type"
    assert problem["expected"] == "application/json"
    assert values == {}


async def test_nan_in_a_json_feed_is_reported_where_it_is(
    submission_service: ServiceToStart,
) -> None:
    text = (
        '{"rows": [\n'
        '  {"cycle": "PMM-2025", "reason": "NaN", "value": 1},\n'
        '  {"cycle": "PMM-2025", "value": NaN}\n'
        "]}"
    )
    column = text.split("\n")[2].index("NaN") + 1
    async with submission_service as s:
        await open_cycle(s)
        response = await _feed(s, text.encode(), "application/json")

    assert response.status_code == 422
    problem = problem_of(response)
    assert problem["errors"][0]["rule"] == "json.invalid"
    assert problem["detail"] == (
        "the body is not JSON: NaN is not JSON (JSON has no NaN or Infinity); give"
        ' a figure as a number or as text, such as 12.5 or "12.5": line 3 column'
        f" {column} (char {text.index('NaN}')})"
    )


async def test_a_json_key_given_twice_is_refused_by_either_reader(
    submission_service: ServiceToStart,
) -> None:
    # `{"rows": [` is read row by row; `"\u0072ows"` (rows) makes the reader
    # decode the document whole.
    row = '{"cycle": "PMM-2025", "data_element": "%s", "year": 2024, "value": 1}'
    first, second = row % "DECL_TOTAL", row % "STAFF_TOTAL"
    twice = first.replace('"value": 1', '"value": 1, "value": 2')
    documents = {
        "streamed": f'{{"rows": [{first}], "rows": [{second}]}}',
        "whole": f'{{"\\u0072ows": [{first}], "rows": [{second}]}}',
    }
    rows = {
        "streamed row": f'{{"rows": [{twice}, {second}]}}',
        "whole row": f'{{"\\u0072ows": [{twice}, {second}]}}',
    }
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        refused = {
            name: await _feed(s, body.encode(), "application/json")
            for name, body in (documents | rows).items()
        }
        nothing = await _values(s, cycle_id)
        partial = {
            name: await _feed(
                s, body.encode(), "application/json", partial=True, dry_run=True
            )
            for name, body in rows.items()
        }

    for name in documents:
        assert _errors(refused[name]) == [(None, None, "json.shape")]
        assert problem_of(refused[name])["detail"] == "the key rows is given twice"
    for name in rows:
        problem = problem_of(refused[name])
        assert problem["type"] == "urn:pmm:problem:feed-rejected"
        assert [
            (r["row"], r["column"], r["rule"], r["message"])
            for r in problem["rejected"]
        ] == [(1, "value", "row.duplicate_key", "the row gives the column value twice")]
        assert partial[name].json()["rows_accepted"] == 1
        assert _rejected(partial[name]) == [(1, "value", "row.duplicate_key")]
    assert nothing == {}


async def test_a_malformed_xlsx_is_a_422_naming_the_cell_and_changes_nothing(
    submission_service: ServiceToStart,
) -> None:
    good = workbook([["PMM-2025", "DECL_TOTAL", T, 4242]])
    value = b'<c r="D2" t="n"><v>4242</v></c>'
    cells = {
        "shared string": b'<c r="D2" t="s"><v>999</v></c>',
        "xml": b'<c r="D2" t="n"><v>4242</c>',
        "date": b'<c r="D2" t="d"><v>notadate</v></c>',
        "number": b'<c r="D2" t="n"><v>abc</v></c>',
        "style": b'<c r="D2" s="999"><v>4242</v></c>',
        "reference": b'<c r="ZZZZZZ2"><v>4242</v></c>',
    }
    broken = {
        name: with_part(good, SHEET, replacing(value, cell))
        for name, cell in cells.items()
    }
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        answers = {
            name: await _feed(s, body, XLSX, mode="replace")
            for name, body in broken.items()
        }
        values = await _values(s, cycle_id)

    problems = {name: problem_of(answer) for name, answer in answers.items()}
    assert {
        name: answer.status_code for name, answer in answers.items()
    } == dict.fromkeys(broken, 422)
    assert {p["type"] for p in problems.values()} == {"urn:pmm:problem:invalid-input"}
    assert {
        name: (p["errors"][0]["row"], p["errors"][0]["rule"])
        for name, p in problems.items()
    } == dict.fromkeys(broken, (2, "xlsx.invalid"))
    details = {name: p["detail"] for name, p in problems.items()}
    assert details["shared string"].startswith("cell D2 of sheet 'Sheet' holds '999'")
    assert "not well-formed XML" in details["xml"]
    assert "after row 1" in details["xml"]
    assert details["date"].startswith("cell D2 of sheet 'Sheet' holds 'notadate'")
    assert details["number"].startswith("cell D2 of sheet 'Sheet' holds 'abc'")
    assert details["style"] == (
        "cell D2 of sheet 'Sheet' uses style '999', which the workbook does not define"
    )
    assert "a cell named 'ZZZZZZ2'" in details["reference"]
    assert values == {}


def _errors(response: Any) -> list[tuple[int | None, str | None, str]]:
    assert response.status_code == 422, response.text
    problem = problem_of(response)
    assert problem["type"] == "urn:pmm:problem:invalid-input"
    return [(e["row"], e["column"], e["rule"]) for e in problem["errors"]]


_VALUE_D2 = b'<c r="D2" t="n"><v>4242</v></c>'


async def test_a_row_past_column_xfd_or_naming_a_cell_twice_is_refused(
    submission_service: ServiceToStart,
) -> None:
    # A few kilobytes of ZIP: cells without a reference count on from the last.
    good = workbook([["PMM-2025", "DECL_TOTAL", T, 4242]])
    rows = {
        "past XFD": _VALUE_D2 + b"<c/>" * 1_000_000,
        "twice": _VALUE_D2 + b'<c r="D2" t="n"><v>1</v></c>',
        "out of order": _VALUE_D2 + b'<c r="A2" t="n"><v>1</v></c>',
    }
    bodies = {
        name: with_part(good, SHEET, replacing(_VALUE_D2, cells))
        for name, cells in rows.items()
    }
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        answers = {name: await _feed(s, body, XLSX) for name, body in bodies.items()}
        values = await _values(s, cycle_id)

    assert len(bodies["past XFD"]) < 64 * 1024
    assert {name: _errors(answer) for name, answer in answers.items()} == (
        {name: [(2, None, "xlsx.invalid")] for name in bodies}
    )
    details = {name: problem_of(answer)["detail"] for name, answer in answers.items()}
    assert details == {
        "past XFD": "row 2 of sheet 'Sheet' has a cell past column XFD, the last "
        "one (A2 to XFD2)",
        "twice": "row 2 of sheet 'Sheet' has cell D2 after cell D2: a row's cells "
        "come once each, in column order",
        "out of order": "row 2 of sheet 'Sheet' has cell A2 after cell D2: a row's "
        "cells come once each, in column order",
    }
    assert values == {}


def _in_utf16(codec: str, bom: bytes = b"") -> Callable[[bytes], bytes]:
    """A change for `with_part`: the part declared and written in UTF-16, with a
    document type whose entity `n` is 22 (a UTF-8 search for it finds nothing)."""

    def change(part: bytes) -> bytes:
        text = part.decode().replace("<v>4242</v>", "<v>&n;</v>")
        text = text.replace("<t>STAFF_TOTAL</t>", "<t>&n;</t>")
        start = text.index("<", text.index("?>") + 2) if text.startswith("<?") else 0
        declared = '<?xml version="1.0" encoding="UTF-16"?>'
        doctype = '<!DOCTYPE x [<!ENTITY n "22">]>'
        return bom + (declared + doctype + text[start:]).encode(codec)

    return change


async def test_a_workbook_part_not_in_utf8_is_refused(
    submission_service: ServiceToStart,
) -> None:
    good = workbook([["PMM-2025", "DECL_TOTAL", T, 4242]])
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' count="1" uniqueCount="1"><si><t>STAFF_TOTAL</t></si></sst>'
    )
    shared = with_part(
        with_shared_strings(good, strings),
        SHEET,
        replacing(
            b'<c r="B2" t="inlineStr"><is><t>DECL_TOTAL</t></is></c>',
            b'<c r="B2" t="s"><v>0</v></c>',
        ),
    )
    strings_part = "xl/sharedStrings.xml"
    bodies = {
        SHEET + " LE": with_part(good, SHEET, _in_utf16("utf-16-le", b"\xff\xfe")),
        SHEET + " BE": with_part(good, SHEET, _in_utf16("utf-16-be")),
        strings_part + " LE": with_part(shared, strings_part, _in_utf16("utf-16-le")),
        strings_part + " BE": with_part(
            shared, strings_part, _in_utf16("utf-16-be", b"\xfe\xff")
        ),
    }
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        answers = {name: await _feed(s, body, XLSX) for name, body in bodies.items()}
        values = await _values(s, cycle_id)

    assert {name: _errors(answer) for name, answer in answers.items()} == {
        name: [(None, None, "xlsx.invalid")] for name in bodies
    }
    assert {name: problem_of(answer)["detail"] for name, answer in answers.items()} == {
        name: f"the workbook's part {name.split()[0]} is not in UTF-8: each part of a "
        "workbook must be UTF-8"
        for name in bodies
    }
    assert values == {}


async def test_a_yes_no_cell_holding_other_text_is_refused_naming_the_cell(
    submission_service: ServiceToStart,
) -> None:
    good = workbook(
        [["PMM-2025", "DECL_TOTAL", T, 1], ["PMM-2025", "CODE_OF_CONDUCT", T, True]]
    )
    body = with_part(
        good,
        SHEET,
        replacing(b'<c r="D3" t="b"><v>1</v></c>', b'<c r="D3" t="b"><v>TRUE</v></c>'),
    )
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        response = await _feed(s, body, XLSX)
        values = await _values(s, cycle_id)

    assert _errors(response) == [(3, None, "xlsx.invalid")]
    assert problem_of(response)["detail"] == (
        "cell D3 of sheet 'Sheet' holds 'TRUE', which is not a yes/no (0 or 1)"
    )
    assert values == {}


async def test_a_header_without_the_columns_a_row_needs_is_refused_in_csv_and_xlsx(
    submission_service: ServiceToStart,
) -> None:
    header_only = workbook([], header=("member", "cycle"))
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        from_xlsx = await _feed(s, header_only, XLSX)
        from_csv = await _feed(s, b"member,cycle\nBRA,PMM-2025\n", CSV)
        values = await _values(s, cycle_id)

    for response in (from_xlsx, from_csv):
        assert response.status_code == 422
        problem = problem_of(response)
        assert problem["type"] == "urn:pmm:problem:invalid-input"
        assert [(e["row"], e["column"], e["rule"]) for e in problem["errors"]] == [
            (1, "data_element", "column.missing"),
            (1, "year", "column.missing"),
            (1, "value", "column.missing"),
        ]
        assert problem["detail"] == (
            "missing column(s): data_element or name, year, value or state"
        )
    assert values == {}


async def test_a_key_given_twice_in_a_form_body_is_refused_naming_where(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = {**s.token(Role.PREPARER, "BRA"), **JSON}
        single = await s.client.put(
            _url(cycle_id, f"/values/DECL_TOTAL/{T}"),
            content=b'{"value": "10", "value": "1000"}',
            headers=preparer,
        )
        batch = await s.client.post(
            _url(cycle_id, "/values"),
            content=b'{"values": [{"data_element": "DECL_TOTAL", "year": %d,'
            b' "value": "1"}, {"data_element": "STAFF_TOTAL", "year": %d,'
            b' "value": "1", "value": "2"}]}' % (T, T),
            headers=preparer,
        )
        values = await _values(s, cycle_id)

    assert _fields(single) == [("body.value", "json_duplicate_key")]
    assert problem_of(single)["errors"][0]["message"] == (
        "'value' is given twice in one object; JSON leaves open which is meant"
    )
    assert _fields(batch) == [("body.values.1.value", "json_duplicate_key")]
    assert values == {}
