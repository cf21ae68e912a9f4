"""A property-based test's own run, measured example by example.

A ``@given`` test's run is mostly hypothesis's engine: on a test's first run it execs a
module for the test's signature, caches the example database's paths for the test's
keys, builds its strategies, keeps statistics on the item, and between examples it
records every choice it made. None of that is the code under test, and none of it grows
on a second run; but the screen sees one run, so every property-based test read as a
suspect and was repeated (all 59 of attrs' own suite). The engine is harness here, as
pytest's runner is: the screen counts only what the examples themselves keep, by
measuring around each call of the test's body (hypothesis runs it through the handle's
``inner_test``, which it documents as the place to wrap it).

What this gives up: code that runs in the engine, not in the body — a strategy of the
user's own (``@composite``) that keeps what it draws — is not in the screen; the
repetitions of a suspect still measure everything, and ``--leak-forensics-all`` repeats
every test. A body that leaks keeps something on every example, so the screen reads it
many times over.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def handle(test: object) -> Any | None:
    """The hypothesis handle of a ``@given`` test function (or bound method), or None.

    None too for a coroutine function: its runner (pytest-asyncio, pytest-trio) wraps
    ``inner_test`` in turn, and a span around the call would close before the body ran.
    """
    found = getattr(test, "hypothesis", None)
    inner = getattr(found, "inner_test", None)
    if not callable(inner) or inspect.iscoroutinefunction(inner):
        return None
    return found


@contextmanager
def each_example(found: Any, begin: Callable[[], None], end: Callable[[], None]
                 ) -> Iterator[None]:
    """Call ``begin`` before and ``end`` after every example the engine runs meanwhile.

    Only calls made in this thread are measured (an engine that runs examples in other
    threads would interleave them with the counters' windows); the others run as they
    are. The handle gets its own ``inner_test`` back afterwards, whatever happened.
    """
    inner = found.inner_test
    owner = threading.get_ident()

    @functools.wraps(inner)
    def measured(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() != owner:
            return inner(*args, **kwargs)
        begin()
        try:
            return inner(*args, **kwargs)
        finally:
            end()

    found.inner_test = measured
    try:
        yield
    finally:
        found.inner_test = inner
