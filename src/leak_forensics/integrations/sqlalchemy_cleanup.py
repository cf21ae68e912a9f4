"""Database clean-up for tests: engines a block of code created, disposed at its end with
the connections it never gave back named; every live ``scoped_session`` emptied; a
session on an in-memory SQLite database for one test.

SQLAlchemy has no event for an engine being created (only plugins named in the URL hear
of it), so the engines are the ones alive at the end that were not at the start, found
through the collector; check-outs are followed through the pool's own events.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from types import FrameType
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import Engine, MetaData
    from sqlalchemy.orm import Session

logger = logging.getLogger("leak_forensics")

#: Modules whose frames a check-out's line skips: the line shown is the caller's.
_SKIPPED = ("sqlalchemy", "leak_forensics", "contextlib")


def _alive(kind: type) -> list[Any]:
    return [obj for obj in gc.get_objects() if isinstance(obj, kind)]


def _shown(filename: str) -> str:
    """Relative to the working directory when under it, else as it is."""
    relative = os.path.relpath(filename) if os.path.isabs(filename) else filename
    return filename if relative.startswith("..") else relative


def _caller_line() -> str:
    """The first frame outside SQLAlchemy and this toolkit: the line that checked out."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not isinstance(module, str) or module.partition(".")[0] not in _SKIPPED:
            return f"{_shown(frame.f_code.co_filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return "an unknown line"


class EngineTracker:
    """What ``track_engines`` found: ``engines`` made inside it, ``checked_out`` the
    connections still checked out when it ended, each with the line that took it."""

    def __init__(self, load: bool = True) -> None:
        """With ``load`` false, SQLAlchemy is not imported: if nothing has imported it
        yet, any engine alive at the end was made since, and the check-outs are not
        followed (nobody can have made a connection to follow)."""
        self._open: dict[int, tuple[weakref.ref[Any], str]] = {}
        self.engines: list[Engine] = []
        self.checked_out: list[str] = []
        self._before: weakref.WeakSet[Any] = weakref.WeakSet()
        self._listening = load or "sqlalchemy.engine" in sys.modules
        if self._listening:
            from sqlalchemy import Engine, event
            from sqlalchemy.pool import Pool

            self._before = weakref.WeakSet(_alive(Engine))
            event.listen(Pool, "checkout", self._checkout)
            event.listen(Pool, "checkin", self._checkin)

    def _checkout(self, dbapi_connection: object, record: object, proxy: object) -> None:
        pool = getattr(proxy, "_pool", None)
        if pool is not None:
            self._open[id(record)] = (weakref.ref(pool), _caller_line())

    def _checkin(self, dbapi_connection: object, record: object) -> None:
        self._open.pop(id(record), None)

    def close(self) -> None:
        """Stop listening; name what is still checked out; dispose the new engines."""
        if "sqlalchemy.engine" not in sys.modules:
            return
        from sqlalchemy import Engine, event
        from sqlalchemy.pool import Pool

        if self._listening:
            event.remove(Pool, "checkout", self._checkout)
            event.remove(Pool, "checkin", self._checkin)
        self.engines = [e for e in _alive(Engine) if e not in self._before]
        pools = {id(engine.pool): engine for engine in self.engines}
        for pool_ref, line in self._open.values():
            engine = pools.get(id(pool_ref()))
            if engine is not None:
                self.checked_out.append(f"a connection to {engine.url!r} checked out at "
                                        f"{line} was never returned")
        self._open.clear()
        for text in self.checked_out:
            logger.warning("track_engines: %s", text)
        for engine in self.engines:
            try:
                engine.dispose()
            except Exception:
                logger.exception("track_engines: disposing %r failed", engine)


@contextmanager
def track_engines() -> Iterator[EngineTracker]:
    """Every engine created inside the block is disposed at its end (its checked-in
    connections closed); connections still checked out are logged with their line and
    listed in the tracker's ``checked_out``."""
    tracker = EngineTracker()
    try:
        yield tracker
    finally:
        tracker.close()


def clear_scoped_sessions() -> int:
    """Remove the sessions of every live ``scoped_session`` registry; return how many
    registries. Nothing happens unless SQLAlchemy's ORM is imported."""
    orm = sys.modules.get("sqlalchemy.orm")
    if orm is None:
        return 0
    registries = _alive(orm.scoped_session)
    for registry in registries:
        try:
            registry.remove()
        except Exception:
            logger.exception("clear_scoped_sessions: removing %r failed", registry)
    return len(registries)


def load_metadata(spec: str) -> MetaData:
    """``package.module:Base.metadata`` → that object, or a one-line ``ConfigError``."""
    from sqlalchemy import MetaData

    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise ConfigError(f"{spec!r} is not 'package.module:attribute' "
                          "(e.g. myapp.models:Base.metadata)")
    try:
        found: object = import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"{spec!r}: cannot import {module_name}: {exc}") from None
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise ConfigError(f"{spec!r}: {part!r} not found") from None
    if not isinstance(found, MetaData):
        raise ConfigError(f"{spec!r} is a {type(found).__name__}, not SQLAlchemy MetaData")
    return found


@contextmanager
def sqlite_session(metadata: MetaData | None = None) -> Iterator[Session]:
    """A session on a fresh in-memory SQLite database, with ``metadata``'s tables;
    rolled back, closed and its engine disposed at the end."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import StaticPool

    # One connection for the whole session: each new connection to ":memory:" would be
    # a new, empty database.
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        if metadata is not None:
            metadata.create_all(engine)
        session = Session(engine)
        try:
            yield session
        finally:
            session.rollback()
            session.close()
    finally:
        engine.dispose()
