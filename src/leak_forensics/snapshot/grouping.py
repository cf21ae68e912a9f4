"""How a snapshot's blocks can be grouped, as ``tracemalloc.Snapshot.statistics`` keys.

Apart from the diff so that the command line can offer the choices without importing
the diff (its start-up is measured: ``benchmarks/startup.py``)."""

from __future__ import annotations

KEYS = ("lineno", "filename", "traceback")
