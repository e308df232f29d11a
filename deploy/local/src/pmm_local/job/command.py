"""Running the main job from the `pmm` command: against the stack in a data folder,
with its progress on standard error and its results on standard output.

Whatever goes wrong, the job ends in a message naming the service to look at and a
False answer, never in an exception: under `pmm up` an exception would take down
the stack that should keep serving. Only an interrupt (Ctrl-C) goes through.
"""

import json
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from pmm_local.job.client import Client, Stack, StepError
from pmm_local.job.plan import load_plan
from pmm_local.job.render import StepDisplay, result_document, show_result
from pmm_local.job.steps import JobResult, Step, StepReport, run_job
from pmm_methodology import reference_framework

TRACE_FILE = "main-job.log"


def run_main_job(home: Path, *, as_json: bool, progress: Console) -> bool:
    """Run the job on the stack whose data are in `home`; False when a step failed
    (the failure is printed, naming the service and what to look at)."""
    trace = home / "logs" / TRACE_FILE
    try:
        result = _run(home, progress, trace)
        _print_result(result, as_json=as_json)
    except StepError as error:
        _show_failure(progress, error)
        return False
    except Exception as error:  # the stack must outlive the job
        _keep_trace(trace)
        _show_failure(
            progress,
            StepError(
                "job",
                f"unexpected {type(error).__name__}: {error}",
                hint=f"the job's traceback is in {trace}",
            ),
        )
        return False
    return True


def _run(home: Path, progress: Console, trace: Path) -> JobResult:
    plan = load_plan()
    stack = Stack.local(home)
    client = Client.open(stack)
    try:
        step = _guarded(client, StepDisplay(progress).step, trace)
        return run_job(client, plan, step, home / "reports" / plan.cycle.code)
    finally:
        client.close()


def _guarded(client: Client, step: Step, trace: Path) -> Step:
    """Each step as the display shows it, an unexpected error in it turned into
    the failure of the service the step was talking to."""

    @contextmanager
    def guarded(report: StepReport) -> Iterator[None]:
        with step(report):
            try:
                yield
            except StepError:
                raise
            except Exception as error:
                _keep_trace(trace)
                raise client.unexpected(error, trace=trace) from error

    return guarded


def _keep_trace(trace: Path) -> None:
    """Append the error being handled, with its traceback, to the job's log."""
    try:
        trace.parent.mkdir(parents=True, exist_ok=True)
        with trace.open("a", encoding="utf-8") as log:
            log.write(f"{datetime.now(UTC).isoformat()} main job failed\n")
            log.write(traceback.format_exc())
    except OSError:
        return


def _show_failure(progress: Console, error: StepError) -> None:
    where = (
        "" if error.service in {"job", "stack"} else f" at the {error.service} service"
    )
    progress.print(f"[red]The main job stopped[/red]{where}: {escape(error.message)}")
    if error.hint:
        progress.print(f"Look at: {escape(error.hint)}")


def _print_result(result: JobResult, *, as_json: bool) -> None:
    if as_json:
        json.dump(result_document(result), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    show_result(Console(), result, reference_framework())
