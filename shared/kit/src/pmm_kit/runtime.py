"""What a service process runs besides HTTP: database, broker, relay and consumers.

Nothing connects at import: `start()` is called from the app's lifespan (or the worker
command) and `stop()` undoes it in reverse order.
"""

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
        self.broker.start()
        if self.settings.run_relay:
            self.relay.start()
        if self.settings.run_consumers:
            for consumer in self.consumers:
                consumer.start()
        log.info("service.started", schema=self.settings.schema_name)

    async def stop(self) -> None:
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
        return checks
