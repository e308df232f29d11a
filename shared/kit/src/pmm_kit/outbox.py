"""The transactional outbox and its relay.

Invariant: an event exists if and only if the state change that caused it was
committed, because both are written in one transaction. The relay then publishes every
row at least once: it claims rows with `FOR UPDATE SKIP LOCKED` (so several relays never
publish the same row at once), publishes with `Nats-Msg-Id` set to the row id, and marks
the row sent only after JetStream acknowledged it. A crash between the two publishes the
row again with the same id, which JetStream drops as a duplicate (and consumers' inboxes
would skip in any case).
"""

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import structlog
from nats.js.errors import NoStreamResponseError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit import metrics
from pmm_kit.broker import Broker, BrokerUnavailableError
from pmm_kit.db import OUTBOX_WRITTEN
from pmm_kit.events import CORRELATION_HEADER, Contract, EncodedEvent, Envelope
from pmm_kit.logs import current_correlation_id
from pmm_kit.tables import outbox
from pmm_kit.tasks import cancel_and_wait

log = structlog.get_logger(__name__)


async def add_event(
    session: AsyncSession, payload: Contract, *, subject: str | None = None
) -> Envelope:
    """Write an event to the outbox in the session's transaction."""
    envelope = Envelope.wrap(
        payload, correlation_id=current_correlation_id(), subject=subject
    )
    await add_envelope(session, envelope)
    return envelope


async def add_envelope(
    session: AsyncSession, envelope: Envelope, *, message_id: uuid.UUID | None = None
) -> None:
    """Write an already built envelope; a replay passes a fresh `message_id`."""
    await add_encoded(session, EncodedEvent.of(envelope), message_id=message_id)


async def add_encoded(
    session: AsyncSession, event: EncodedEvent, *, message_id: uuid.UUID | None = None
) -> None:
    """Write an event already serialised (see `encode_event`), as it is."""
    await session.execute(
        _INSERT,
        {
            "id": message_id or event.id,
            "event_id": event.id,
            "subject": event.type,
            "body": event.body,
            "correlation_id": event.correlation_id,
        },
    )
    session.info[OUTBOX_WRITTEN] = True


# Built once: building a statement costs a busy worker more than running it.
_INSERT = sa.insert(outbox)


@dataclass(frozen=True)
class RelaySettings:
    batch_size: int = 100
    poll_interval: float = 1.0
    publish_timeout: float = 5.0
    max_backoff: float = 30.0
    backlog_interval: float = 5.0


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    subject: str
    body: str
    correlation_id: str
    attempts: int


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        *,
        service: str,
        settings: RelaySettings | None = None,
    ) -> None:
        self._sessions = sessions
        self._broker = broker
        self._service = service
        self._settings = settings or RelaySettings()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Publish soon: called after a transaction that wrote events committed."""
        self._wakeup.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        if self._task is None:
            return
        await cancel_and_wait(self._task, name="outbox relay")

    async def run(self) -> None:
        failures = 0
        next_count = 0.0
        while True:
            try:
                claimed, published = await self._relay_batch()
                if time.monotonic() >= next_count:
                    await self._count_backlog()
                    next_count = time.monotonic() + self._settings.backlog_interval
                failures = 0
            except Exception as error:
                failures += 1
                log.exception("outbox.relay.failed", error=str(error))
                await asyncio.sleep(self._backoff(failures))
                continue
            # A full batch claimed: more rows may wait. Rows committed after the
            # claim have woken the relay already.
            if published and claimed >= self._settings.batch_size:
                continue
            await self._sleep_until_woken()

    async def relay_once(self) -> tuple[int, int]:
        """Publish one batch; returns how many were published and how many wait."""
        _, published = await self._relay_batch()
        return published, await self.backlog()

    async def _relay_batch(self) -> tuple[int, int]:
        """Publish a batch of the rows that are due; returns how many were claimed
        and how many of them published."""
        if not self._broker.connected:
            return 0, 0

        async with self._sessions() as session, session.begin():
            claimed = await self._claim(session)
            if not claimed:
                return 0, 0
            return len(claimed), await self._publish_all(session, claimed)

    async def _count_backlog(self) -> None:
        # A count of the table costs a busy worker more than a batch's publishes:
        # the gauge is refreshed every `backlog_interval`, not after each batch.
        metrics.OUTBOX_BACKLOG.labels(self._service).set(await self.backlog())

    async def backlog(self) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                sa.select(sa.func.count()).where(outbox.c.sent_at.is_(None))
            )
        return int(count or 0)

    async def _claim(self, session: AsyncSession) -> list[_Claimed]:
        rows = await session.execute(
            sa.select(
                outbox.c.id,
                outbox.c.subject,
                outbox.c.body,
                outbox.c.correlation_id,
                outbox.c.attempts,
            )
            .where(outbox.c.sent_at.is_(None), outbox.c.available_at <= sa.func.now())
            .order_by(outbox.c.position)
            .limit(self._settings.batch_size)
            .with_for_update(skip_locked=True)
        )
        return [_Claimed(*row) for row in rows]

    async def _publish_all(self, session: AsyncSession, claimed: list[_Claimed]) -> int:
        outcomes = await asyncio.gather(
            *(self._publish(row) for row in claimed), return_exceptions=True
        )
        sent = [
            row.id
            for row, outcome in zip(claimed, outcomes, strict=True)
            if outcome is None
        ]
        if sent:
            await session.execute(
                sa.update(outbox)
                .where(outbox.c.id.in_(sent))
                .values(sent_at=sa.func.now())
            )
        for row, outcome in zip(claimed, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                await self._postpone(session, row, outcome)
        if any(isinstance(outcome, NoStreamResponseError) for outcome in outcomes):
            # The server came back without the stream: make it again for the retry.
            with contextlib.suppress(Exception):
                await self._broker.ensure_stream()
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(sent))
        return len(sent)

    async def _publish(self, row: _Claimed) -> None:
        await self._broker.jetstream.publish(
            row.subject,
            row.body.encode(),
            timeout=self._settings.publish_timeout,
            headers={
                "Nats-Msg-Id": str(row.id),
                CORRELATION_HEADER: row.correlation_id,
            },
        )

    async def _postpone(
        self, session: AsyncSession, row: _Claimed, error: BaseException
    ) -> None:
        delay = self._backoff(row.attempts + 1)
        await session.execute(
            sa.update(outbox)
            .where(outbox.c.id == row.id)
            .values(
                attempts=outbox.c.attempts + 1,
                last_error=f"{type(error).__name__}: {error}"[:1000],
                available_at=sa.func.now() + timedelta(seconds=delay),
            )
        )
        event = "outbox.publish.postponed"
        if not isinstance(error, BrokerUnavailableError | TimeoutError):
            event = "outbox.publish.failed"
        log.warning(event, message_id=str(row.id), subject=row.subject, retry_in=delay)

    def _backoff(self, attempts: int) -> float:
        return float(min(0.25 * 2 ** min(attempts, 16), self._settings.max_backoff))

    async def _sleep_until_woken(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), self._settings.poll_interval)
        self._wakeup.clear()
