"""Type aliases shared across the pipeline, so each stage names a stack the same way."""

from __future__ import annotations

from typing import Any

#: One frame of a stack: ``(filename, lineno)``, as tracemalloc's raw traces hold it.
Frame = tuple[str, int]
#: A stack, most recent frame first.
Frames = tuple[Frame, ...]
#: One block of ``tracemalloc``'s private trace list: ``(domain, size, frames,
#: total_nframe)``, or ``(domain, size, frames)`` in snapshots pickled by Python 3.8.
RawTrace = tuple[Any, ...]
