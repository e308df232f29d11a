"""How the job shows itself: a line per step while it runs, then the results as
tables (rich) or as one JSON document."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pmm_local.job.steps import (
    WHY_NOT_USED,
    AdministrationResult,
    Import,
    JobResult,
    StepReport,
)
from pmm_methodology import Framework


class StepDisplay:
    """One line per step: a spinner while it runs, then how it ended (done, or
    found done and left as it was) and how long it took."""

    def __init__(self, console: Console) -> None:
        self.console = console

    @contextmanager
    def step(self, report: StepReport) -> Iterator[None]:
        title = escape(report.title)
        started = time.monotonic()
        try:
            with self.console.status(title):
                yield
        except BaseException:
            self.console.print(f"[red]✗[/red] {title}")
            raise
        elapsed = time.monotonic() - started
        ended = f" [dim]({elapsed:.1f} s)[/dim]"
        if report.already_done:
            ended = f": already done, {escape(report.note)}" + ended
        self.console.print(f"[green]✓[/green] {title}{ended}")


def result_document(result: JobResult) -> dict[str, Any]:
    return asdict(result)


def show_result(console: Console, result: JobResult, framework: Framework) -> None:
    cycle = result.cycle
    console.rule(f"Cycle {cycle['code']}: reporting year {cycle['reporting_year']}")
    for found in result.administrations.values():
        _show_administration(console, found, framework)
    _show_review(console, result.review)
    _show_benchmarks(console, result, framework)
    _show_files(console, result.files)


def _show_administration(
    console: Console, found: AdministrationResult, framework: Framework
) -> None:
    scorecard = found.scorecard
    member = scorecard["member"]
    console.print()
    console.rule(
        f"{member['name']} ({found.member}), {member['wco_region']}, "
        f"{member['income_group'] or 'no income group'}"
    )
    if found.feed is not None:
        feed = found.feed
        console.print(
            f"Feed: {_feed_text(feed, found.submission['state'])}; "
            f"{found.declared_not_available} values declared not available."
        )
        if feed.not_used:
            console.print(_not_used_table(feed.not_used))
        if feed.used_with_qualifier:
            console.print(_qualified_table(feed.used_with_qualifier))
    console.print(
        f"Submission: revision {scorecard['revision']}, "
        f"{scorecard['submission_status']}"
        + (", peer reviewed" if scorecard["peer_reviewed"] else "")
    )
    console.print(_kpi_table(scorecard, framework))
    console.print(_dimension_table(scorecard, framework))


def _feed_text(feed: Import, state: str) -> str:
    if feed.counts is not None:
        counts = feed.counts
        return (
            f"{feed.rows} published figures, {feed.used} used (created "
            f"{counts['create']}, updated {counts['update']}, unchanged "
            f"{counts['unchanged']})"
        )
    used = "not recorded" if feed.used is None else f"{feed.used} used"
    return (
        f"{feed.rows} published figures, {used} when an earlier run imported them; "
        f"nothing sent now, the submission being {state}"
    )


def _not_used_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Published figures not used", title_justify="left")
    for column in ("row", "figure", "year", "value", "unit", "why"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["row"]),
            row["name"],
            row["year"],
            row["value"],
            row["unit"],
            row["why"] if row["rule"] in WHY_NOT_USED else row["message"],
        )
    return table


def _qualified_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(
        title="Published figures used with a qualifier (the feed cannot carry it)",
        title_justify="left",
    )
    for column in ("row", "figure", "year", "value", "unit", "note as published"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["row"]),
            row["name"],
            row["year"],
            row["value"],
            row["unit"],
            row["note"],
        )
    return table


def _kpi_table(scorecard: dict[str, Any], framework: Framework) -> Table:
    table = Table(title="KPIs it could compute", title_justify="left")
    for column in ("KPI", "name", "value", "unit", "level", "disclosure"):
        table.add_column(column)
    computed = [k for k in scorecard["kpis"] if k["value"] is not None]
    for kpi in computed:
        table.add_row(
            kpi["code"],
            framework.kpi(kpi["code"]).name.en,
            str(kpi["value"]),
            kpi["unit"],
            kpi["level"] or "",
            kpi["disclosure"],
        )
    if not computed:
        table.add_row("-", "none could be computed from these figures", "", "", "", "")
    return table


def _dimension_table(scorecard: dict[str, Any], framework: Framework) -> Table:
    table = Table(title="Outcomes and dimensions", title_justify="left")
    for column in ("dimension", "score", "coverage", "outcomes with a level"):
        table.add_column(column)
    for dimension in scorecard["dimensions"]:
        coverage = dimension["coverage"] or {}
        levels = [
            f"{o['code']} {o['level']}"
            for o in scorecard["outcomes"]
            if o["dimension"] == dimension["code"] and o["level"] is not None
        ]
        table.add_row(
            f"{dimension['code']} {framework.dimension(dimension['code']).name.en}",
            "-" if dimension["score"] is None else str(dimension["score"]),
            f"{coverage.get('scored', 0)}/{coverage.get('applicable', 0)}",
            ", ".join(levels) or "none",
        )
    return table


def _show_review(console: Console, review: dict[str, Any]) -> None:
    console.print()
    console.rule(f"Peer review of {review['member']}: {review['state']}")
    for query in review["queries"]:
        console.print(
            f"Query on {query['data_element']} {query['year']} "
            f"({query['state']}): {query['subject']}"
        )
        for message in query["messages"]:
            console.print(f"  - {message}")
    for change in review["changes"]:
        before, after = change["before"], change["after"]
        console.print(
            f"Changed in the new revision: {change['data_element']} {change['year']} "
            f"{_value_text(before)} → {_value_text(after)} "
            f"(KPIs {', '.join(change['kpis'])})"
        )
    for change in review["kpi_changes"]:
        console.print(
            f"{change['kpi']}: {_kpi_result_text(change['before'])} → "
            f"{_kpi_result_text(change['after'])}"
        )
    for verdict in review["verdicts"]:
        reservation = (
            f": {verdict['reservation']}" if verdict.get("reservation") else ""
        )
        console.print(f"Verdict {verdict['kpi']}: {verdict['verdict']}{reservation}")
    console.print(f"Review report: {review['report_url']}")


def _kpi_result_text(result: dict[str, Any]) -> str:
    revision = f"revision {result['revision']}"
    if result["value"] is None:
        return f"not computed in {revision} ({result['not_computable']})"
    return f"{result['value']}, level {result['level']} in {revision}"


def _value_text(value: dict[str, Any] | None) -> str:
    if value is None:
        return "none"
    if value["state"] == "provided":
        return str(value["value"])
    return str(value["state"])


def _show_benchmarks(console: Console, result: JobResult, framework: Framework) -> None:
    console.print()
    table = Table(
        title=f"Benchmarks as the public sees them (k = {result.min_contributors})",
        title_justify="left",
    )
    for column in ("KPI", "group", "administrations", "median", "mean", "range"):
        table.add_column(column)
    for cell in result.benchmarks:
        table.add_row(
            f"{cell['kpi']} {framework.kpi(cell['kpi']).name.en}",
            f"{cell['grouping']}: {cell['group']}",
            _shown(cell["n"]),
            *_cell_figures(cell),
        )
    console.print(table)


def _cell_figures(cell: dict[str, Any]) -> list[str]:
    """What the public view of a cell carries, and nothing it does not."""
    if cell["suppressed"]:
        return [f"suppressed ({cell['suppression_reason']})", "", ""]
    if cell["minimum"] is None:
        spread = "withheld" if cell["order_statistics_withheld"] else "-"
    else:
        spread = f"{cell['minimum']} to {cell['maximum']}"
    return [_shown(cell["median"]), _shown(cell["mean"]), spread]


def _shown(figure: object) -> str:
    return "-" if figure is None else str(figure)


def _show_files(console: Console, files: dict[str, str]) -> None:
    console.print()
    console.print(f"Published report page: {files['report_url']}")
    for name, path in files.items():
        if name != "report_url":
            console.print(f"  {name}: {path}")
