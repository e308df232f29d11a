"""Stopping a task whose cancellation gets lost."""

import asyncio

from pmm_kit.tasks import cancel_and_wait


async def test_a_task_that_loses_its_cancellation_is_cancelled_again() -> None:
    caught = 0

    async def loop_that_loses_one_cancellation() -> None:
        nonlocal caught
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                caught += 1
                if caught == 1:
                    continue  # as a library built on wait_for may drop it
                raise

    task = asyncio.create_task(loop_that_loses_one_cancellation())
    await asyncio.sleep(0)

    await asyncio.wait_for(cancel_and_wait(task, name="loop", grace=0.05), 5)

    assert task.cancelled()
    assert caught == 2


async def test_a_task_that_ended_with_an_error_is_stopped_quietly() -> None:
    async def failing() -> None:
        raise RuntimeError("gone")

    task = asyncio.create_task(failing())
    await asyncio.sleep(0)

    await cancel_and_wait(task, name="failing")

    assert isinstance(task.exception(), RuntimeError)
