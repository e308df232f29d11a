"""Durable pull consumers with an inbox: each event takes effect once per consumer.

Invariant: a handler's effects and the `(consumer, event id)` inbox row are committed in
one transaction, and the message is acknowledged only after that commit. A redelivery
(after a crash, a lost ack or a duplicate publish) finds the inbox row and does nothing.
A message that fails is redelivered with backoff; one that can never succeed (not an
event we understand, a `PermanentError`, or out of deliveries) is terminated and kept in
the dead-letter table, from which an operator can replay it.

A fetched batch commits once, which is what makes a consumer fast. If one handler of the
batch fails, the batch is rolled back and applied again one message per savepoint, so a
handler may run twice for one delivery: its only effects must be in the session.
"""

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit import metrics
from pmm_kit.broker import Broker
from pmm_kit.db import OUTBOX_WRITTEN
from pmm_kit.events import STREAM_NAME, Contract, Envelope, UnknownEventError
from pmm_kit.logs import bind_correlation_id, clear_context
from pmm_kit.outbox import add_envelope
from pmm_kit.tables import dead_letter, inbox
from pmm_kit.tasks import cancel_and_wait

log = structlog.get_logger(__name__)


class PermanentError(Exception):
    """The message can never succeed, however often it is delivered."""


@dataclass(frozen=True)
class ReceivedEvent:
    envelope: Envelope
    payload: Contract
    deliveries: int


Handler = Callable[[AsyncSession, ReceivedEvent], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """One durable consumer: which subjects it reads and what it does with them."""

    consumer: str
    subjects: tuple[str, ...]
    handler: Handler
    max_deliver: int = 5
    ack_wait: float = 30.0
    backoff: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)
    batch_size: int = 50
    # How long a fetch waits for a first message before it asks again.
    fetch_timeout: float = 1.0

    def delay_after(self, deliveries: int) -> float:
        return self.backoff[min(deliveries, len(self.backoff)) - 1]


class ConsumerRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        subscription: Subscription,
        *,
        on_outbox_committed: Callable[[], None] | None = None,
        lag_interval: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._broker = broker
        self._subscription = subscription
        self._on_outbox_committed = on_outbox_committed
        self._lag_interval = lag_interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        if self._task is None:
            return
        await cancel_and_wait(
            self._task, name=f"consumer {self._subscription.consumer}"
        )

    async def run(self) -> None:
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "consumer.interrupted",
                    consumer=self._subscription.consumer,
                    error=f"{type(error).__name__}: {error}",
                )
                await asyncio.sleep(1.0)

    async def _consume(self) -> None:
        await self._broker.wait_ready()
        jetstream = self._broker.jetstream
        await self._broker.ensure_stream()
        await ensure_consumer(jetstream, self._subscription)
        pull = await jetstream.pull_subscribe_bind(
            self._subscription.consumer, stream=STREAM_NAME
        )
        try:
            await self._fetch_and_handle(pull)
        finally:
            # A pending pull of a stopped runner would swallow messages until ack_wait.
            with contextlib.suppress(Exception):
                await pull.unsubscribe()

    async def _fetch_and_handle(self, pull: JetStreamContext.PullSubscription) -> None:
        next_lag_check = 0.0
        prefetched: asyncio.Task[list[Msg]] | None = None
        try:
            while True:
                if time.monotonic() >= next_lag_check:
                    info = await pull.consumer_info()
                    metrics.CONSUMER_LAG.labels(self._subscription.consumer).set(
                        info.num_pending or 0
                    )
                    next_lag_check = time.monotonic() + self._lag_interval
                if prefetched is None:
                    messages = await self._fetch(pull)
                else:
                    messages, prefetched = await prefetched, None
                if not messages:
                    continue
                # Each delivery says how many messages wait behind it: the lag, for
                # free, and whether the next batch can be fetched while this one is
                # handled (a worker working off a backlog would otherwise wait for
                # the round trip after every commit). Only a full batch: a fetch
                # that finds fewer than it asked for (others took them) waits for
                # the rest until its timeout, holding the ones it has.
                waiting = messages[-1].metadata.num_pending
                if waiting >= self._subscription.batch_size:
                    prefetched = asyncio.create_task(self._fetch(pull))
                await self.handle_batch(messages)
                metrics.CONSUMER_LAG.labels(self._subscription.consumer).set(waiting)
        finally:
            if prefetched is not None:
                # Its messages, unacknowledged, are delivered again after ack_wait.
                prefetched.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await prefetched

    async def _fetch(self, pull: JetStreamContext.PullSubscription) -> list[Msg]:
        subscription = self._subscription
        try:
            return await pull.fetch(
                subscription.batch_size, timeout=subscription.fetch_timeout
            )
        except TimeoutError:
            # Nothing arrived in time. nats raises its own TimeoutError or, on
            # some paths, asyncio's (its parent): neither may stop the runner,
            # which would wait a second before fetching again.
            return []

    async def handle_batch(self, messages: list[Msg]) -> None:
        """Process a fetched batch in one transaction, each message in a savepoint.

        One commit for the batch is what makes a consumer fast; the savepoints keep a
        failing message from taking the others down with it. Never raises for a
        problem with a message.
        """
        events: list[tuple[Msg, ReceivedEvent]] = []
        for message in messages:
            event = await self._decode_or_give_up(message)
            if event is not None:
                events.append((message, event))
        if not events:
            return

        try:
            failures, wrote_events = await self._apply(events)
        except Exception as error:
            # The commit itself failed: nothing took effect, every message is retried.
            failures = {event.envelope.id: error for _, event in events}
            wrote_events = False

        for message, event in events:
            await self._settle(message, event, failures.get(event.envelope.id))
        if wrote_events and self._on_outbox_committed is not None:
            self._on_outbox_committed()

    async def _decode_or_give_up(self, message: Msg) -> ReceivedEvent | None:
        deliveries = message.metadata.num_delivered
        try:
            envelope = Envelope.model_validate_json(message.data)
            event = ReceivedEvent(envelope, envelope.payload(), deliveries)
        except (ValidationError, UnknownEventError) as error:
            reason = f"not an event this consumer knows: {error}"
            await self._give_up(message, None, reason)
            return None
        if deliveries > self._subscription.max_deliver:
            reason = "no delivery finished within max_deliver"
            await self._give_up(message, envelope, reason)
            return None
        return event

    async def _apply(
        self, events: list[tuple[Msg, ReceivedEvent]]
    ) -> tuple[dict[uuid.UUID, Exception], bool]:
        """Apply the batch; returns the events that failed, and whether any wrote
        events of their own to the outbox."""
        received = [event for _, event in events]
        try:
            return {}, await self._apply_together(received)
        except Exception:
            # Some handler failed: find which, each in a savepoint of its own, so
            # that the others still take effect.
            return await self._apply_one_by_one(received)

    async def _apply_together(self, events: list[ReceivedEvent]) -> bool:
        async with self._sessions() as session:
            async with session.begin():
                fresh = await _record_in_inbox(session, self._subscription, events)
                for event in _first_of_each(events):
                    if event.envelope.id not in fresh:
                        self._log_duplicate(event)
                        continue
                    bind_correlation_id(event.envelope.correlation_id)
                    await self._subscription.handler(session, event)
            return bool(session.info.pop(OUTBOX_WRITTEN, False))

    async def _apply_one_by_one(
        self, events: list[ReceivedEvent]
    ) -> tuple[dict[uuid.UUID, Exception], bool]:
        failures: dict[uuid.UUID, Exception] = {}
        async with self._sessions() as session:
            async with session.begin():
                for event in _first_of_each(events):
                    bind_correlation_id(event.envelope.correlation_id)
                    try:
                        async with session.begin_nested():
                            await self._apply_one(session, event)
                    except Exception as error:
                        # Settled after the commit: retried, or a dead letter.
                        failures[event.envelope.id] = error
            return failures, bool(session.info.pop(OUTBOX_WRITTEN, False))

    async def _apply_one(self, session: AsyncSession, event: ReceivedEvent) -> None:
        if not await _record_in_inbox(session, self._subscription, [event]):
            self._log_duplicate(event)
            return
        await self._subscription.handler(session, event)

    def _log_duplicate(self, event: ReceivedEvent) -> None:
        log.info(
            "consumer.duplicate.skipped",
            consumer=self._subscription.consumer,
            event_id=str(event.envelope.id),
        )

    async def _settle(
        self, message: Msg, event: ReceivedEvent, failure: Exception | None
    ) -> None:
        clear_context()
        bind_correlation_id(event.envelope.correlation_id)
        if failure is None:
            await message.ack()
            metrics.CONSUMED.labels(self._subscription.consumer, "done").inc()
            return
        if isinstance(failure, PermanentError):
            await self._give_up(message, event.envelope, f"PermanentError: {failure}")
            return
        await self._retry_or_give_up(message, event.envelope, failure)

    async def _retry_or_give_up(
        self, message: Msg, envelope: Envelope, error: Exception
    ) -> None:
        deliveries = message.metadata.num_delivered
        reason = f"{type(error).__name__}: {error}"
        if deliveries >= self._subscription.max_deliver:
            await self._give_up(message, envelope, reason)
            return

        delay = self._subscription.delay_after(deliveries)
        log.warning(
            "consumer.handler.failed",
            consumer=self._subscription.consumer,
            event_id=str(envelope.id),
            deliveries=deliveries,
            retry_in=delay,
            error=reason,
        )
        metrics.CONSUMED.labels(self._subscription.consumer, "retried").inc()
        await message.nak(delay=delay)

    async def _give_up(
        self, message: Msg, envelope: Envelope | None, reason: str
    ) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                sa.insert(dead_letter).values(
                    consumer=self._subscription.consumer,
                    event_id=envelope.id if envelope else None,
                    subject=message.subject,
                    body=message.data.decode("utf-8", errors="replace"),
                    headers=dict(message.headers or {}),
                    error=reason[:4000],
                    deliveries=message.metadata.num_delivered,
                )
            )
        await message.term()
        metrics.CONSUMED.labels(self._subscription.consumer, "dead_lettered").inc()
        log.error(
            "consumer.dead_lettered",
            consumer=self._subscription.consumer,
            event_id=str(envelope.id) if envelope else None,
            subject=message.subject,
            error=reason,
        )


async def _record_in_inbox(
    session: AsyncSession, subscription: Subscription, events: list[ReceivedEvent]
) -> set[uuid.UUID]:
    """Insert the events' inbox rows; returns the ids that were not there before."""
    inserted = await session.execute(
        insert(inbox)
        .values(
            [
                {
                    "consumer": subscription.consumer,
                    "event_id": event.envelope.id,
                    "subject": event.envelope.type,
                }
                for event in events
            ]
        )
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )
    return set(inserted.scalars())


def _first_of_each(events: list[ReceivedEvent]) -> list[ReceivedEvent]:
    """One event per id: the same event may arrive twice within one batch."""
    seen: dict[uuid.UUID, ReceivedEvent] = {}
    for event in events:
        seen.setdefault(event.envelope.id, event)
    return list(seen.values())


async def ensure_consumer(
    jetstream: JetStreamContext, subscription: Subscription
) -> None:
    """Create the durable consumer, or bring it in line with the subscription."""
    config = ConsumerConfig(
        durable_name=subscription.consumer,
        filter_subjects=list(subscription.subjects),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=subscription.ack_wait,
        # One delivery more than the handler may use: if the last one crashes the
        # process, the extra one is what puts the message in the dead-letter table.
        max_deliver=subscription.max_deliver + 1,
        max_ack_pending=1000,
    )
    # Without an explicit action the server creates the consumer, or updates it
    # in place when a deployment changed its settings.
    await jetstream.add_consumer(STREAM_NAME, config)


@dataclass(frozen=True)
class DeadLetter:
    id: int
    consumer: str
    event_id: uuid.UUID | None
    subject: str
    error: str
    deliveries: int
    failed_at: Any
    replayed_at: Any


class DeadLetterError(LookupError):
    """A dead letter that does not exist, was replayed, or cannot be replayed."""


async def list_dead_letters(
    session: AsyncSession, *, include_replayed: bool = False
) -> list[DeadLetter]:
    query = sa.select(
        dead_letter.c.id,
        dead_letter.c.consumer,
        dead_letter.c.event_id,
        dead_letter.c.subject,
        dead_letter.c.error,
        dead_letter.c.deliveries,
        dead_letter.c.failed_at,
        dead_letter.c.replayed_at,
    ).order_by(dead_letter.c.id)
    if not include_replayed:
        query = query.where(dead_letter.c.replayed_at.is_(None))
    return [DeadLetter(*row) for row in await session.execute(query)]


async def replay_dead_letter(session: AsyncSession, dead_letter_id: int) -> Envelope:
    """Publish a dead letter's event again, through the outbox, under a new message id.

    Consumers that already processed the event skip it (their inbox has it); the one
    that gave up on it processes it afresh.
    """
    row = (
        await session.execute(
            sa.select(dead_letter.c.body, dead_letter.c.replayed_at)
            .where(dead_letter.c.id == dead_letter_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise DeadLetterError(f"no dead letter {dead_letter_id}")
    if row.replayed_at is not None:
        raise DeadLetterError(f"dead letter {dead_letter_id} was already replayed")
    try:
        envelope = Envelope.model_validate_json(row.body)
    except ValidationError as error:
        raise DeadLetterError(
            f"dead letter {dead_letter_id} is not an event and cannot be replayed"
        ) from error

    await add_envelope(session, envelope, message_id=uuid.uuid4())
    await session.execute(
        sa.update(dead_letter)
        .where(dead_letter.c.id == dead_letter_id)
        .values(replayed_at=sa.func.now())
    )
    return envelope
