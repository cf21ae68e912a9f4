"""The pytest front (entry point ``leak_forensics.plugin``): options, markers, and the
choice, once at configure time, of who does the work — ``session.LeakForensics`` in a
serial run or an xdist worker, ``xdist.Controller`` in xdist's controller."""

from __future__ import annotations

import pytest

from ..errors import ConfigError
from . import options

MARKERS = (
    "leak_forensics(repeat='W:N', threshold=BYTES, fail=BOOL): per-test leak-check settings",
    "no_leak_check(reason=...): do not check this test for leaks; the reason is reported",
    "memory_intensive: a test that allocates heavily by design; leak-forensics checks it "
    "with the cheap counters only and does not trace its allocations",
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    try:
        if not options.enabled(config):
            return
        settings = options.resolve(config)
    except ConfigError as exc:
        raise pytest.UsageError(f"leak-forensics: {exc}") from None
    # The engine is imported only when the checks are on: a run without them pays nothing.
    from .xdist import Controller, is_controller
    if is_controller(config):
        session: object = Controller(config, settings)
    else:
        from .session import LeakForensics
        session = LeakForensics(config, settings)
    config.pluginmanager.register(session, "leak_forensics_session")
