"""Release what SQLAlchemy objects created during a measured run still hold.

Only objects created inside the window are touched: closing a session that a
session-scoped fixture shares across tests would detach its instances and break the next
test. SQLAlchemy is never imported here; the step does nothing unless the code under test
already imported it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable


def release(new_objects: Iterable[object]) -> int:
    """Close sessions, clear scoped-session registries, dispose engines; return how many."""
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
    for obj in found:
        if scoped is not None and isinstance(obj, scoped):
            obj.remove()
        elif session is not None and isinstance(obj, session):
            obj.close()
    for obj in found:  # engines last: sessions give their connections back first
        if engine is not None and isinstance(obj, engine):
            obj.dispose()
    return len(found)
