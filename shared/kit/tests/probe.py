"""A test event and helpers shared by the kit's messaging tests."""

import asyncio
import time
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit.consumers import ReceivedEvent, Subscription
from pmm_kit.events import Contract
from pmm_kit.outbox import RelaySettings
from pmm_kit.tables import dead_letter, outbox

# A relay that retries within the time a test waits.
FAST = RelaySettings(poll_interval=0.05, max_backoff=0.5, publish_timeout=1.0)

probe_metadata = sa.MetaData()
# What a handler did: one row per effect, so a duplicate effect shows as two rows.
probe_effects = sa.Table(
    "probe_effects",
    probe_metadata,
    sa.Column("event_id", sa.Uuid, nullable=False),
    sa.Column("value", sa.Integer, nullable=False),
)


class ProbeRecorded(Contract):
    """A probe value was recorded (test contract)."""

    producer = "kittest"
    entity = "probe"
    event = "recorded"

    value: int


async def record_effect(session: AsyncSession, event: ReceivedEvent) -> None:
    assert isinstance(event.payload, ProbeRecorded)
    await session.execute(
        sa.insert(probe_effects).values(
            event_id=event.envelope.id, value=event.payload.value
        )
    )


def probe_subscription(
    handler: Callable[[AsyncSession, ReceivedEvent], Awaitable[None]] = record_effect,
    **options: object,
) -> Subscription:
    return Subscription(
        consumer="kittest-probe",
        subjects=(ProbeRecorded.event_type(),),
        handler=handler,
        **options,  # type: ignore[arg-type]
    )


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 15.0
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within} s")
        await asyncio.sleep(0.05)


async def count(sessions: async_sessionmaker[AsyncSession], table: sa.Table) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        )


async def unsent(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        query = sa.select(sa.func.count()).where(outbox.c.sent_at.is_(None))
        return int(await session.scalar(query) or 0)


async def dead_letters(
    sessions: async_sessionmaker[AsyncSession],
) -> list[sa.Row[tuple[object, ...]]]:
    async with sessions() as session:
        return list(await session.execute(sa.select(dead_letter)))
