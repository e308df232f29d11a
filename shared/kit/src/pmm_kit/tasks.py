"""Stopping the long-running tasks a service starts (consumers, the relay, the
broker's connection loop)."""

import asyncio
import contextlib
from typing import Any

import structlog

log = structlog.get_logger(__name__)

# How long a cancelled task is given before it is cancelled again.
CANCEL_GRACE_SECONDS = 2.0


async def cancel_and_wait(
    task: asyncio.Task[Any], *, name: str, grace: float = CANCEL_GRACE_SECONDS
) -> None:
    """Cancel `task` and return once it has ended, however it ends.

    A cancellation can be lost: on Python 3.11 `asyncio.wait_for` returns a result
    that arrived together with the cancellation, and a client library built on it
    (NATS fetches, driver calls) carries on as if nothing was asked. A loop in such a
    task would run for ever and its stopper wait for ever, so a task still running
    after `grace` seconds is cancelled again.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=grace)
        if not task.done():
            log.warning("task.cancel.repeated", task=name, grace_seconds=grace)
    # What it ended with is its own business now; retrieving it keeps asyncio
    # from reporting an exception that was never retrieved.
    with contextlib.suppress(asyncio.CancelledError):
        error = task.exception()
        if error is not None:
            log.warning("task.ended.with_error", task=name, error=repr(error))
