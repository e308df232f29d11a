"""Inbox consumers on real PostgreSQL and NATS: once per consumer, or a dead letter."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit.broker import Broker
from pmm_kit.consumers import (
    ConsumerRunner,
    DeadLetterError,
    PermanentError,
    ReceivedEvent,
    Subscription,
    list_dead_letters,
    replay_dead_letter,
)
from pmm_kit.db import UnitOfWork
from pmm_kit.events import CORRELATION_HEADER, Envelope
from pmm_kit.logs import bind_correlation_id, clear_context
from pmm_kit.outbox import OutboxRelay, add_event
from pmm_kit.tables import inbox

from .probe import (
    FAST,
    ProbeRecorded,
    count,
    dead_letters,
    eventually,
    probe_effects,
    probe_subscription,
    record_effect,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def runners(
    sessions: async_sessionmaker[AsyncSession], broker: Broker
) -> AsyncIterator[Callable[[Subscription], ConsumerRunner]]:
    started: list[ConsumerRunner] = []

    def start(subscription: Subscription) -> ConsumerRunner:
        runner = ConsumerRunner(sessions, broker, subscription)
        runner.start()
        started.append(runner)
        return runner

    yield start
    for runner in started:
        await runner.stop()


async def publish(
    broker: Broker, envelope: Envelope, *, message_id: str | None = None
) -> None:
    await broker.jetstream.publish(
        envelope.type,
        envelope.model_dump_json().encode(),
        headers={
            "Nats-Msg-Id": message_id or str(envelope.id),
            CORRELATION_HEADER: envelope.correlation_id,
        },
    )


def probe(value: int, correlation_id: str = "corr-test") -> Envelope:
    return Envelope.wrap(ProbeRecorded(value=value), correlation_id=correlation_id)


async def effects(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[uuid.UUID, int]]:
    async with sessions() as session:
        rows = await session.execute(sa.select(probe_effects))
        return [(row.event_id, row.value) for row in rows]


async def test_the_same_event_delivered_twice_takes_effect_once(
    sessions: async_sessionmaker[AsyncSession],
    broker: Broker,
    runners: Callable[[Subscription], ConsumerRunner],
) -> None:
    envelope = probe(11)
    runner = runners(probe_subscription())

    # Two message ids defeat JetStream's own deduplication: only the inbox is left.
    await publish(broker, envelope, message_id="first")
    await publish(broker, envelope, message_id="second")
    await eventually(lambda: _consumer_idle(broker))
    await runner.stop()

    assert await effects(sessions) == [(envelope.id, 11)]
    assert await count(sessions, inbox) == 1
    lag = REGISTRY.get_sample_value("pmm_consumer_lag", {"consumer": "kittest-probe"})
    assert lag == 0.0


async def test_a_consumer_that_dies_before_its_commit_gets_the_message_again(
    sessions: async_sessionmaker[AsyncSession],
    broker: Broker,
    runners: Callable[[Subscription], ConsumerRunner],
) -> None:
    in_handler = asyncio.Event()
    deliveries_seen: list[int] = []

    async def dies_on_first_delivery(
        session: AsyncSession, event: ReceivedEvent
    ) -> None:
        deliveries_seen.append(event.deliveries)
        await record_effect(session, event)
        if event.deliveries == 1:
            in_handler.set()
            await asyncio.Event().wait()  # the process dies here, mid-transaction

    subscription = probe_subscription(dies_on_first_delivery, ack_wait=1.0)
    first = runners(subscription)
    envelope = probe(21)
    await publish(broker, envelope)
    await asyncio.wait_for(in_handler.wait(), 10)
    await first.stop()
    effects_after_death = await effects(sessions)

    second = runners(subscription)
    await eventually(lambda: _effects_count(sessions, 1))
    await second.stop()

    assert effects_after_death == []
    assert deliveries_seen == [1, 2]
    assert await effects(sessions) == [(envelope.id, 21)]


async def test_a_message_that_always_fails_lands_in_the_dead_letter_table(
    sessions: async_sessionmaker[AsyncSession],
    broker: Broker,
    runners: Callable[[Subscription], ConsumerRunner],
) -> None:
    attempts: set[int] = set()

    async def always_fails(session: AsyncSession, event: ReceivedEvent) -> None:
        attempts.add(event.deliveries)
        raise RuntimeError("the handler cannot cope")

    subscription = probe_subscription(always_fails, max_deliver=3, backoff=(0.05,))
    runner = runners(subscription)
    envelope = probe(31)
    await publish(broker, envelope)
    await eventually(lambda: _has_dead_letters(sessions))
    await asyncio.sleep(0.5)
    await runner.stop()

    assert attempts == {1, 2, 3}
    [letter] = await dead_letters(sessions)
    assert letter.consumer == "kittest-probe"
    assert letter.event_id == envelope.id
    assert letter.deliveries == 3
    assert letter.error == "RuntimeError: the handler cannot cope"
    assert Envelope.model_validate_json(letter.body) == envelope
    assert await count(sessions, inbox) == 0


async def test_a_permanent_error_is_dead_lettered_at_once(
    sessions: async_sessionmaker[AsyncSession],
    broker: Broker,
    runners: Callable[[Subscription], ConsumerRunner],
) -> None:
    async def refuses(session: AsyncSession, event: ReceivedEvent) -> None:
        raise PermanentError("the value can never be scored")

    runner = runners(probe_subscription(refuses))
    await publish(broker, probe(41))
    await eventually(lambda: _has_dead_letters(sessions))
    await runner.stop()

    [letter] = await dead_letters(sessions)
    assert letter.deliveries == 1
    assert letter.error == "PermanentError: the value can never be scored"


async def test_a_message_that_is_not_an_event_is_dead_lettered_unparsed(
    sessions: async_sessionmaker[AsyncSession],
    broker: Broker,
    runners: Callable[[Subscription], ConsumerRunner],
) -> None:
    runner = runners(probe_subscription())
    await broker.jetstream.publish(ProbeRecorded.event_type(), b"{not json")
    await eventually(lambda: _has_dead_letters(sessions))
    await runner.stop()

    [letter] = await dead_letters(sessions)
    assert letter.event_id is None
    assert letter.body == "{not json"
    assert letter.error.startswith("not an event this consumer knows")
    with pytest.raises(DeadLetterError, match="cannot be replayed"):
        async with sessions() as session, session.begin():
            await replay_dead_letter(session, letter.id)


async def test_a_replayed_dead_letter_is_processed_by_the_fixed_consumer(
    sessions: async_sessionmaker[AsyncSession],
    broker: Broker,
    runners: Callable[[Subscription], ConsumerRunner],
) -> None:
    async def refuses(session: AsyncSession, event: ReceivedEvent) -> None:
        raise PermanentError("not yet")

    failing = runners(probe_subscription(refuses))
    envelope = probe(51)
    await publish(broker, envelope)
    await eventually(lambda: _has_dead_letters(sessions))
    await failing.stop()

    fixed = runners(probe_subscription())
    async with sessions() as session, session.begin():
        [listed] = await list_dead_letters(session)
        replayed = await replay_dead_letter(session, listed.id)
    await OutboxRelay(sessions, broker, service="kit-test", settings=FAST).relay_once()
    await eventually(lambda: _effects_count(sessions, 1))
    await fixed.stop()

    assert replayed == envelope
    assert await effects(sessions) == [(envelope.id, 51)]
    async with sessions() as session:
        assert await list_dead_letters(session) == []
        [kept] = await list_dead_letters(session, include_replayed=True)
    assert kept.replayed_at is not None
    with pytest.raises(DeadLetterError, match="already replayed"):
        async with sessions() as session, session.begin():
            await replay_dead_letter(session, listed.id)


async def test_the_correlation_id_travels_from_the_writer_to_the_consumer(
    sessions: async_sessionmaker[AsyncSession],
    broker: Broker,
    runners: Callable[[Subscription], ConsumerRunner],
) -> None:
    seen: list[object] = []

    async def remembers_context(session: AsyncSession, event: ReceivedEvent) -> None:
        seen.append(structlog.contextvars.get_contextvars().get("correlation_id"))

    runner = runners(probe_subscription(remembers_context))
    clear_context()
    bind_correlation_id("corr-from-request")
    async with UnitOfWork(sessions) as uow:
        await add_event(uow.session, ProbeRecorded(value=61))
        await uow.commit()
    clear_context()
    await OutboxRelay(sessions, broker, service="kit-test", settings=FAST).relay_once()
    await eventually(lambda: _seen_any(seen))
    await runner.stop()

    assert seen == ["corr-from-request"]


async def _consumer_idle(broker: Broker) -> bool:
    # The runner creates its durable consumer as it starts, in its own task: until
    # then there is nothing to ask, and nothing consumed.
    try:
        info = await broker.jetstream.consumer_info("PMM", "kittest-probe")
    except NotFoundError:
        return False
    return bool(info.num_pending == 0 and info.num_ack_pending == 0)


async def _effects_count(sessions: async_sessionmaker[AsyncSession], n: int) -> bool:
    return await count(sessions, probe_effects) == n


async def _has_dead_letters(sessions: async_sessionmaker[AsyncSession]) -> bool:
    return bool(await dead_letters(sessions))


async def _seen_any(seen: list[object]) -> bool:
    return bool(seen)


async def test_a_failing_message_does_not_hold_back_the_rest_of_its_batch(
    sessions: async_sessionmaker[AsyncSession],
    broker: Broker,
    runners: Callable[[Subscription], ConsumerRunner],
) -> None:
    async def refuses_thirteen(session: AsyncSession, event: ReceivedEvent) -> None:
        assert isinstance(event.payload, ProbeRecorded)
        if event.payload.value == 13:
            raise RuntimeError("unlucky")
        await record_effect(session, event)

    unlucky, lucky = probe(13), probe(14)
    # Both are in the stream before the consumer fetches: they arrive in one batch.
    await publish(broker, unlucky)
    await publish(broker, lucky)
    runners(probe_subscription(refuses_thirteen, max_deliver=2, backoff=(0.05,)))
    await eventually(lambda: _has_dead_letters(sessions))

    assert await effects(sessions) == [(lucky.id, 14)]
    [letter] = await dead_letters(sessions)
    assert (letter.event_id, letter.deliveries) == (unlucky.id, 2)


class _CountingRunner(ConsumerRunner):
    """A runner that counts how often it bound its pull subscription (once, unless
    something interrupted it), how many of its fetches brought nothing and how many
    started while a batch was being handled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.binds = 0
        self.empty_fetches = 0
        self.fetched_ahead = 0
        self._handling = False

    async def _consume(self) -> None:
        self.binds += 1
        await super()._consume()

    async def _fetch(self, pull: JetStreamContext.PullSubscription) -> list[Msg]:
        self.fetched_ahead += self._handling
        messages = await super()._fetch(pull)
        self.empty_fetches += not messages
        return messages

    async def handle_batch(self, messages: list[Msg]) -> None:
        self._handling = True
        try:
            await super().handle_batch(messages)
        finally:
            self._handling = False


async def test_fetches_that_find_nothing_leave_the_consumer_running(
    sessions: async_sessionmaker[AsyncSession], broker: Broker
) -> None:
    runner = _CountingRunner(sessions, broker, probe_subscription(fetch_timeout=0.1))
    runner.start()

    # Fetches on an empty stream time out (nats' TimeoutError or asyncio's) or
    # return nothing; none of them may interrupt the runner and bind it again.
    await eventually(lambda: _empty_fetches(runner, 3))
    envelope = probe(31)
    await publish(broker, envelope)
    await eventually(lambda: _effects_count(sessions, 1))
    await runner.stop()

    assert runner.binds == 1
    assert await effects(sessions) == [(envelope.id, 31)]


async def _empty_fetches(runner: _CountingRunner, at_least: int) -> bool:
    return runner.empty_fetches >= at_least


async def test_a_backlog_fetched_ahead_of_its_batches_takes_effect_once_each(
    sessions: async_sessionmaker[AsyncSession], broker: Broker
) -> None:
    envelopes = [probe(value) for value in range(60)]
    for envelope in envelopes:
        await publish(broker, envelope)
    # Ten batches of six: while one is handled, a full batch waits behind it and
    # is fetched ahead.
    runner = _CountingRunner(sessions, broker, probe_subscription(batch_size=6))
    runner.start()

    await eventually(lambda: _effects_count(sessions, 60))
    await eventually(lambda: _consumer_idle(broker))
    await runner.stop()

    assert sorted(await effects(sessions)) == sorted(
        (envelope.id, value) for value, envelope in enumerate(envelopes)
    )
    assert await count(sessions, inbox) == 60
    assert runner.fetched_ahead >= 1
    assert runner.binds == 1
