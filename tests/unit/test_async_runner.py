"""AsyncRunner: coroutines from synchronous code, and a shutdown that ends within its
timeout whatever the coroutines and the executor do."""

import asyncio
import gc
import logging
import threading
import time
import weakref

import pytest

from leak_forensics.testing import AsyncRunner, get_global_runner, shutdown_global_runner


async def add(a, b):
    await asyncio.sleep(0)
    return a + b


async def fail():
    raise KeyError("from the coroutine")


def test_run_returns_the_result_or_raises_the_coroutines_exception():
    with AsyncRunner() as runner:
        assert runner.run(add(1, 2)) == 3
        assert runner.submit(add(2, 3)).result(5) == 5
        with pytest.raises(KeyError, match="from the coroutine"):
            runner.run(fail())
        with pytest.raises(TimeoutError, match="did not finish within 0.05 s"):
            runner.run(asyncio.sleep(30), timeout=0.05)
    with pytest.raises(RuntimeError, match="shut down"):
        runner.run(add(1, 1))


def test_a_coroutine_cannot_wait_for_its_own_runner():
    with AsyncRunner() as runner:
        async def nested():
            return runner.run(add(1, 1))
        with pytest.raises(RuntimeError, match="called from its own loop"):
            runner.run(nested())


def test_shutdown_ends_in_time_with_a_stubborn_task_and_a_blocked_executor_call(caplog):
    release = threading.Event()
    started = threading.Event()

    async def ignores_cancellation():
        started.set()
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                continue

    def blocked():
        release.wait(60)

    async def in_executor():
        await asyncio.get_running_loop().run_in_executor(None, blocked)

    runner = AsyncRunner("stubborn")
    loop, thread = runner.loop, runner.thread
    runner.submit(ignores_cancellation())
    runner.submit(in_executor())
    started.wait(5)
    before = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="leak_forensics"):
        try:
            runner.shutdown(timeout=2)
            took = time.monotonic() - before
        finally:
            release.set()
    # The blockers last 60 s: anything near that means a step waited on them.
    assert took < 10, took
    assert loop.is_closed()
    assert not thread.is_alive()
    assert runner.loop is None and runner.thread is None
    assert "ignored their cancellation" in caplog.text and "ignores_cancellation" in caplog.text
    assert "stubborn-executor_1 still busy" in caplog.text
    # Released, the executor's thread ends: nothing of the runner is left running.
    deadline = time.monotonic() + 10
    while any(t.name.startswith("stubborn") for t in threading.enumerate()):
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_shutdown_is_idempotent_and_lets_everything_be_collected():
    runner = AsyncRunner()
    runner.run(add(1, 1))
    loop = weakref.ref(runner.loop)
    runner.shutdown()
    runner.shutdown()
    del runner
    gc.collect()
    assert loop() is None


def test_shutdown_closes_async_generators():
    closed = []

    async def numbers():
        try:
            for n in range(100):
                yield n
        finally:
            closed.append(True)

    async def take_one():
        gen = numbers()
        await gen.__anext__()
        return gen  # suspended, never finished

    runner = AsyncRunner()
    gen = runner.run(take_one())
    runner.shutdown()
    assert closed == [True]
    del gen


def test_the_global_runner_is_made_again_after_its_shutdown():
    first = get_global_runner()
    assert get_global_runner() is first
    assert first.run(add(2, 2)) == 4
    shutdown_global_runner()
    shutdown_global_runner()
    assert first.closed
    second = get_global_runner()
    try:
        assert second is not first
        assert second.run(add(3, 3)) == 6
    finally:
        shutdown_global_runner()
    assert not any(t.name == "leak-forensics-global-runner" for t in threading.enumerate())
