"""What a service process runs besides HTTP: database, broker, relay and consumers.

Nothing connects at import: `start()` is called from the app's lifespan (or the worker
command) and `stop()` undoes it in reverse order.
"""

import asyncio
import os
import signal
from collections.abc import Sequence

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pmm_kit.broker import Broker
from pmm_kit.consumers import ConsumerRunner, Subscription
from pmm_kit.db import UnitOfWork, create_engine, create_session_factory
from pmm_kit.outbox import OutboxRelay, RelaySettings
from pmm_kit.settings import ServiceSettings

log = structlog.get_logger(__name__)


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        subscriptions: Sequence[Subscription] = (),
        relay_settings: RelaySettings | None = None,
    ) -> None:
        self.settings = settings
        self.engine: AsyncEngine = create_engine(
            settings.database_url.get_secret_value(),
            schema=settings.schema_name,
            pool_size=settings.db_pool_size,
        )
        self.sessions: async_sessionmaker[AsyncSession] = create_session_factory(
            self.engine
        )
        self.broker = Broker(settings.nats_url, name=f"pmm-{settings.service}")
        self.relay = OutboxRelay(
            self.sessions,
            self.broker,
            service=settings.service,
            settings=relay_settings,
        )
        self._orphan_watch: asyncio.Task[None] | None = None
        self.consumers = [
            ConsumerRunner(
                self.sessions,
                self.broker,
                subscription,
                on_outbox_committed=self.relay.wake,
            )
            for subscription in subscriptions
        ]

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, on_outbox_committed=self.relay.wake)

    async def start(self) -> None:
        if self.settings.parent_pid is not None:
            self._orphan_watch = asyncio.create_task(
                _stop_when_orphaned(self.settings.parent_pid)
            )
        self.broker.start()
        if self.settings.run_relay:
            self.relay.start()
        if self.settings.run_consumers:
            for consumer in self.consumers:
                consumer.start()
        log.info("service.started", schema=self.settings.schema_name)

    async def stop(self) -> None:
        if self._orphan_watch is not None:
            self._orphan_watch.cancel()
        for consumer in self.consumers:
            await consumer.stop()
        await self.relay.stop()
        await self.broker.close()
        await self.engine.dispose()
        log.info("service.stopped")

    async def readiness(self) -> dict[str, str]:
        """What `/readyz` reports: each dependency `ok` or why not."""
        checks = {"database": "ok", "nats": "ok"}
        try:
            async with self.engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except Exception as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        if not self.broker.connected:
            checks["nats"] = "not connected"
        elif not await self.broker.stream_exists():
            checks["nats"] = "the PMM stream is missing"
        return checks


async def _stop_when_orphaned(parent_pid: int) -> None:
    """A stack killed without a chance to stop its services must not leave them
    running: when the parent is gone, stop as if told to."""
    while os.getppid() == parent_pid:  # noqa: ASYNC110  the OS has no event for it
        await asyncio.sleep(1.0)
    log.warning("service.orphaned", parent_pid=parent_pid)
    os.kill(os.getpid(), signal.SIGTERM)
