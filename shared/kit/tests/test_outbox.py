"""The outbox relay against real PostgreSQL and NATS: nothing lost, nothing doubled."""

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit.broker import Broker
from pmm_kit.consumers import ConsumerRunner
from pmm_kit.db import UnitOfWork
from pmm_kit.events import CORRELATION_HEADER, STREAM_NAME, Envelope
from pmm_kit.logs import bind_correlation_id, clear_context
from pmm_kit.outbox import OutboxRelay, add_event
from pmm_kit.tables import outbox
from pmm_local.servers import EmbeddedNats

from .probe import (
    FAST,
    ProbeRecorded,
    count,
    eventually,
    probe_effects,
    probe_subscription,
    unsent,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def write_probe(
    sessions: async_sessionmaker[AsyncSession],
    value: int,
    relay: OutboxRelay | None = None,
) -> Envelope:
    async with UnitOfWork(
        sessions, on_outbox_committed=relay.wake if relay else None
    ) as uow:
        envelope = await add_event(uow.session, ProbeRecorded(value=value))
        await uow.commit()
    return envelope


async def stream_messages(broker: Broker) -> int:
    info = await broker.jetstream.stream_info(STREAM_NAME)
    return int(info.state.messages)


async def test_an_event_is_kept_only_if_its_transaction_commits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with UnitOfWork(sessions) as uow:
        await add_event(uow.session, ProbeRecorded(value=1))

    assert await count(sessions, outbox) == 0


async def test_relay_publishes_with_the_event_id_as_message_id(
    sessions: async_sessionmaker[AsyncSession], broker: Broker
) -> None:
    clear_context()
    bind_correlation_id("corr-relay-1")
    envelope = await write_probe(sessions, 5)
    relay = OutboxRelay(sessions, broker, service="kit-test", settings=FAST)

    published, backlog = await relay.relay_once()

    assert (published, backlog) == (1, 0)
    stored = await broker.jetstream.get_last_msg(
        STREAM_NAME, ProbeRecorded.event_type()
    )
    assert stored.headers is not None
    assert stored.headers["Nats-Msg-Id"] == str(envelope.id)
    assert stored.headers[CORRELATION_HEADER] == "corr-relay-1"
    received = Envelope.model_validate_json(stored.data or b"")
    assert received == envelope
    assert received.payload() == ProbeRecorded(value=5)
    assert received.correlation_id == "corr-relay-1"


async def test_an_event_written_while_nats_is_down_is_delivered_when_it_is_back(
    sessions: async_sessionmaker[AsyncSession],
    broker: Broker,
    nats_server: EmbeddedNats,
) -> None:
    relay = OutboxRelay(sessions, broker, service="kit-test", settings=FAST)
    relay.start()
    nats_server.stop()
    await eventually(lambda: _disconnected(broker))

    envelope = await write_probe(sessions, 42, relay)
    await asyncio.sleep(1.0)
    waiting_while_down = await unsent(sessions)
    nats_server.start()
    await eventually(lambda: _nothing_unsent(sessions), within=30)
    await relay.stop()

    assert waiting_while_down == 1
    stored = await broker.jetstream.get_last_msg(
        STREAM_NAME, ProbeRecorded.event_type()
    )
    assert Envelope.model_validate_json(stored.data or b"").id == envelope.id
    assert await stream_messages(broker) == 1


async def test_an_event_written_before_nats_ever_started_is_delivered(
    sessions: async_sessionmaker[AsyncSession], nats_server: EmbeddedNats
) -> None:
    nats_server.stop()
    broker = Broker(nats_server.url, name="kit-test-late")
    broker.start()
    relay = OutboxRelay(sessions, broker, service="kit-test", settings=FAST)
    relay.start()

    envelope = await write_probe(sessions, 3, relay)
    await asyncio.sleep(0.5)
    nats_server.start()
    await eventually(lambda: _nothing_unsent(sessions), within=30)
    await relay.stop()

    stored = await broker.jetstream.get_last_msg(
        STREAM_NAME, ProbeRecorded.event_type()
    )
    assert Envelope.model_validate_json(stored.data or b"").id == envelope.id
    await broker.close()


class _KilledAfterPublishing(OutboxRelay):
    """A relay that dies between JetStream's ack and marking the rows sent."""

    async def _publish_all(self, session: AsyncSession, claimed: list) -> int:  # type: ignore[type-arg]
        for row in claimed:
            await self._publish(row)
        raise RuntimeError("killed before marking the rows sent")


async def test_a_relay_killed_after_publishing_causes_no_second_effect(
    sessions: async_sessionmaker[AsyncSession], broker: Broker
) -> None:
    envelope = await write_probe(sessions, 9)
    runner = ConsumerRunner(sessions, broker, probe_subscription())
    runner.start()

    with pytest.raises(RuntimeError, match="killed"):
        await _KilledAfterPublishing(sessions, broker, service="kit-test").relay_once()
    still_unsent = await unsent(sessions)
    await OutboxRelay(sessions, broker, service="kit-test").relay_once()
    await eventually(lambda: _effects_at_least(sessions, 1))
    await asyncio.sleep(0.5)
    await runner.stop()

    assert still_unsent == 1
    assert await stream_messages(broker) == 1
    async with sessions() as session:
        effects = (await session.execute(sa.select(probe_effects))).all()
    assert [(row.event_id, row.value) for row in effects] == [(envelope.id, 9)]


async def _disconnected(broker: Broker) -> bool:
    return not broker.connected


async def _nothing_unsent(sessions: async_sessionmaker[AsyncSession]) -> bool:
    return await unsent(sessions) == 0


async def _effects_at_least(sessions: async_sessionmaker[AsyncSession], n: int) -> bool:
    return await count(sessions, probe_effects) >= n


async def test_a_stream_lost_by_the_server_is_made_again_and_the_event_delivered(
    sessions: async_sessionmaker[AsyncSession], broker: Broker
) -> None:
    # What a NATS server restarted on an empty volume looks like to the services.
    await broker.jetstream.delete_stream(STREAM_NAME)
    missing_before = not await broker.stream_exists()
    relay = OutboxRelay(sessions, broker, service="kit-test", settings=FAST)
    relay.start()

    envelope = await write_probe(sessions, 77, relay)
    await eventually(lambda: _nothing_unsent(sessions), within=30)
    await relay.stop()

    assert missing_before
    assert await broker.stream_exists()
    stored = await broker.jetstream.get_last_msg(
        STREAM_NAME, ProbeRecorded.event_type()
    )
    assert Envelope.model_validate_json(stored.data or b"").id == envelope.id
