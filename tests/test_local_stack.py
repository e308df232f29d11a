"""`pmm up` as a new user runs it: services ready, docs offline, clean stop, data kept.

The stack runs in a process of its own with its own data folder and ports, exactly as
`make run` starts it, and is stopped with the signal Ctrl-C sends.
"""

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from pmm_kit.events import Envelope
from pmm_local.servers import free_port
from pmm_local.services import SERVICES

PMM = str(Path(sys.executable).parent / "pmm")
DOCS_PAGES = ("/docs", "/redoc")


@dataclass
class RunningStack:
    home: Path
    ports: dict[str, int]
    process: subprocess.Popen[str]

    @property
    def environment(self) -> dict[str, str]:
        return stack_environment(self.home, self.ports)

    def database_url(self, service: str) -> str:
        urls = json.loads((self.home / "stack.json").read_text())["database_urls"]
        return make_url(urls[service]).render_as_string(hide_password=False)

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=60)
        return self.process.returncode, output


def stack_environment(home: Path, ports: dict[str, int]) -> dict[str, str]:
    environment = {**os.environ, "PMM_HOME": str(home), "COLUMNS": "200"}
    for service in SERVICES:
        environment[f"{service.env_prefix}_PORT"] = str(ports[service.name])
    return environment


def start_stack(home: Path, ports: dict[str, int]) -> RunningStack:
    process = subprocess.Popen(
        [PMM, "up", "--no-job"],
        env=stack_environment(home, ports),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = RunningStack(home, ports, process)
    deadline = time.monotonic() + 90
    while not (home / "stack.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"pmm up did not get ready:\n{stack.stop()[1]}")
        time.sleep(0.2)
    return stack


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {service.name: free_port() for service in SERVICES}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="module")
def stack(home: Path, ports: dict[str, int]) -> Iterator[RunningStack]:
    running = start_stack(home, ports)
    yield running
    if running.process.poll() is None:
        running.stop()


def test_every_service_is_ready_with_database_and_nats(stack: RunningStack) -> None:
    for name, port in stack.ports.items():
        response = httpx.get(f"http://127.0.0.1:{port}/readyz")

        assert response.status_code == 200, name
        assert response.json()["checks"] == {"database": "ok", "nats": "ok"}


def test_every_docs_page_renders_from_the_service_alone(stack: RunningStack) -> None:
    for (name, port), docs in itertools.product(stack.ports.items(), DOCS_PAGES):
        base = f"http://127.0.0.1:{port}"
        page = httpx.get(f"{base}{docs}")
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)

        assert f"PMM {name} service" in page.text, docs
        assert assets
        assert all(asset.startswith("/") for asset in assets), docs
        assert all(httpx.get(base + asset).status_code == 200 for asset in assets)


def test_a_dead_letter_is_listed_and_replayed_with_pmm(stack: RunningStack) -> None:
    envelope = Envelope(
        id=uuid.uuid4(),
        source="/pmm/test",
        type="pmm.test.probe.recorded.v1",
        time="2026-01-01T00:00:00Z",  # type: ignore[arg-type]
        correlation_id="corr-dead",
        data={},
    )
    dead_letter_id = run_sql(
        stack.database_url("review"),
        "INSERT INTO dead_letter (consumer, event_id, subject, body, headers,"
        " error, deliveries)"
        " VALUES ('review-probe', $1, $2, $3, '{}', 'boom', 5) RETURNING id",
        envelope.id,
        envelope.type,
        envelope.model_dump_json(),
    )

    listed = pmm(stack, "dead-letters", "list", "review")
    replayed = pmm(stack, "dead-letters", "replay", "review", str(dead_letter_id))
    again = pmm(
        stack, "dead-letters", "replay", "review", str(dead_letter_id), check=False
    )

    assert "review-probe" in listed.stdout
    assert str(envelope.id) in listed.stdout
    assert str(envelope.id) in replayed.stderr
    assert again.returncode == 1
    assert "already replayed" in again.stderr
    event_ids = run_sql(
        stack.database_url("review"), "SELECT array_agg(event_id) FROM outbox"
    )
    assert event_ids == [envelope.id]


def test_a_second_stack_on_the_same_folder_is_refused_and_harms_nothing(
    stack: RunningStack,
) -> None:
    second = pmm(stack, "up", check=False)

    assert second.returncode == 1
    assert "already running" in second.stderr
    assert (stack.home / "stack.json").exists()
    for port in stack.ports.values():
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200


def test_a_stack_whose_port_is_taken_says_which_and_stops(
    stack: RunningStack, tmp_path: Path
) -> None:
    environment = {**stack.environment, "PMM_HOME": str(tmp_path)}

    other = subprocess.run(
        [PMM, "up", "--no-job"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert other.returncode == 1
    assert "port" in other.stderr
    assert "is in use" in other.stderr


def test_ctrl_c_stops_everything_and_the_data_persist(
    stack: RunningStack, home: Path, ports: dict[str, int]
) -> None:
    marker = uuid.uuid4()
    run_sql(
        stack.database_url("submission"),
        "INSERT INTO outbox (id, event_id, subject, body, correlation_id, sent_at)"
        " VALUES ($1, $1, 'pmm.test.marker.kept.v1', '{}', 'c', now())",
        marker,
    )

    returncode, output = stack.stop()

    assert returncode == 0, output
    assert "Stopped." in output
    assert not (home / "stack.json").exists()
    for port in ports.values():
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/healthz")
    restarted = start_stack(home, ports)
    try:
        kept = run_sql(
            restarted.database_url("submission"),
            "SELECT count(*) FROM outbox WHERE id = $1",
            marker,
        )
    finally:
        assert restarted.stop()[0] == 0
    assert kept == 1


def pmm(
    stack: RunningStack, *arguments: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PMM, *arguments],
        env=stack.environment,
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def run_sql(url: str, query: str, *arguments: object) -> object:
    import asyncio

    async def fetch() -> object:
        connection = await asyncpg.connect(url)
        try:
            return await connection.fetchval(query, *arguments)
        finally:
            await connection.close()

    return asyncio.run(fetch())


def test_a_stack_killed_outright_leaves_nothing_running_and_starts_again(
    tmp_path: Path,
) -> None:
    ports = {service.name: free_port() for service in SERVICES}
    killed = start_stack(tmp_path, ports)

    killed.process.kill()
    killed.process.communicate()
    time.sleep(3)
    still_answering = [
        port for port in ports.values() if _answers(f"http://127.0.0.1:{port}/healthz")
    ]
    (tmp_path / "stack.json").unlink()
    again = start_stack(tmp_path, ports)
    returncode, output = again.stop()

    assert still_answering == []
    assert returncode == 0, output


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return False
    return True
