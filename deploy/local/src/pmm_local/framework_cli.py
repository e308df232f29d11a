"""`pmm framework`: the frameworks shipped with the platform, and evaluating an
administration's figures offline.

Only pmm_methodology computes here, with no server, database or network: a member
checks its figures on a laptop with the same library and framework file that score
them on the platform, and gets the same bytes.
"""

import csv
import difflib
import io
import json
import math
import re
import stat
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from openpyxl.utils import get_column_letter
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pmm_kit.numbers import NumberRuleError
from pmm_kit.typed_values import typed_value
from pmm_methodology import (
    Assessment,
    DataElement,
    DataValue,
    Framework,
    KpiResult,
    Severity,
    ValueKey,
    ValueState,
    compute,
    shipped_frameworks,
)
from pmm_submission.xlsx import SheetCell, SheetError, first_sheet_rows

app = typer.Typer(
    help="The PMM frameworks shipped with the platform; evaluate figures offline.",
    no_args_is_help=True,
)

EXIT_BLOCKING_FINDINGS = 1
EXIT_UNREADABLE_INPUT = 2

COLUMNS = ("element", "year", "value", "state", "reason", "kpi")
VALUE_COLUMNS = ("element", "year", "value")
# Far above any file of values (the reference framework's complete submission is
# under 10 kB); a bound so that a device or a runaway file is refused, not read.
MAX_FILE_BYTES = 64 * 1024 * 1024
_YEAR = re.compile(r"[0-9]{4}")


class InputFileError(Exception):
    """FILE cannot be read as values; the message says where (row and column)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One row of FILE: its cells by column, and where it is, for messages."""

    where: str
    cells: dict[str, Any]

    def text(self, column: str) -> str:
        cell = self.cells.get(column)
        return "" if cell is None else str(cell).strip()

    def error(self, column: str, message: str) -> InputFileError:
        return InputFileError(f"{self.where}, column {column}: {message}")


@dataclass(slots=True)
class Submission:
    """What FILE gives `compute`: the values and the KPI opt-outs."""

    values: dict[ValueKey, DataValue] = field(default_factory=dict)
    kpi_opt_outs: dict[str, str] = field(default_factory=dict)


# -- finding a framework ------------------------------------------------------------


def find_framework(reference: str) -> Framework:
    """The shipped framework named by its file (`pmm-v1`) or its code (`PMM`),
    either optionally with `@VERSION`; raises LookupError naming the known ones."""
    shipped = shipped_frameworks()
    name, _, version = reference.strip().partition("@")
    matches = [
        framework
        for file_name, framework in shipped.items()
        if name.casefold() in (file_name.casefold(), framework.code.casefold())
        and version in ("", framework.version)
    ]
    if len(matches) == 1:
        return matches[0]

    known = ", ".join(
        f"{file_name} ({framework.code}@{framework.version})"
        for file_name, framework in shipped.items()
    )
    if not matches:
        raise LookupError(f"no shipped framework '{reference}'; known: {known}")
    raise LookupError(f"'{reference}' names several frameworks, add @VERSION: {known}")


def _framework_or_exit(reference: str) -> Framework:
    try:
        return find_framework(reference)
    except LookupError as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(EXIT_UNREADABLE_INPUT)


# -- list and show ------------------------------------------------------------------


@app.command("list")
def list_frameworks() -> None:
    """List the frameworks shipped with the library: code, version, size and hash."""
    shipped = shipped_frameworks()
    table = Table(title="Shipped frameworks")
    for column in ("file", "code", "version", "dimensions", "outcomes", "KPIs"):
        table.add_column(column, no_wrap=True)
    table.add_column("name")
    for file_name, framework in shipped.items():
        table.add_row(
            file_name,
            framework.code,
            framework.version,
            str(len(framework.dimensions)),
            str(len(framework.outcomes)),
            str(len(framework.kpis)),
            _cell(framework.name.en),
        )
    console = _console()
    console.print(table)
    # Whole, on a line of its own: the hash is compared with the one WCO publishes.
    for file_name, framework in shipped.items():
        console.print(f"{file_name} sha256 {framework.content_hash}", soft_wrap=True)


@app.command()
def show(
    code: Annotated[
        str,
        typer.Argument(
            help="The file name (pmm-v1) or the code (PMM), optionally @VERSION.",
            show_default=False,
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON document instead of tables.")
    ] = False,
) -> None:
    """Show a framework's dimensions, expected outcomes and KPIs.

    --json prints the whole framework, data elements and rules included,
    with each KPI's inputs as in the file: CODE for T, CODE[T-1] for T-1.
    """
    framework = _framework_or_exit(code)
    if as_json:
        document = framework_document(framework)
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return

    console = _console()
    console.print(
        Text(f"{framework.code} {framework.version}: {framework.name.en}", "bold")
    )
    console.print(f"sha256 {framework.content_hash}")
    console.print(_dimensions_table(framework))
    console.print(_outcomes_table(framework))
    console.print(_kpis_table(framework))
    console.print(_kpi_formulas_table(framework))


def framework_document(framework: Framework) -> dict[str, Any]:
    document = framework.model_dump(mode="json")
    document["sha256"] = framework.content_hash
    for kpi, dumped in zip(framework.kpis, document["kpis"], strict=True):
        dumped["inputs"] = [declared.label for declared in kpi.inputs]
    return document


def _dimensions_table(framework: Framework) -> Table:
    table = Table(title="Dimensions")
    for column in ("code", "name (en)", "name (fr)", "provisional"):
        table.add_column(column)
    for dimension in framework.dimensions:
        table.add_row(
            dimension.code,
            _cell(dimension.name.en),
            _cell(dimension.name.fr),
            _yes(dimension.provisional),
        )
    return table


def _outcomes_table(framework: Framework) -> Table:
    table = Table(title="Expected outcomes")
    for column in ("code", "name (en / fr)", "provisional", "aggregation"):
        table.add_column(column)
    for outcome in framework.outcomes:
        table.add_row(
            outcome.code,
            _cell(f"{outcome.name.en}\n{outcome.name.fr}"),
            _yes(outcome.provisional),
            outcome.aggregation.value,
        )
    return table


def _kpis_table(framework: Framework) -> Table:
    table = Table(title="KPIs")
    for column in ("code", "name (en / fr)", "provisional", "kind, unit"):
        table.add_column(column)
    table.add_column("direction, disclosure")
    for kpi in framework.kpis:
        table.add_row(
            kpi.code,
            _cell(f"{kpi.name.en}\n{kpi.name.fr}"),
            _yes(kpi.provisional),
            f"{kpi.kind.value}, {kpi.unit}",
            f"{kpi.direction.value}, {kpi.disclosure.value}",
        )
    return table


def _kpi_formulas_table(framework: Framework) -> Table:
    table = Table(title="KPI formulas")
    table.add_column("code", no_wrap=True)
    # Folded, never cut with an ellipsis: a shortened code would read as another.
    table.add_column("inputs", overflow="fold", min_width=12)
    table.add_column("formula", overflow="fold", min_width=16)
    table.add_column("instruments", overflow="fold")
    table.add_column("SDG")
    for kpi in framework.kpis:
        table.add_row(
            kpi.code,
            _cell("\n".join(declared.label for declared in kpi.inputs)),
            _cell(kpi.formula),
            " ".join(kpi.instruments),
            " ".join(kpi.sdg_targets),
        )
    return table


# -- evaluate -----------------------------------------------------------------------


# typer prints a docstring's lines as written: they are kept short enough for an
# 80-column terminal.
@app.command()
def evaluate(
    file: Annotated[
        Path,
        typer.Argument(
            help="The values: a .csv, .json or .xlsx file.", show_default=False
        ),
    ],
    framework_code: Annotated[
        str,
        typer.Option(
            "--framework",
            help="The file name (pmm-v1) or the code (PMM), optionally @VERSION.",
            show_default=False,
        ),
    ],
    year: Annotated[
        int,
        typer.Option(
            min=1900, max=2999, help="The reporting year T.", show_default=False
        ),
    ],
    as_json: Annotated[
        bool,
        typer.Option("--json", help="The assessment's canonical JSON, findings in it."),
    ] = False,
) -> None:
    """Compute a scorecard from a file of values, offline, and check them.

    FILE holds one value a row, in the columns element, year, value, and
    optionally state and reason. The state is provided (the default),
    not_applicable or not_available; the last two take a reason, no value.
    Values are read as the platform reads them: numbers with a decimal point,
    no exponent or thousands separator; yes/no elements true or false;
    enumerations one of their codes. A row with a kpi column instead of an
    element opts that KPI out: a reason, no value, the year empty or T.

    CSV: UTF-8 with or without BOM, comma or semicolon (as in the header).
    JSON: a list of objects with those keys, or {"values": [...]}.
    XLSX: the first sheet, header in row 1; cell values, not displayed text.

    Exit status: 0 evaluated, no blocking finding; 1 evaluated, with
    blocking (error) findings that would stop a submission; 2 FILE cannot
    be read (row and column named) or names an unknown element or KPI.
    """
    framework = _framework_or_exit(framework_code)
    try:
        submission = submission_of(framework, year, read_records(file))
    except InputFileError as error:
        _fail(f"{file}: {error}")

    assessment = compute(
        framework, year, submission.values, kpi_opt_outs=submission.kpi_opt_outs
    )
    if as_json:
        sys.stdout.write(assessment.to_canonical_json() + "\n")
    else:
        _print_assessment(framework, assessment)
    if assessment.blocking_findings:
        raise typer.Exit(EXIT_BLOCKING_FINDINGS)


# -- reading FILE -------------------------------------------------------------------


def read_records(path: Path) -> list[Record]:
    """The rows of a CSV, JSON or XLSX file, by the name's suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json", ".xlsx"):
        raise InputFileError(
            f"'{path.suffix}' files are not read: give .csv, .json or .xlsx"
        )

    try:
        _check_regular_file(path)
        if suffix == ".csv":
            return _csv_records(_bounded_bytes(path))
        if suffix == ".json":
            return _json_records(_bounded_bytes(path))
        return _xlsx_records(path)
    except OSError as error:
        raise InputFileError(f"cannot read the file: {error.strerror}") from None


def _check_regular_file(path: Path) -> None:
    # A directory or a device (/dev/zero would be read for ever) is no file of
    # values; stat raises the OSError a missing file is reported by.
    if not stat.S_ISREG(path.stat().st_mode):
        raise InputFileError("not a regular file (a directory, a device or a pipe)")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputFileError(f"larger than {MAX_FILE_BYTES // 2**20} MB")


def _bounded_bytes(path: Path) -> bytes:
    with path.open("rb") as file:
        content = file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise InputFileError(f"larger than {MAX_FILE_BYTES // 2**20} MB")
    return content


def _utf8_text(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputFileError(
            f"not UTF-8 text (byte {error.start + 1}); save the file as UTF-8"
        ) from None


def _csv_records(content: bytes) -> list[Record]:
    text = _utf8_text(content)
    header_line = text.split("\n", 1)[0]
    # Spreadsheets in decimal-comma locales write `;`; the header row tells which.
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    # Strict: a quote left open would otherwise swallow every later row silently.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as error:
        message = f"line {reader.line_num}: not valid CSV ({error})"
        raise InputFileError(message) from None
    return _table_records(rows)


def _xlsx_records(path: Path) -> list[Record]:
    """The first sheet's rows, read by the reader the submission service reads
    feeds with: a number is the text the file stores, never a float."""
    rows: list[tuple[Any, ...]] = []
    try:
        for number, cells in first_sheet_rows(_bounded_bytes(path)):
            # Sheet rows keep their numbers in messages; those skipped are blank.
            rows.extend(() for _ in range(number - 1 - len(rows)))
            rows.append(_sheet_row(number, cells))
    except SheetError as error:
        # The reader speaks of what the service reads, a request's body.
        reason = error.message.replace("the body", "the file")
        raise InputFileError(f"not an XLSX workbook it can read: {reason}") from None
    return _table_records(rows)


def _sheet_row(number: int, cells: dict[int, SheetCell]) -> tuple[Any, ...]:
    for column, cell in cells.items():
        if cell.formula_without_result:
            raise InputFileError(
                f"cell {get_column_letter(column)}{number} holds a formula whose "
                "result the file does not store: open and save it in a spreadsheet "
                "program"
            )
    width = max(cells, default=0)
    return tuple(
        cells[column].value if column in cells else None
        for column in range(1, width + 1)
    )


def _table_records(rows: Sequence[Sequence[Any]]) -> list[Record]:
    """Rows of a sheet or CSV: a header row, then values; blank rows are skipped."""
    if not rows:
        raise InputFileError("the file is empty; its first row names the columns")

    header = _header(rows[0])
    records: list[Record] = []
    for number, row in enumerate(rows[1:], start=2):
        if all(_is_blank(cell) for cell in row):
            continue
        for index, cell in enumerate(row):
            if (index >= len(header) or header[index] is None) and not _is_blank(cell):
                raise InputFileError(
                    f"row {number}, cell {index + 1}: a value under no column name"
                )
        cells = {
            name: cell
            for name, cell in zip(header, row, strict=False)
            if name is not None
        }
        records.append(Record(f"row {number}", cells))
    return records


def _header(cells: Sequence[Any]) -> list[str | None]:
    names = [None if _is_blank(cell) else str(cell).strip().lower() for cell in cells]
    for name in names:
        if name is not None and name not in COLUMNS:
            raise InputFileError(
                f"row 1: unknown column '{name}'; the columns are {', '.join(COLUMNS)}"
            )
        if name is not None and names.count(name) > 1:
            raise InputFileError(f"row 1: the column '{name}' appears twice")
    # A file of opt-outs alone names KPIs and needs no element, year or value.
    if "kpi" in names and "element" not in names:
        return names
    missing = [name for name in VALUE_COLUMNS if name not in names]
    if missing:
        raise InputFileError(f"row 1: no column {', '.join(missing)}")
    return names


def _is_blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _json_records(content: bytes) -> list[Record]:
    try:
        document = json.loads(
            _utf8_text(content),
            parse_float=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=_object_once,
        )
    except json.JSONDecodeError as error:
        raise InputFileError(
            f"not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise InputFileError(
            "the JSON nests arrays or objects deeper than any file of values does"
        ) from None
    except ValueError as error:
        # Python refuses to read an integer of more than 4,300 digits.
        raise InputFileError(f"not a readable JSON file: {error}") from None

    items = _json_items(document)
    records: list[Record] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InputFileError(f"item {number} is not an object")
        unknown = sorted(set(item) - set(COLUMNS))
        if unknown:
            raise InputFileError(
                f"item {number}: unknown key '{unknown[0]}'; "
                f"the keys are {', '.join(COLUMNS)}"
            )
        records.append(Record(f"item {number}", dict(item)))
    return records


def _json_items(document: Any) -> list[Any]:
    if isinstance(document, dict) and set(document) == {"values"}:
        document = document["values"]
    if not isinstance(document, list):
        raise InputFileError('give a list of objects, or {"values": [...]}')
    return document


def _no_constant(name: str) -> NoReturn:
    raise InputFileError(f"{name} is not a number")


def _object_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Python keeps the last of a key given twice; which one was meant is unknown.
    keys = [key for key, _ in pairs]
    twice = next((key for key in keys if keys.count(key) > 1), None)
    if twice is not None:
        raise InputFileError(f"the key '{twice}' is given twice in one object")
    return dict(pairs)


# -- from records to a submission ---------------------------------------------------


def submission_of(
    framework: Framework, year: int, records: Iterable[Record]
) -> Submission:
    """The values and opt-outs the records give, each checked against the framework
    so that an unknown code or an unreadable cell stops with its row and column."""
    elements = {element.code: element for element in framework.data_elements}
    submission = Submission()
    first_seen: dict[ValueKey | str, str] = {}
    for record in records:
        if record.text("kpi"):
            kpi, reason = _opt_out(framework, year, record)
            _once(first_seen, kpi, record, f"KPI {kpi} is opted out")
            submission.kpi_opt_outs[kpi] = reason
            continue
        key, value = _value(framework, elements, record)
        _once(first_seen, key, record, f"{key[0]} for {key[1]} is")
        submission.values[key] = value
    return submission


def _once(
    first_seen: dict[ValueKey | str, str],
    key: ValueKey | str,
    record: Record,
    what: str,
) -> None:
    if key in first_seen:
        raise InputFileError(
            f"{record.where}: {what} given again (first in {first_seen[key]})"
        )
    first_seen[key] = record.where


def _opt_out(framework: Framework, year: int, record: Record) -> tuple[str, str]:
    kpi = record.text("kpi")
    if record.text("element"):
        raise record.error("kpi", "a row gives an element or a kpi, not both")
    if kpi not in {known.code for known in framework.kpis}:
        raise record.error("kpi", f"'{kpi}' is not a KPI of {_named(framework)}")
    if record.text("state") not in ("", ValueState.NOT_APPLICABLE.value):
        raise record.error("state", "an opted-out KPI is not_applicable")
    if not _is_blank(record.cells.get("value")):
        raise record.error("value", "an opted-out KPI takes no value")
    if not _is_blank(record.cells.get("year")) and _year(record) != year:
        raise record.error("year", f"an opt-out is for the reporting year {year}")
    reason = record.text("reason")
    if not reason:
        raise record.error("reason", "an opted-out KPI needs a reason")
    return kpi, reason


def _value(
    framework: Framework, elements: dict[str, DataElement], record: Record
) -> tuple[ValueKey, DataValue]:
    code = record.text("element")
    if not code:
        raise record.error("element", "no data element (or kpi) given")
    element = elements.get(code)
    if element is None:
        raise record.error("element", _unknown_element(framework, code))

    key = (code, _year(record))
    state = _state(record)
    if state is ValueState.PROVIDED:
        return key, _provided(element, record)
    return key, _not_provided(state, record)


def _unknown_element(framework: Framework, code: str) -> str:
    message = f"'{code}' is not a data element of {_named(framework)}"
    known = [element.code for element in framework.data_elements]
    close = difflib.get_close_matches(code.upper(), known, n=1)
    return f"{message} (did you mean {close[0]}?)" if close else message


def _named(framework: Framework) -> str:
    return f"{framework.code} {framework.version}"


def _year(record: Record) -> int:
    cell = record.cells.get("year")
    if isinstance(cell, int) and not isinstance(cell, bool):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)  # a spreadsheet's number; JSON's 2022.0 is a Decimal
    text = record.text("year")
    if _YEAR.fullmatch(text):
        return int(text)
    shown = f"'{text}'" if text else "nothing"
    raise record.error("year", f"{shown} is not a year (four digits, such as 2022)")


def _state(record: Record) -> ValueState:
    text = record.text("state").lower()
    if not text:
        return ValueState.PROVIDED
    try:
        return ValueState(text)
    except ValueError:
        states = ", ".join(state.value for state in ValueState)
        raise record.error("state", f"'{text}' is not one of {states}") from None


def _provided(element: DataElement, record: Record) -> DataValue:
    if record.text("reason"):
        raise record.error(
            "reason", "a provided value takes no reason (or give another state)"
        )
    cell = record.cells.get("value")
    if _is_blank(cell):
        raise record.error(
            "value", "no value (or give not_applicable or not_available and a reason)"
        )
    try:
        return DataValue.provided(typed_value(element, _exact(cell)))
    except NumberRuleError as error:
        raise record.error("value", _refusal(cell, error.message)) from None


def _not_provided(state: ValueState, record: Record) -> DataValue:
    if not _is_blank(record.cells.get("value")):
        raise record.error("value", f"a {state.value} value takes no value")
    reason = record.text("reason")
    if not reason:
        raise record.error("reason", f"a {state.value} value needs a reason")
    if state is ValueState.NOT_APPLICABLE:
        return DataValue.not_applicable(reason)
    return DataValue.not_available(reason)


def _exact(cell: Any) -> Any:
    """The cell as the platform's services take a value: a spreadsheet's binary
    float becomes the exact decimal the sheet shows."""
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, float) and math.isfinite(cell):
        # The shortest text that reads back as this float, never the binary
        # expansion Decimal(float) would give.
        return Decimal(repr(cell))
    return cell


def _refusal(cell: Any, message: str) -> str:
    # Some of the platform's messages quote the text already; it is not repeated.
    shown = _shown(cell)
    return message if shown in message else f"{shown}: {message}"


def _shown(cell: Any) -> str:
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return f"'{cell}'"


# -- printing an assessment ---------------------------------------------------------


def _print_assessment(framework: Framework, assessment: Assessment) -> None:
    console = _console()
    console.print(_kpi_results_table(framework, assessment))
    console.print(_outcome_results_table(framework, assessment))
    console.print(_dimension_results_table(framework, assessment))
    console.print(
        _findings_table(assessment) if assessment.findings else Text("No findings.")
    )
    console.print(_summary(framework, assessment))


def _kpi_results_table(framework: Framework, assessment: Assessment) -> Table:
    table = Table(title=f"KPIs, {assessment.year}")
    for column in ("code", "name", "value", "unit", "level", "why"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for result in assessment.kpis:
        table.add_row(
            result.code,
            _cell(framework.kpi(result.code).name.en),
            _value_shown(result.value),
            result.unit,
            str(result.level),
            _cell(_why(result)),
        )
    return table


def _why(result: KpiResult) -> str:
    if result.opt_out_reason is not None:
        return f"opted out: {result.opt_out_reason}"
    if result.not_computable is not None:
        return result.not_computable.detail
    return ""


def _outcome_results_table(framework: Framework, assessment: Assessment) -> Table:
    table = Table(title="Expected outcomes")
    for column in ("code", "name", "aggregation", "status", "level"):
        table.add_column(column)
    for result in assessment.outcomes:
        table.add_row(
            result.code,
            _cell(framework.outcome(result.code).name.en),
            result.aggregation.value,
            result.status.value,
            _value_shown(result.level),
        )
    return table


def _dimension_results_table(framework: Framework, assessment: Assessment) -> Table:
    table = Table(title="Dimensions")
    for column in ("code", "name", "score", "coverage"):
        table.add_column(column)
    for result in assessment.dimensions:
        coverage = result.coverage
        ratio = "" if coverage.ratio is None else f" ({coverage.ratio})"
        table.add_row(
            result.code,
            _cell(framework.dimension(result.code).name.en),
            _value_shown(result.score),
            f"{coverage.scored}/{coverage.applicable}{ratio}",
        )
    return table


def _findings_table(assessment: Assessment) -> Table:
    table = Table(title=f"Findings ({len(assessment.findings)})")
    for column in ("severity", "element", "year", "kpi", "rule", "message"):
        table.add_column(column)
    for finding in assessment.findings:
        table.add_row(
            Text(finding.severity.value, _severity_style(finding.severity)),
            finding.element or "",
            "" if finding.year is None else str(finding.year),
            finding.kpi or "",
            finding.rule,
            _cell(finding.message),
        )
    return table


def _severity_style(severity: Severity) -> str:
    return "red" if severity is Severity.ERROR else "yellow"


def _summary(framework: Framework, assessment: Assessment) -> Text:
    computed = sum(1 for result in assessment.kpis if result.value is not None)
    blocking = len(assessment.blocking_findings)
    warnings = len(assessment.findings) - blocking
    verdict = (
        "no blocking finding"
        if not blocking
        else f"{blocking} blocking finding(s): a submission would be refused"
    )
    return Text(
        f"{_named(framework)}, {assessment.year}: {computed} of "
        f"{len(assessment.kpis)} KPIs computed; {verdict}; {warnings} warning(s)."
    )


# -- cells --------------------------------------------------------------------------


def _console() -> Console:
    # Made per command so that the terminal's width (COLUMNS) is read when it runs.
    return Console(highlight=False)


def _cell(text: str) -> Text:
    # Names, formulas and reasons are shown as written, never read as rich markup.
    return Text(text)


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def _value_shown(value: Decimal | bool | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
