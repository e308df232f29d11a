"""A process that only consumes events and relays the outbox (no HTTP)."""

import asyncio
import signal
from collections.abc import Sequence

import structlog

from pmm_kit.consumers import Subscription
from pmm_kit.logs import configure_logging
from pmm_kit.runtime import ServiceRuntime
from pmm_kit.settings import ServiceSettings

log = structlog.get_logger(__name__)


async def run_worker(
    settings: ServiceSettings, subscriptions: Sequence[Subscription]
) -> None:
    """Run until SIGINT or SIGTERM.

    A message in hand when the worker stops is not acknowledged: it is delivered
    again, to this worker or another, and the inbox keeps it from counting twice.
    """
    configure_logging(
        service=settings.service,
        log_format=settings.resolved_log_format,
        level=settings.log_level,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)

    runtime = ServiceRuntime(settings, subscriptions=subscriptions)
    await runtime.start()
    log.info("worker.started", consumers=[s.consumer for s in subscriptions])
    try:
        await stopping.wait()
    finally:
        await runtime.stop()
        log.info("worker.stopped")
