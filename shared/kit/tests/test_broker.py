"""What the broker connection says of itself: an outage is a warning, our close not."""

import asyncio
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from pmm_kit import broker as broker_module
from pmm_kit.broker import Broker
from pmm_local.servers import EmbeddedNats


@contextmanager
def broker_logs(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[list[MutableMapping[str, Any]]]:
    # The module's logger may be cached with the processors of an earlier test's
    # configuration: a fresh one, first used under the capture, reports to it.
    with capture_logs() as logs:
        monkeypatch.setattr(broker_module, "log", structlog.get_logger())
        yield logs


async def _connected(nats_server: EmbeddedNats) -> Broker:
    broker = Broker(nats_server.url, name="kit-test")
    broker.start()
    await asyncio.wait_for(broker.wait_ready(), 10)
    return broker


async def test_closing_the_connection_is_no_warning(
    nats_server: EmbeddedNats, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = await _connected(nats_server)

    with broker_logs(monkeypatch) as logs:
        await broker.close()

    events = [(entry["event"], entry["log_level"]) for entry in logs]
    assert ("broker.closed", "info") in events
    assert all(level == "info" for _, level in events)


async def test_losing_the_server_is_a_warning(
    nats_server: EmbeddedNats, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = await _connected(nats_server)

    with broker_logs(monkeypatch) as logs:
        nats_server.stop()
        for _ in range(100):
            if any(entry["event"] == "broker.disconnected" for entry in logs):
                break
            await asyncio.sleep(0.05)
    await broker.close()

    assert {"event": "broker.disconnected", "log_level": "warning"} in logs
