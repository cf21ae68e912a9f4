"""The pytest front (entry point ``leak_forensics.plugin``): options, and the
choice, once at configure time, of who does the work — ``session.LeakForensics`` in a
serial run or an xdist worker, ``xdist.Controller`` in xdist's controller."""

from __future__ import annotations

import sys

import pytest

from ..errors import BadInput
from ..files import check_writable
from . import fixtures, isolated, monitor, options
from .fixtures import comprehensive_test_cleanup, sqlite_session, tracked_engines
from .monitor import memory_monitor, pytest_collection_modifyitems

__all__ = ["comprehensive_test_cleanup", "memory_monitor", "pytest_collection_modifyitems",
           "sqlite_session", "tracked_engines"]


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)
    monitor.add_ini(parser)
    fixtures.add_ini(parser)


def pytest_configure(config: pytest.Config) -> None:
    try:
        monitor.configure(config)
        fixtures.configure(config)
        isolated.configure(config)
        if not options.enabled(config):
            return
        settings = options.resolve(config)
        if settings.json_path is not None and not hasattr(config, "workerinput"):
            check_writable(settings.json_path, "--leak-forensics-json")
    except BadInput as exc:
        raise pytest.UsageError(f"leak-forensics: {exc}") from None
    # The engine is imported only when the checks are on: a run without them pays nothing.
    from .xdist import Controller, is_controller
    if is_controller(config):
        session: object = Controller(config, settings)
    else:
        from .session import LeakForensics
        session = LeakForensics(config, settings)
    config.pluginmanager.register(session, "leak_forensics_session")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process-wide ``AsyncRunner`` lives as long as the session; it ends with it."""
    runners = sys.modules.get("leak_forensics.integrations.async_runner")
    if runners is not None:
        runners.shutdown_global_runner()
