"""The ``memory_monitor`` fixture and its threshold, on whether or not the leak checks are.

The threshold is read once: the ini value when pytest configures (a bad one is a usage
error before anything runs), a marker's when the tests are collected (in a worker of
pytest-xdist, where a usage error would be an INTERNALERROR, when the test sets up: the
test errors with the one line instead).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ..errors import ConfigError, MemoryGrowthWarning
from ..settings import parse_size_setting

if TYPE_CHECKING:
    from ..measure.monitor import MemoryMonitor

INI = "leak_forensics_monitor_threshold"
DEFAULT_THRESHOLD = "10 MB"
MARKER = "memory_monitor"
_THRESHOLD_KEY = pytest.StashKey[int]()


def add_ini(parser: pytest.Parser) -> None:
    parser.addini(INI, default=DEFAULT_THRESHOLD,
                  help="RSS growth during a test that uses the memory_monitor fixture above "
                       f"which it warns (MemoryGrowthWarning); default {DEFAULT_THRESHOLD}")


def configure(config: pytest.Config) -> None:
    """Read the ini threshold; raises ConfigError when it is not a size."""
    where = config.inipath.name if config.inipath is not None else "the ini file"
    config.stash[_THRESHOLD_KEY] = parse_size_setting(f"{INI} in {where}", config.getini(INI),
                                                      minimum=0)


def marker_threshold(marker: pytest.Mark) -> int:
    if marker.args or set(marker.kwargs) - {"threshold"}:
        raise ConfigError("memory_monitor marker takes one keyword argument, threshold "
                          "(e.g. threshold=\"50 MB\")")
    return parse_size_setting("memory_monitor(threshold=)", marker.kwargs.get("threshold"),
                              minimum=0)


def bad_markers(items: list[pytest.Item]) -> list[str]:
    problems = []
    for item in items:
        marker = item.get_closest_marker(MARKER)
        if marker is None:
            continue
        try:
            marker_threshold(marker)
        except ConfigError as exc:
            problems.append(f"leak-forensics: {item.nodeid}: {exc}")
    return problems


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems = bad_markers(items)
    if problems and not hasattr(config, "workerinput"):
        raise pytest.UsageError(*problems)


@pytest.fixture
def memory_monitor(request: pytest.FixtureRequest) -> Iterator[MemoryMonitor]:
    """The process's memory since this test set up: ``rss_before``, ``rss_now()``,
    ``delta`` (and ``traced_*`` when tracemalloc traces). Warns with
    ``leak_forensics.MemoryGrowthWarning`` at tear-down when RSS grew past the threshold:
    ``@pytest.mark.memory_monitor(threshold="50 MB")``, else the ini value
    ``leak_forensics_monitor_threshold`` (default 10 MB)."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        threshold = request.config.stash[_THRESHOLD_KEY]
    else:
        problem = bad_markers([request.node])
        if problem:
            pytest.fail(problem[0], pytrace=False)
        threshold = marker_threshold(marker)
    from ..measure.monitor import MemoryMonitor  # psutil, only for the tests that ask

    monitor = MemoryMonitor()
    yield monitor
    message = monitor.growth_message(request.node.nodeid, threshold)
    if message is not None:
        # Shown at the test, not at this line: the test is where to look.
        path, lineno, _ = request.node.reportinfo()
        warnings.warn_explicit(MemoryGrowthWarning(message), MemoryGrowthWarning,
                               str(path), (lineno or 0) + 1)
