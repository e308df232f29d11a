"""`pmm`: run the local stack and operate it."""

import asyncio
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

from pmm_kit.asyncapi import asyncapi_document
from pmm_kit.auth import MEMBER_SCOPED_ROLES, Role, mint_token
from pmm_local import framework_cli, operations
from pmm_local.job.command import run_main_job
from pmm_local.servers import ServerError
from pmm_local.services import SERVICES
from pmm_local.stack import (
    Infrastructure,
    ServiceProcesses,
    default_home,
    prepare_databases,
)

app = typer.Typer(
    help="The PMM platform's local stack and operator tools.", no_args_is_help=True
)
dead_letters = typer.Typer(help="Messages a consumer gave up on.", no_args_is_help=True)
app.add_typer(dead_letters, name="dead-letters")
app.add_typer(framework_cli.app, name="framework")
console = Console(stderr=True)


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


ScoringWorkers = Annotated[
    int, typer.Option(min=0, help="How many scoring worker processes to run.")
]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print the results as one JSON document.")
]


@app.command()
def up(
    scoring_workers: ScoringWorkers = 1,
    job: Annotated[
        bool,
        typer.Option(
            "--job/--no-job", help="Run the main job once every service is ready."
        ),
    ] = True,
) -> None:
    """Start PostgreSQL, NATS and the four services, run the main job on them (a
    whole PMM cycle from published figures) and keep serving; Ctrl-C stops
    everything."""

    def serve(infrastructure: Infrastructure, processes: ServiceProcesses) -> bool:
        _print_ready(infrastructure, processes)
        if job and not run_main_job(
            infrastructure.home, as_json=False, progress=console
        ):
            console.print("The services keep running: look at them, or press Ctrl-C.")
        processes.watch()
        return True

    _run_stack(scoring_workers, serve)


@app.command()
def demo(scoring_workers: ScoringWorkers = 1, as_json: AsJson = False) -> None:
    """Start the stack, run the main job on it, print its results and stop: exits
    non-zero when a step fails."""

    def run(infrastructure: Infrastructure, processes: ServiceProcesses) -> bool:
        _print_ready(infrastructure, processes, serving=False)
        return run_main_job(infrastructure.home, as_json=as_json, progress=console)

    _run_stack(scoring_workers, run)


@app.command("job")
def main_job(as_json: AsJson = False) -> None:
    """Run the main job against a stack that is already running (`pmm up`)."""
    if not run_main_job(default_home(), as_json=as_json, progress=console):
        raise typer.Exit(1)


def _run_stack(
    scoring_workers: int,
    then: Callable[[Infrastructure, ServiceProcesses], bool],
) -> None:
    """Start everything, hand over to `then`, and stop everything however it ends;
    the exit code is non-zero when the stack failed or `then` says so."""
    # Explicitly: a shell that starts us in the background ignores SIGINT for us,
    # and a closed terminal sends SIGHUP.
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_interrupt)
    infrastructure = Infrastructure(default_home())
    processes: ServiceProcesses | None = None
    failure: str | None = None
    succeeded = True
    try:
        with console.status("Starting PostgreSQL and NATS"):
            infrastructure.start()
        with console.status("Creating roles and schemas, running migrations"):
            urls = prepare_databases(infrastructure)
        processes = ServiceProcesses(infrastructure, urls, scoring_workers)
        with console.status("Starting the services"):
            processes.start()
            processes.wait_ready()
        operations.write_stack_file(infrastructure, urls)
        succeeded = then(infrastructure, processes)
    except KeyboardInterrupt:
        console.print("Stopping…")
    except ServerError as error:
        failure = str(error)
    finally:
        # A second Ctrl-C must not cut the clean-up short and orphan the servers.
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        if processes is not None:
            processes.stop()
        infrastructure.stop()
    if failure is not None:
        console.print(f"[red]The stack stopped:[/red] {failure}")
        raise typer.Exit(1)
    console.print(f"Stopped. The data are kept in {infrastructure.home}.")
    if not succeeded:
        raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Create each service's role and schema and run its migrations, then exit.

    Uses `DATABASE_URL` (an administrator's) when set, else the embedded server;
    role passwords come from `PMM_<SERVICE>_DATABASE_PASSWORD` when set.
    """
    infrastructure = Infrastructure(default_home())
    try:
        with console.status("Creating roles and schemas, running migrations"):
            infrastructure.start()
            prepare_databases(infrastructure)
    except ServerError as error:
        console.print(f"[red]Migration failed:[/red] {error}")
        raise typer.Exit(1) from None
    finally:
        infrastructure.stop()
    console.print("Every service's schema is at its newest revision.")


def _print_ready(
    infrastructure: Infrastructure, processes: ServiceProcesses, *, serving: bool = True
) -> None:
    table = Table(title="PMM platform: ready")
    table.add_column("service")
    table.add_column("API")
    table.add_column("docs")
    for service in SERVICES:
        base = f"http://127.0.0.1:{service.port}"
        table.add_row(service.name, base, f"{base}/docs")
    console.print(table)
    console.print(f"PostgreSQL  {_hide_password(infrastructure.admin_url)}")
    console.print(f"NATS        {infrastructure.nats_url}")
    console.print(f"Logs        {processes.logs}")
    console.print("Tokens      pmm token --role ncp --member BRA")
    if serving:
        console.print("Press Ctrl-C to stop.")


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="The caller's role.")],
    member: Annotated[
        str | None,
        typer.Option(help="ISO 3166 alpha-3 code; needed for ncp and preparer."),
    ] = None,
    subject: Annotated[str | None, typer.Option(help="The token's subject.")] = None,
    hours: Annotated[int, typer.Option(min=1, max=24 * 30)] = 12,
) -> None:
    """Print a bearer token signed with the local stack's key."""
    if member is not None and role not in MEMBER_SCOPED_ROLES:
        # The services read no member of these roles: the token would promise a
        # scope it does not have.
        console.print(f"[red]a {role} token names no member: leave out --member[/red]")
        raise typer.Exit(2)
    home = default_home()
    private_key = home / "keys" / "jwt-private.pem"
    if not private_key.exists():
        console.print(f"No local key in {private_key.parent}: run `pmm up` first.")
        raise typer.Exit(1)
    try:
        minted = mint_token(
            private_key.read_text(),
            role=role,
            member=member,
            subject=subject,
            lifetime_seconds=hours * 3600,
        )
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    typer.echo(minted)


@app.command()
def asyncapi(
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of stdout.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON instead of YAML.")
    ] = False,
    nats_url: Annotated[
        str, typer.Option(envvar="NATS_URL", help="The server integrators connect to.")
    ] = "nats://localhost:4222",
) -> None:
    """Print the AsyncAPI document of every event the services exchange."""
    operations.import_contracts()
    document = asyncapi_document(nats_url=nats_url)
    text = (
        json.dumps(document, indent=2)
        if as_json
        else yaml.safe_dump(document, sort_keys=False)
    )
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text)
    except OSError as error:
        # Not wrapped: a path broken across lines cannot be copied.
        console.print(
            f"[red]Cannot write {output}:[/red] {error.strerror}", soft_wrap=True
        )
        raise typer.Exit(1) from None


@dead_letters.command("list")
def list_dead_letters(
    service: Annotated[
        str, typer.Argument(help="submission, scoring, review or reporting")
    ],
    include_replayed: Annotated[bool, typer.Option("--all")] = False,
) -> None:
    """List the messages a service's consumers gave up on."""
    try:
        letters = asyncio.run(
            operations.dead_letters(service, include_replayed=include_replayed)
        )
    except LookupError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    table = Table(title=f"Dead letters of {service}")
    for column in (
        "id",
        "consumer",
        "subject",
        "event id",
        "deliveries",
        "failed at",
        "error",
    ):
        table.add_column(column)
    for letter in letters:
        table.add_row(
            str(letter.id),
            letter.consumer,
            letter.subject,
            str(letter.event_id or "-"),
            str(letter.deliveries),
            f"{letter.failed_at:%Y-%m-%d %H:%M:%S}",
            letter.error[:80],
        )
    Console().print(table)


@dead_letters.command("replay")
def replay_dead_letter(
    service: Annotated[
        str, typer.Argument(help="submission, scoring, review or reporting")
    ],
    dead_letter_id: Annotated[
        # The table's id is a PostgreSQL bigint: a larger number names no letter.
        int, typer.Argument(help="The id from `list`.", min=1, max=2**63 - 1)
    ],
) -> None:
    """Publish a dead letter's event again, for the consumer that gave up on it."""
    try:
        event_id = asyncio.run(operations.replay(service, dead_letter_id))
    except LookupError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Event {event_id} queued again; the service's relay publishes it.")
