"""The commands every service's process has: `serve` and `migrate`.

A service builds its command line with `service_cli` and adds its own commands to it
(the scoring service's `worker`, the reporting service's `rebuild`, …).
"""

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import typer
import uvicorn
from pydantic import SecretStr

from pmm_kit.migrations import upgrade


class ServedSettings(Protocol):
    """What `serve` and `migrate` read of a service's settings."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def database_url(self) -> SecretStr: ...
    @property
    def schema_name(self) -> str: ...


def service_cli(
    *,
    name: str,
    settings: Callable[[], ServedSettings],
    service_dir: Path,
    serves: str = "with the outbox relay and the event consumers",
) -> typer.Typer:
    """`pmm-<name>` with `serve` (the app factory `pmm_<name>.main:create_app`) and
    `migrate` (the Alembic scripts in `service_dir`)."""
    cli = typer.Typer(help=f"The PMM {name} service.", no_args_is_help=True)

    def serve() -> None:
        current = settings()
        uvicorn.run(
            f"pmm_{name}.main:create_app",
            factory=True,
            host=current.host,
            port=current.port,
            log_config=None,
            server_header=False,
        )

    def migrate() -> None:
        """Bring the service's schema to the newest revision."""
        current = settings()
        upgrade(
            service_dir,
            database_url=current.database_url.get_secret_value(),
            schema=current.schema_name,
        )

    cli.command("serve", help=f"Serve the HTTP API ({serves}).")(serve)
    cli.command("migrate")(migrate)
    return cli
