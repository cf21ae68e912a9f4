"""Test utilities that suites otherwise write again, and leak through: a runner for
coroutines with a shutdown that ends, database clean-up, and leak checks from code.

The plugin registers the fixtures (``tracked_engines``, ``sqlite_session``,
``comprehensive_test_cleanup``) and the ``isolated`` marker; everything here also works
outside pytest. Each name loads its module on first use: SQLAlchemy and asyncio are
imported only by the utilities that need them.
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "AsyncRunner": "integrations.async_runner",
    "get_global_runner": "integrations.async_runner",
    "shutdown_global_runner": "integrations.async_runner",
    "track_engines": "integrations.sqlalchemy_cleanup",
    "EngineTracker": "integrations.sqlalchemy_cleanup",
    "clear_scoped_sessions": "integrations.sqlalchemy_cleanup",
    "assert_no_leaks": "testing.leak_check",
    "LeakError": "errors",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'leak_forensics.testing' has no attribute {name!r}")
    return getattr(import_module(f"leak_forensics.{module}"), name)
