"""The methodology library's evaluation time: `compute` of one complete submission of
the reference framework, in this process, with the framework loaded once.

    .venv/bin/python shared/methodology/benchmarks/bench.py [--runs N] [--profile]

The submission is the library's hand-checked complete one (`vectors/
complete-submission.json`), with a T-1 value for every data element it lacks one for,
so that every rule is checked in both years. Timing never fails the run; a submission
that no longer computes every KPI without a finding does, since it would measure
something else. `--profile` prints where the time of `compute` goes instead.
"""

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources

from rich.console import Console
from rich.table import Table

from pmm_methodology import (
    DataValue,
    ElementType,
    Framework,
    KpiStatus,
    ValueKey,
    ValueState,
    compute,
    reference_framework,
)

WARM_UP_RUNS = 200
RUNS = 2000
TARGET_MS = 2.0
PROFILED_RUNS = 300

console = Console()


class BenchSetupError(Exception):
    """The submission measured is not the complete, consistent one it should be."""


def _vector_values() -> tuple[int, dict[ValueKey, DataValue]]:
    vectors = resources.files("pmm_methodology").joinpath("vectors")
    document = json.loads(vectors.joinpath("complete-submission.json").read_text())
    case = document["cases"][0]
    values: dict[ValueKey, DataValue] = {}
    for entry in case["values"]:
        fields = {k: v for k, v in entry.items() if k not in ("element", "year")}
        fields.setdefault("state", ValueState.PROVIDED.value)
        values[(entry["element"], entry["year"])] = DataValue.model_validate(fields)
    return case["year"], values


def _a_year_earlier(value: DataValue, element_type: ElementType) -> DataValue:
    """A tenth less of every figure: consistent, since the rules compare proportions."""
    number = value.value
    if not isinstance(number, Decimal):
        return value

    places = Decimal(1) if element_type is ElementType.COUNT else number
    smaller = (number * Decimal("0.9")).quantize(places, rounding=ROUND_HALF_UP)
    return DataValue.provided(smaller)


def complete_submission(framework: Framework) -> tuple[int, dict[ValueKey, DataValue]]:
    """Every data element provided for T and for T-1."""
    year, values = _vector_values()
    for element in framework.data_elements:
        current = values.get((element.code, year))
        if current is None:
            raise BenchSetupError(f"the vector has no {year} value for {element.code}")
        values.setdefault(
            (element.code, year - 1), _a_year_earlier(current, element.type)
        )
    return year, values


def _check_complete(
    framework: Framework, year: int, values: dict[ValueKey, DataValue]
) -> None:
    assessment = compute(framework, year, values)
    if assessment.findings:
        rules = ", ".join(sorted({finding.rule for finding in assessment.findings}))
        raise BenchSetupError(f"the submission has findings: {rules}")
    not_computed = [
        r.code for r in assessment.kpis if r.status is not KpiStatus.COMPUTED
    ]
    if not_computed:
        raise BenchSetupError(f"KPIs not computed: {', '.join(not_computed)}")


def _timings(
    operations: Sequence[Callable[[], object]], runs: int
) -> list[list[float]]:
    """Each operation's durations, the operations taking turns: on a shared machine
    both then see the same disturbances."""
    for _ in range(WARM_UP_RUNS):
        for operation in operations:
            operation()
    timings: list[list[float]] = [[] for _ in operations]
    for _ in range(runs):
        for operation, durations in zip(operations, timings, strict=True):
            started = time.perf_counter()
            operation()
            durations.append(time.perf_counter() - started)
    return timings


def _percentile(timings: list[float], fraction: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _row(table: Table, label: str, timings: list[float]) -> None:
    median_ms = statistics.median(timings) * 1000
    table.add_row(
        label,
        f"{median_ms:.3f}",
        f"{_percentile(timings, 0.99) * 1000:.3f}",
        f"{1000 / median_ms:,.0f}",
    )


def _measure(
    framework: Framework, year: int, values: dict[ValueKey, DataValue], runs: int
) -> None:
    evaluation, with_json = _timings(
        [
            lambda: compute(framework, year, values),
            lambda: compute(framework, year, values).to_canonical_json(),
        ],
        runs,
    )

    table = Table(title=f"Methodology: one complete submission, {runs} runs")
    for column in ("figure", "median ms", "p99 ms", "per second"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    _row(table, "compute", evaluation)
    _row(table, "compute + to_canonical_json", with_json)
    console.print(table)
    median_ms = statistics.median(evaluation) * 1000
    verdict = "met" if median_ms < TARGET_MS else "missed"
    console.print(
        f"{framework.code} {framework.version}: {len(framework.kpis)} KPIs, "
        f"{len(values)} values, {len(framework.rules)} rules checked for T and T-1. "
        f"Target {TARGET_MS} ms per evaluation: {verdict}."
    )


def _profile(
    framework: Framework, year: int, values: dict[ValueKey, DataValue]
) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILED_RUNS):
        compute(framework, year, values)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--profile", action="store_true")
    arguments = parser.parse_args()
    if arguments.runs < 1:
        parser.error("--runs takes a positive number")

    framework = reference_framework()
    try:
        year, values = complete_submission(framework)
        _check_complete(framework, year, values)
    except BenchSetupError as error:
        console.print(f"[red]Cannot measure:[/red] {error}")
        return 1

    if arguments.profile:
        _profile(framework, year, values)
        return 0
    _measure(framework, year, values, arguments.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
