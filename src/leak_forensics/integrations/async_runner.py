"""An event loop in a thread of its own, for synchronous tests of asynchronous code, with a
shutdown that ends within its timeout whatever the coroutines do.

Every suite with background work writes this helper, and the usual one leaks: a task that
swallows its cancellation keeps ``run_until_complete`` waiting, asyncio's own
``shutdown_default_executor`` waits up to 300 s for a blocked thread (3.11 has no timeout
for it), and a loop that is stopped but never closed keeps its selector's descriptors
open. Here each step of the shutdown gets a share of one deadline, a step that runs out of
time is logged and passed, and the runner drops its loop, thread and executor at the end,
so that what they held can be collected.

The cleanup pass shuts down runners a test started and left running (``left_running``);
the process-wide runner (``get_global_runner``) is the process's, like a session fixture,
and is shut down when the test session ends.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Coroutine
from types import FrameType, TracebackType
from typing import Any, TypeVar

from ..types import Frames

T = TypeVar("T")
logger = logging.getLogger("leak_forensics")

#: Shares of the shutdown's timeout: cancelled tasks, async generators, the executor;
#: the loop's thread gets what is left.
_TASKS, _ASYNCGENS, _EXECUTOR = 0.4, 0.15, 0.25
_STACK_LIMIT = 32

_live: weakref.WeakSet[AsyncRunner] = weakref.WeakSet()
_global: AsyncRunner | None = None
_global_lock = threading.Lock()


def _creation_stack() -> Frames:
    """Where the runner was made, innermost first, this module's frames left out."""
    frames: list[tuple[str, int]] = []
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and len(frames) < _STACK_LIMIT:
        if frame.f_code.co_filename != __file__:
            frames.append((frame.f_code.co_filename, frame.f_lineno))
        frame = frame.f_back
    return tuple(frames)


class AsyncRunner:
    """Runs coroutines from synchronous code on a loop in a daemon thread of its own."""

    def __init__(self, name: str = "AsyncRunner") -> None:
        self.name = name
        #: The stack that made this runner, for the report of a runner left running.
        self.created_at = _creation_stack()
        self._lock = threading.Lock()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = asyncio.new_event_loop()
        # The runner's own executor, so that shutting it down waits as long as the
        # runner decides and a blocked call cannot hold the process at exit.
        self._executor: DaemonExecutor | None = DaemonExecutor(f"{name}-executor")
        self._loop.set_default_executor(self._executor)
        self._thread: threading.Thread | None = threading.Thread(
            target=self._serve, args=(self._loop,), name=name, daemon=True)
        started = threading.Event()
        self._loop.call_soon(started.set)
        self._thread.start()
        started.wait()
        _live.add(self)

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            asyncio.set_event_loop(None)

    # -- running --------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def thread(self) -> threading.Thread | None:
        """The loop's thread; None once the runner is shut down."""
        return self._thread

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The runner's loop; None once the runner is shut down."""
        return self._loop

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the runner's loop; its result arrives in the future."""
        loop = self._loop
        if self._closed or loop is None:
            coro.close()  # never awaited: say nothing about it
            raise RuntimeError(f"{self.name} is shut down")
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` to its end and return its result, or raise its exception; after
        ``timeout`` seconds it is cancelled and ``TimeoutError`` is raised."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(f"{self.name}.run() called from its own loop: await instead")
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise TimeoutError(f"{self.name}: the coroutine did not finish within "
                               f"{timeout:g} s") from None

    def __enter__(self) -> AsyncRunner:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        state = "shut down" if self._closed else "running"
        return f"<AsyncRunner {self.name!r} {state}>"

    # -- shutting down --------------------------------------------------------------------

    def shutdown(self, timeout: float = 2.0) -> None:
        """Cancel what still runs, close the async generators, the executor and the loop,
        and end the thread, within about ``timeout`` seconds. Errors are logged, never
        raised; a second call does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        _live.discard(self)
        deadline = time.monotonic() + timeout
        loop, thread, executor = self._loop, self._thread, self._executor
        assert loop is not None and thread is not None and executor is not None
        try:
            if thread.is_alive() and loop.is_running():
                self._wait(loop, self._cancel_tasks(timeout * _TASKS * 0.9),
                           timeout * _TASKS, "cancelling its tasks")
                self._wait(loop, loop.shutdown_asyncgens(), timeout * _ASYNCGENS,
                           "closing its async generators")
            self._shut_executor(executor, min(timeout * _EXECUTOR, _left(deadline)))
            if thread.is_alive():
                loop.call_soon_threadsafe(loop.stop)
                thread.join(_left(deadline))
            if thread.is_alive():
                logger.error("%s: its loop's thread did not stop within %g s (a coroutine "
                             "blocks it without awaiting); it is left running",
                             self.name, timeout)
            else:
                self._close_loop(loop)
        except Exception:
            logger.exception("%s: shutting down failed", self.name)
        finally:
            # Whatever the loop, thread and tasks hold can now be collected.
            self._loop = self._thread = self._executor = None

    async def _cancel_tasks(self, timeout: float) -> None:
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        if pending:
            logger.warning("%s: %d task(s) ignored their cancellation for %g s and are "
                           "dropped: %s", self.name, len(pending), timeout,
                           ", ".join(sorted(_task_name(t) for t in pending)))

    def _wait(self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None],
              timeout: float, what: str) -> None:
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            future.result(timeout)
        except TimeoutError:
            future.cancel()
            logger.warning("%s: %s took more than %g s; going on", self.name, what, timeout)
        except Exception:
            logger.exception("%s: %s failed", self.name, what)

    def _shut_executor(self, executor: DaemonExecutor, timeout: float) -> None:
        """Stop the executor without asyncio's unbounded wait: running calls get
        ``timeout`` seconds, and a thread still blocked after that is named (Python
        cannot stop a thread; a daemon one at least does not delay the exit)."""
        executor.shutdown(wait=False)
        blocked = executor.join(timeout)
        if blocked:
            logger.warning("%s: executor thread(s) %s still busy after %g s; left to "
                           "finish on their own", self.name, ", ".join(blocked), timeout)

    def _close_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            # A task dropped with its loop would otherwise log "Task was destroyed but it
            # is pending!" whenever it is collected: the shutdown already said so.
            task._log_destroy_pending = False  # type: ignore[attr-defined]  # asyncio's flag for this
        loop.close()


class DaemonExecutor(concurrent.futures.ThreadPoolExecutor):
    """A thread per call, each a daemon. ``ThreadPoolExecutor``'s workers are joined when
    the interpreter exits, so one call blocked for a minute holds the test session's
    exit for a minute; a test runner's executor runs few calls, so threads are not
    pooled. (A subclass only because asyncio 3.11 accepts no other default executor:
    none of the pool's own machinery runs.)"""

    def __init__(self, name: str) -> None:
        super().__init__(max_workers=1, thread_name_prefix=name)
        self._name = name
        self._count = 0
        self._threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._shut = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any  # noqa: ANN401  # Executor's signature
               ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

        with self._lock:
            if self._shut:
                raise RuntimeError(f"{self._name}: cannot schedule new calls after shutdown")
            self._count += 1
            thread = threading.Thread(target=work, name=f"{self._name}_{self._count}",
                                      daemon=True)
            self._threads.add(thread)
        thread.start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shut = True
        if wait:
            self.join(None)

    def join(self, timeout: float | None) -> list[str]:
        """Wait up to ``timeout`` seconds for the calls; the names of threads still busy."""
        deadline = None if timeout is None else time.monotonic() + timeout
        threads = list(self._threads)
        for thread in threads:
            thread.join(None if deadline is None else _left(deadline))
        return [thread.name for thread in threads if thread.is_alive()]


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _task_name(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    qualname = getattr(coro, "__qualname__", None)
    return f"{task.get_name()} ({qualname})" if qualname else task.get_name()


def left_running(started_since: frozenset[int]) -> list[AsyncRunner]:
    """Runners whose thread is not among ``started_since`` (thread idents) and that are
    still running, the process-wide runner aside."""
    return [runner for runner in list(_live)
            if runner is not _global and not runner.closed and runner.thread is not None
            and runner.thread.ident not in started_since]


def get_global_runner() -> AsyncRunner:
    """The process-wide runner, made on first use."""
    global _global
    with _global_lock:
        if _global is None or _global.closed:
            _global = AsyncRunner("leak-forensics-global-runner")
        return _global


def shutdown_global_runner(timeout: float = 2.0) -> None:
    """Shut the process-wide runner down and forget it (the next ``get_global_runner``
    makes a new one), with the extra attempts: the thread given a last join, garbage
    collected by generation, and what the collector could not free reported."""
    global _global
    with _global_lock:
        runner, _global = _global, None
    if runner is None:
        return
    thread = runner.thread
    runner.shutdown(timeout)
    if thread is not None and thread.is_alive():
        thread.join(timeout / 4)
    del runner, thread
    garbage = len(gc.garbage)
    for generation in range(3):
        gc.collect(generation)
    if len(gc.garbage) > garbage:
        kinds = Counter(type(obj).__qualname__ for obj in gc.garbage[garbage:])
        logger.warning("after the global runner's shutdown the collector could not free "
                       "%d object(s): %s", len(gc.garbage) - garbage,
                       ", ".join(f"{n} {k}" for k, n in kinds.most_common(5)))
