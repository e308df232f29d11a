"""Running the main job from the `pmm` command: against the stack in a data folder,
with its progress on standard error and its results on standard output."""

import json
import sys
from pathlib import Path

from rich.console import Console

from pmm_local.job.client import Client, Stack, StepError
from pmm_local.job.plan import load_plan
from pmm_local.job.render import StepDisplay, result_document, show_result
from pmm_local.job.steps import run_job
from pmm_methodology import reference_framework


def run_main_job(home: Path, *, as_json: bool, progress: Console) -> bool:
    """Run the job on the stack whose data are in `home`; False when a step failed
    (the failure is printed, naming the service and what to look at)."""
    plan = load_plan()
    try:
        stack = Stack.local(home)
        client = Client.open(stack)
        try:
            result = run_job(
                client,
                plan,
                StepDisplay(progress).step,
                home / "reports" / plan.cycle.code,
            )
        finally:
            client.close()
    except StepError as error:
        progress.print(
            f"[red]The main job stopped[/red] at the {error.service} service: "
            f"{error.message}"
        )
        if error.hint:
            progress.print(f"Look at: {error.hint}")
        return False
    if as_json:
        json.dump(result_document(result), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        show_result(Console(), result, reference_framework())
    return True
