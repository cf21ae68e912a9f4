"""SQLAlchemy, in one place: what a measured run's objects still hold, and connections
checked out of a pool and never returned.

``release`` touches only objects created inside the window: closing a session that a
session-scoped fixture shares across tests would detach its instances and break the next
test. Nor does it touch what the code under test keeps in a module global or a class
attribute: a session held there is the code's own state, and whatever piles up in it is
a leak to report, not warm-up to remove. SQLAlchemy is never imported here; nothing
happens unless the code under test already imported it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from ..harness import user_namespace_values
from ..types import Frames


def release(new_objects: Iterable[object],
            is_user_file: Callable[[str], bool] = lambda filename: False) -> int:
    """Close sessions, clear scoped-session registries, dispose engines that the run
    created and the code under test does not keep; return how many."""
    orm = sys.modules.get("sqlalchemy.orm")
    engine_mod = sys.modules.get("sqlalchemy.engine")
    kinds: list[type] = []
    scoped = session = engine = None
    if orm is not None:
        scoped = getattr(orm, "scoped_session", None)
        session = getattr(orm, "Session", None)
        kinds += [k for k in (scoped, session) if isinstance(k, type)]
    if engine_mod is not None:
        engine = getattr(engine_mod, "Engine", None)
        if isinstance(engine, type):
            kinds.append(engine)
    if not kinds:
        return 0
    found = [obj for obj in new_objects if isinstance(obj, tuple(kinds))]
    kept = _kept_by_user_code({id(obj) for obj in found}, is_user_file)
    found = [obj for obj in found if id(obj) not in kept]
    for obj in found:
        if scoped is not None and isinstance(obj, scoped):
            obj.remove()
        elif session is not None and isinstance(obj, session):
            obj.close()
    for obj in found:  # engines last: sessions give their connections back first
        if engine is not None and isinstance(obj, engine):
            obj.dispose()
    return len(found)


def _kept_by_user_code(candidates: set[int], is_user_file: Callable[[str], bool]) -> set[int]:
    """Which of ``candidates`` a module global or a class attribute of the code under
    test refers to directly."""
    if not candidates:
        return set()
    return {id(v) for v in user_namespace_values(is_user_file) if id(v) in candidates}


class _Checkouts:
    """Connections checked out of any SQLAlchemy pool and not yet returned, with the
    stack that checked each out. Listens once SQLAlchemy's pool module is imported."""

    def __init__(self) -> None:
        self.open: dict[int, tuple[str, Frames]] = {}
        self.listening = False
        self.stack: Callable[[int], Frames] = lambda skip: ()

    def listen(self, stack: Callable[[int], Frames]) -> None:
        self.stack = stack
        pool = sys.modules.get("sqlalchemy.pool")
        event = sys.modules.get("sqlalchemy.event")
        if self.listening or pool is None or event is None:
            return
        event.listen(pool.Pool, "checkout", self._checkout)
        event.listen(pool.Pool, "checkin", self._checkin)
        self.listening = True
        self.open[0] = ("", ())  # the table's first entry allocates it: now, not in a test
        del self.open[0]

    def stop(self) -> None:
        if self.listening:
            event = sys.modules["sqlalchemy.event"]
            pool = sys.modules["sqlalchemy.pool"]
            event.remove(pool.Pool, "checkout", self._checkout)
            event.remove(pool.Pool, "checkin", self._checkin)
            self.listening = False
        self.open.clear()

    def _checkout(self, dbapi_connection: object, record: object, proxy: object) -> None:
        pool = getattr(proxy, "_pool", None)
        self.open[id(record)] = (type(pool).__name__ if pool is not None else "pool",
                                 self.stack(1))

    def _checkin(self, dbapi_connection: object, record: object) -> None:
        self.open.pop(id(record), None)


#: The process's one record of open check-outs.
checkouts = _Checkouts()


def track_connections(stack: Callable[[int], Frames] | None) -> None:
    """Start (or, with None, stop) following pool check-outs; call again after imports."""
    if stack is None:
        checkouts.stop()
    else:
        checkouts.listen(stack)
