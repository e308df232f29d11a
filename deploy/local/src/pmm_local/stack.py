"""The local stack: servers, roles and schemas, migrations, the four services.

`Infrastructure` is what the services stand on (PostgreSQL, NATS, signing keys), used by
`pmm up` and by the test session alike; `ServiceProcesses` runs the services themselves.
"""

import asyncio
import fcntl
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pmm_kit.auth import generate_key_pair
from pmm_kit.migrations import upgrade
from pmm_local.provision import (
    ServiceDatabase,
    load_or_create_passwords,
    provision,
    role_for,
    service_url,
)
from pmm_local.servers import (
    EmbeddedNats,
    EmbeddedPostgres,
    ServerError,
    can_listen_on,
)
from pmm_local.services import SERVICES, Service

READY_TIMEOUT_SECONDS = 60.0
STACK_FILE = "stack.json"
LOCK_FILE = "stack.lock"


def default_home() -> Path:
    return Path(os.environ.get("PMM_HOME", Path.cwd() / ".pmm")).resolve()


def _lock_home(home: Path) -> int:
    """Hold the data folder for this process's lifetime (the kernel frees it even
    on SIGKILL): two stacks on one folder would stop each other's servers."""
    descriptor = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(descriptor, 32).decode(errors="replace").strip() or "?"
        os.close(descriptor)
        raise ServerError(
            f"a stack is already running on {home} (pid {holder}): stop it first, "
            "or give this one another folder with PMM_HOME"
        ) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, str(os.getpid()).encode())
    return descriptor


@dataclass
class Infrastructure:
    """PostgreSQL, NATS and the JWT keys: embedded ones unless the environment
    names running servers (`DATABASE_URL`, `NATS_URL`)."""

    home: Path
    admin_url: str = ""
    nats_url: str = ""
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    private_key: Path = field(default=Path())
    public_key: Path = field(default=Path())
    _lock: int | None = None

    def start(self) -> "Infrastructure":
        self.home.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_home(self.home)
        external_database = os.environ.get("DATABASE_URL")
        if external_database:
            self.admin_url = external_database
        else:
            self.postgres = EmbeddedPostgres(self.home / "postgres").start()
            self.admin_url = self.postgres.url()
        external_nats = os.environ.get("NATS_URL")
        if external_nats:
            self.nats_url = external_nats
        else:
            self.nats = EmbeddedNats(self.home / "nats").start()
            self.nats_url = self.nats.url
        self.private_key, self.public_key = generate_key_pair(self.home / "keys")
        return self

    def stop(self) -> None:
        if self._lock is None:
            return
        (self.home / STACK_FILE).unlink(missing_ok=True)
        if self.nats is not None:
            self.nats.stop()
        if self.postgres is not None:
            self.postgres.stop()
        os.close(self._lock)
        self._lock = None

    def service_database(self, schema: str) -> ServiceDatabase:
        """The role's password comes from `PMM_<SCHEMA>_DATABASE_PASSWORD` when set
        (a deployment's secret), else from the stack's own secrets file."""
        preset = os.environ.get(f"PMM_{schema.upper()}_DATABASE_PASSWORD")
        if preset:
            return ServiceDatabase(role_for(schema), schema, preset)
        passwords = load_or_create_passwords(self.home / "roles.json", [schema])
        return ServiceDatabase(role_for(schema), schema, passwords[schema])

    def provision(self, schemas: list[str]) -> dict[str, str]:
        """Roles and schemas for `schemas`; returns each one's database URL."""
        databases = [self.service_database(schema) for schema in schemas]
        asyncio.run(provision(self.admin_url, databases))
        return {db.schema: service_url(self.admin_url, db) for db in databases}

    def service_environment(
        self, service: Service, database_url: str
    ) -> dict[str, str]:
        return {
            "DATABASE_URL": database_url,
            "NATS_URL": self.nats_url,
            "PMM_JWT_PUBLIC_KEY_FILE": str(self.public_key),
            "PMM_PARENT_PID": str(os.getpid()),
            f"{service.env_prefix}_PORT": str(service.port),
        }


def prepare_databases(infrastructure: Infrastructure) -> dict[str, str]:
    """Provision and migrate every service; returns each one's database URL."""
    preset = {
        service.name: os.environ[service.database_url_variable]
        for service in SERVICES
        if os.environ.get(service.database_url_variable)
    }
    to_provision = [
        service.schema for service in SERVICES if service.name not in preset
    ]
    urls = {**infrastructure.provision(to_provision), **preset}
    for service in SERVICES:
        upgrade(
            service.service_dir, database_url=urls[service.name], schema=service.schema
        )
    return urls


@dataclass
class ServiceProcesses:
    infrastructure: Infrastructure
    database_urls: dict[str, str]
    scoring_workers: int = 1
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.infrastructure.home / "logs"

    def start(self) -> None:
        self.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
        for service in SERVICES:
            _refuse_taken_port(service)
        for service in SERVICES:
            self._launch(service.name, service, "serve")
        scoring = next(s for s in SERVICES if s.name == "scoring")
        for number in range(1, self.scoring_workers + 1):
            self._launch(f"scoring-worker-{number}", scoring, "worker")

    def _launch(self, label: str, service: Service, command: str) -> None:
        environment = {
            **os.environ,
            **self.infrastructure.service_environment(
                service, self.database_urls[service.name]
            ),
        }
        executable = Path(sys.executable).parent / service.command
        with (self.logs / f"{label}.log").open("ab") as log:
            self.processes[label] = subprocess.Popen(
                [str(executable), command],
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        pending = list(SERVICES)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                self._check_alive()
                pending = [s for s in pending if not _is_ready(client, s)]
                if pending and time.monotonic() > deadline:
                    names = ", ".join(s.name for s in pending)
                    raise ServerError(
                        f"not ready within {timeout:.0f} s: {names}; see {self.logs}"
                    )
                if pending:
                    time.sleep(0.2)

    def watch(self, interval: float = 1.0) -> None:
        """Block while every process runs; raise when one of them stops."""
        while True:
            self._check_alive()
            time.sleep(interval)

    def _check_alive(self) -> None:
        for label, process in self.processes.items():
            if process.poll() is not None:
                raise ServerError(
                    f"{label} exited with code {process.returncode}; "
                    f"see {self.logs / (label + '.log')}"
                )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _refuse_taken_port(service: Service) -> None:
    if not can_listen_on(service.port):
        raise ServerError(
            f"port {service.port} ({service.name}) is in use: stop what holds "
            f"it, or choose another with {service.env_prefix}_PORT"
        )


def _is_ready(client: httpx.Client, service: Service) -> bool:
    try:
        response = client.get(f"http://127.0.0.1:{service.port}/readyz")
    except httpx.HTTPError:
        return False
    return response.status_code == 200
