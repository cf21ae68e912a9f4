"""Hooks a project implements in its ``conftest.py`` to extend leak-forensics."""

from __future__ import annotations

import pytest


def pytest_leak_forensics_cleanup(config: pytest.Config) -> None:
    """Clear the project's own caches before each leak measurement.

    Called in every cleanup pass, before the built-in steps, so memoised state that is
    not a leak (a warm cache, a lazily built registry) does not count as growth.
    """
