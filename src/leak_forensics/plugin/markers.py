"""The markers, registered by an entry point of their own (``leak_forensics_markers``).

A suite that uses ``@pytest.mark.leak_forensics`` must still collect under
``--strict-markers`` when the plugin is switched off with ``-p no:leak_forensics``: that
blocks the plugin's entry point by name, not this one, which does nothing else.
"""

from __future__ import annotations

import pytest

MARKERS = (
    "leak_forensics(repeat='W:N', threshold=SIZE, fail=BOOL): per-test leak-check settings",
    "no_leak_check(reason=...): do not check this test for leaks; the reason is reported",
    "memory_intensive: a test that allocates heavily by design; leak-forensics checks it "
    "with the cheap counters only and does not trace its allocations",
    "memory_monitor(threshold=SIZE): the RSS growth above which the memory_monitor fixture "
    "warns in this test (default: ini leak_forensics_monitor_threshold, 10 MB)",
    "isolated(timeout=None): run this test in a fresh interpreter; its memory never "
    "touches this process's",
)


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
