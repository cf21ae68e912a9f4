"""Type aliases shared across the pipeline, so each stage names a stack the same way."""

from __future__ import annotations

#: One frame of a stack: ``(filename, lineno)``, as tracemalloc's raw traces hold it.
Frame = tuple[str, int]
#: A stack, most recent frame first.
Frames = tuple[Frame, ...]
