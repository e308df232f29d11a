"""`pmm framework`: listing, showing and evaluating offline, on the command line."""

import csv
import json
import zipfile
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from pmm_local.cli import app
from shared.methodology.tests.test_reference_framework import CONFIRMED_KPIS

YEAR = 2022
HEADER = ["element", "year", "value"]


def _pmm(*arguments: str | int | Path) -> Result:
    return CliRunner().invoke(app, [str(argument) for argument in arguments])


def _complete_rows() -> list[list[Any]]:
    """The library's complete submission, with 187777 electronic declarations."""
    vectors = resources.files("pmm_methodology").joinpath("vectors")
    document = json.loads(vectors.joinpath("complete-submission.json").read_text())
    rows: list[list[Any]] = []
    for entry in document["cases"][0]["values"]:
        value = entry["value"]
        if (entry["element"], entry["year"]) == ("DECL_ELECTRONIC", YEAR):
            value = "187777"
        rows.append([entry["element"], entry["year"], value])
    return rows


def _csv_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _sheet_cell(value: Any) -> Any:
    """What a spreadsheet holds: numbers as numbers, yes/no as booleans."""
    if not isinstance(value, str):
        return value
    if value.isdigit():
        return int(value)
    try:
        return float(value)
    except ValueError:
        return value


def _write_csv(
    path: Path,
    header: list[str],
    rows: list[list[Any]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows([_csv_text(cell) for cell in row] for row in rows)
    return path


def _write_json(path: Path, rows: list[list[Any]]) -> Path:
    items = [dict(zip(HEADER, row, strict=True)) for row in rows]
    path.write_text(json.dumps({"values": items}), encoding="utf-8")
    return path


def _write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for element, year, value in rows:
        sheet.append([element, year, _sheet_cell(value)])
    workbook.save(path)
    return path


def _evaluated(path: Path, *options: str) -> Result:
    return _pmm(
        "framework", "evaluate", "--framework", "pmm-v1", "--year", YEAR, path, *options
    )


def _kpi(document: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(k for k in document["kpis"] if k["code"] == code)
    return found


def test_list_names_the_reference_framework_with_its_size_and_hash() -> None:
    result = _pmm("framework", "list")

    assert result.exit_code == 0
    assert "pmm-v1" in result.stdout
    assert "1.0.0" in result.stdout
    assert "51" in result.stdout
    shown = _pmm("framework", "show", "pmm-v1", "--json")
    assert json.loads(shown.stdout)["sha256"] in result.stdout


def test_show_pmm_v1_lists_the_framework_and_its_provisional_kpis() -> None:
    result = _pmm("framework", "show", "pmm-v1", "--json")

    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert (document["code"], document["version"]) == ("PMM", "1.0.0")
    assert len(document["dimensions"]) == 4
    assert len(document["outcomes"]) == 23
    assert len(document["kpis"]) == 51
    for kpi in document["kpis"]:
        assert kpi["provisional"] is (kpi["name"]["en"] not in CONFIRMED_KPIS), kpi
    assert _kpi(document, "TF.2.1")["inputs"] == ["AEO_COUNT", "AEO_COUNT[T-1]"]


@pytest.mark.parametrize("code", ["PMM", "pmm", "PMM@1.0.0", "pmm-v1@1.0.0"])
def test_show_also_takes_the_code_and_a_version(code: str) -> None:
    expected = _pmm("framework", "show", "pmm-v1", "--json").stdout

    result = _pmm("framework", "show", code, "--json")

    assert result.exit_code == 0
    assert result.stdout == expected


def test_show_of_an_unknown_framework_lists_the_known_ones() -> None:
    result = _pmm("framework", "show", "PMM@9.9.9")

    assert result.exit_code == 2
    known = "known: pmm-v1 (PMM@1.0.0)"
    assert f"no shipped framework 'PMM@9.9.9'; {known}" in result.stderr


def test_csv_with_bom_json_and_xlsx_give_the_same_bytes(tmp_path: Path) -> None:
    rows = _complete_rows()
    files = [
        _write_csv(tmp_path / "values.csv", HEADER, rows, encoding="utf-8-sig"),
        _write_json(tmp_path / "values.json", rows),
        _write_xlsx(tmp_path / "values.xlsx", rows),
    ]
    assert (tmp_path / "values.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    results = [_evaluated(path, "--json") for path in files]

    assert [result.exit_code for result in results] == [0, 0, 0]
    assert results[0].stdout_bytes == results[1].stdout_bytes
    assert results[0].stdout_bytes == results[2].stdout_bytes
    document = json.loads(results[0].stdout)
    # 187777 / 200000 * 100 = 93.8885, two places half up: 93.89; 80 <= 93.89 < 95.
    assert _kpi(document, "TF.1.1")["value"] == "93.89"
    assert _kpi(document, "TF.1.1")["level"] == 3
    # 30.25 hours read from a float cell stays 30.25, not its binary expansion.
    assert _kpi(document, "TF.4.1")["exact_value"] == "30.25"
    assert document["findings"] == []


def test_an_xlsx_number_is_read_as_the_file_stores_it(tmp_path: Path) -> None:
    exact = "30.25000000000000000001"  # 20 decimals, the most a figure has
    rows = [
        [element, year, exact if value == "30.25" else value]
        for element, year, value in _complete_rows()
    ]
    csv_file = _write_csv(tmp_path / "values.csv", HEADER, rows)
    # A spreadsheet program writes at most 17 digits; another program may write
    # more, and the text in <v> is the number: no float may stand between.
    xlsx_file = _write_xlsx(tmp_path / "values.xlsx", _complete_rows())
    _rewrite_sheet(xlsx_file, "<v>30.25</v>", f"<v>{exact}</v>")

    from_csv, from_xlsx = (_evaluated(f, "--json") for f in (csv_file, xlsx_file))

    assert (from_csv.exit_code, from_xlsx.exit_code) == (0, 0)
    assert from_xlsx.stdout_bytes == from_csv.stdout_bytes
    assert _kpi(json.loads(from_xlsx.stdout), "TF.4.1")["exact_value"] == exact


def _rewrite_sheet(path: Path, old: str, new: str) -> None:
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    assert parts[sheet].count(old.encode()) == 1
    parts[sheet] = parts[sheet].replace(old.encode(), new.encode())
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)


def test_the_scorecard_is_printed_as_tables(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "values.csv", HEADER, _complete_rows())

    result = CliRunner().invoke(
        app,
        ["framework", "evaluate", "--framework", "PMM", "--year", str(YEAR), str(path)],
        env={"COLUMNS": "200"},
    )

    assert result.exit_code == 0
    assert "Rate of electronic declarations" in result.stdout
    assert "93.89" in result.stdout
    assert "No findings." in result.stdout
    assert "51 of 51 KPIs computed; no blocking finding" in result.stdout


def test_a_semicolon_csv_with_states_and_an_opt_out(tmp_path: Path) -> None:
    transit = {"TRANSIT_ELECTRONIC", "TRANSIT_IN_TIME", "TRANSIT_OPERATIONS"}
    rows = [[*row, "", "", ""] for row in _complete_rows() if row[0] not in transit]
    rows += [
        ["TRANSIT_IN_TIME", YEAR, "", "not_applicable", "no transit regime, none", ""],
        ["TRANSIT_OPERATIONS", YEAR, "", "not_applicable", "no transit regime", ""],
        ["", "", "", "", "no transit regime", "TF.8.1"],
    ]
    header = [*HEADER, "state", "reason", "kpi"]
    path = _write_csv(tmp_path / "values.csv", header, rows, delimiter=";")

    result = _evaluated(path, "--json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    transit_share = _kpi(document, "TF.8.2")
    assert (transit_share["status"], transit_share["level"]) == (
        "not_computable",
        "n/a",
    )
    assert "no transit regime, none" in transit_share["not_computable"]["detail"]
    assert _kpi(document, "TF.8.1")["status"] == "opted_out"
    assert _kpi(document, "TF.8.1")["opt_out_reason"] == "no transit regime"
    outcome = next(o for o in document["outcomes"] if o["code"] == "TF.8")
    assert outcome["status"] == "n/a"


def test_blocking_findings_are_shown_and_exit_with_1(tmp_path: Path) -> None:
    rows = [
        [element, year, "300000" if element == "DECL_ELECTRONIC" else value]
        for element, year, value in _complete_rows()
    ]
    path = _write_csv(tmp_path / "values.csv", HEADER, rows)

    result = _evaluated(path, "--json")

    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["element"], f["severity"]) for f in findings] == [
        ("R_DECL_ELECTRONIC_LE_TOTAL", "DECL_ELECTRONIC", "error")
    ]


def test_an_unknown_element_is_named_with_its_row(tmp_path: Path) -> None:
    rows = [["DECL_TOTAL", YEAR, "200000"], ["DECL_TOTL", YEAR, "199000"]]
    path = _write_csv(tmp_path / "values.csv", HEADER, rows)

    result = _evaluated(path)

    assert result.exit_code == 2
    assert (
        "row 3, column element: 'DECL_TOTL' is not a data element of PMM 1.0.0 "
        "(did you mean DECL_TOTAL?)"
    ) in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            ["DECL_TOTAL", YEAR, "12,5"],
            "row 2, column value: '12,5' is not a number",
        ),
        (["DECL_TOTAL", "20x2", "12"], "row 2, column year: '20x2' is not a year"),
        (
            ["AEO_PROGRAMME", YEAR, "oui"],
            "row 2, column value: 'oui': yes/no is expected (true or false)",
        ),
        (
            ["DECL_TOTAL", YEAR, "1e5"],
            "row 2, column value: '1e5': write the number without an exponent",
        ),
        (
            ["DECL_TOTAL", YEAR, "1" * 31],
            "row 2, column value: '" + "1" * 31 + "': a figure has at most 30 digits",
        ),
        (
            ["SINGLE_WINDOW_STATUS", YEAR, "sometimes"],
            "row 2, column value: 'sometimes' is not one of none, planned, partial",
        ),
        (["DECL_TOTAL", "2022.0", "12"], "row 2, column year: '2022.0' is not a year"),
    ],
)
def test_an_unreadable_cell_is_named_by_row_and_column(
    tmp_path: Path, row: list[Any], message: str
) -> None:
    path = _write_csv(tmp_path / "values.csv", HEADER, [row])

    result = _evaluated(path)

    assert result.exit_code == 2
    assert message in result.stderr


def test_a_damaged_workbook_is_refused_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "values.xlsx"
    path.write_bytes(b"not a workbook")

    result = _evaluated(path)

    assert result.exit_code == 2
    assert f"{path}: not an XLSX workbook" in result.stderr
    assert "Traceback" not in result.output


def test_a_file_that_is_not_utf8_is_refused_with_a_message(tmp_path: Path) -> None:
    rows = [["DECL_TOTAL", YEAR, "200000"]]
    path = _write_csv(tmp_path / "values.csv", ["élément", "year", "value"], rows)
    path.write_bytes(path.read_bytes().replace("é".encode(), "é".encode("latin-1")))

    result = _evaluated(path)

    assert result.exit_code == 2
    assert "not UTF-8 text (byte 1); save the file as UTF-8" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" + "1" * 5000 + "]", "not a readable JSON file: Exceeds the limit"),
        ("[" * 100_000 + "]" * 100_000, "nests arrays or objects deeper than"),
    ],
)
def test_json_python_cannot_read_is_refused_with_a_message(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "values.json"
    path.write_text(text)

    result = _evaluated(path)

    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_file_is_refused_with_a_message(tmp_path: Path) -> None:
    result = _evaluated(tmp_path / "absent.json")

    assert result.exit_code == 2
    assert "cannot read the file: No such file or directory" in result.stderr


def test_json_numbers_are_read_exactly(tmp_path: Path) -> None:
    rows = _complete_rows()
    path = tmp_path / "values.json"
    items = [dict(zip(HEADER, row, strict=True)) for row in rows]
    for item in items:
        if item["element"] == "RELEASE_TIME_AVG":
            item["value"] = Decimal("30.250")
    path.write_text(json.dumps(items, default=str).replace('"30.250"', "30.250"))

    result = _evaluated(path, "--json")

    assert result.exit_code == 0
    release = _kpi(json.loads(result.stdout), "TF.4.1")
    assert release["inputs"][0]["value"] == "30.250"


def test_a_file_of_opt_outs_alone_needs_no_element_column(tmp_path: Path) -> None:
    path = tmp_path / "opt-outs.csv"
    path.write_text("kpi,reason\nTF.8.1,no transit regime\n", encoding="utf-8")

    result = _evaluated(path, "--json")

    assert result.exit_code == 1, result.stderr  # every value is missing
    transit = _kpi(json.loads(result.stdout), "TF.8.1")
    assert (transit["status"], transit["opt_out_reason"]) == (
        "opted_out",
        "no transit regime",
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "values.json",
            '[{"element": "DECL_TOTAL", "year": 2022, "value": 1, "value": 2}]',
            "the key 'value' is given twice in one object",
        ),
        (
            "values.csv",
            'element,year,value\nDECL_TOTAL,2022,"12\nDECL_ELECTRONIC,2022,10\n',
            "line 3: not valid CSV (unexpected end of data)",
        ),
        (
            "values.json",
            '[{"element": "DECL_TOTAL", "year": 2022.0, "value": 1}]',
            "item 1, column year: '2022.0' is not a year",
        ),
    ],
)
def test_a_file_the_platform_would_refuse_is_refused(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    result = _evaluated(path)

    assert result.exit_code == 2
    assert message in result.stderr


def test_a_directory_or_a_device_is_refused_unread(tmp_path: Path) -> None:
    directory = tmp_path / "values.csv"
    directory.mkdir()
    device = tmp_path / "zero.json"
    device.symlink_to("/dev/zero")

    results = [_evaluated(directory), _evaluated(device)]

    for result in results:
        assert result.exit_code == 2
        assert "not a regular file (a directory, a device or a pipe)" in result.stderr
