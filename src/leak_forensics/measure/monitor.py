"""What the ``memory_monitor`` fixture measures: the process's memory from a test's set-up
to now, as the strategy this toolkit comes from asks for it.

RSS, not the screen's counters: it is what runs a CI machine out of memory, and it costs
nothing to read without ``--leak-forensics``. It moves in pages and arenas, so the figure
is a hint at one test and a fact over many; the leak checks answer the question "did this
test keep memory" exactly.
"""

from __future__ import annotations

import tracemalloc

from ..units import size_text
from .meter import rss


class MemoryMonitor:
    """Memory at set-up and now. ``traced_*`` are None unless tracemalloc was tracing at
    set-up (``--leak-forensics`` traces only repetitions, ``python -X tracemalloc`` all)."""

    def __init__(self) -> None:
        self.rss_before = rss()
        self.traced_before: int | None = (tracemalloc.get_traced_memory()[0]
                                          if tracemalloc.is_tracing() else None)

    def rss_now(self) -> int:
        return rss()

    @property
    def delta(self) -> int:
        """RSS now minus RSS at set-up, in bytes (negative when memory went back)."""
        return self.rss_now() - self.rss_before

    def traced_now(self) -> int | None:
        if self.traced_before is None or not tracemalloc.is_tracing():
            return None
        return tracemalloc.get_traced_memory()[0]

    @property
    def traced_delta(self) -> int | None:
        now = self.traced_now()
        return None if now is None or self.traced_before is None else now - self.traced_before

    def growth_message(self, nodeid: str, threshold: int) -> str | None:
        """One line when RSS grew past ``threshold`` since set-up, else None."""
        growth = self.delta
        if growth <= threshold:
            return None
        traced = self.traced_delta
        extra = "" if traced is None else f", traced {size_text(traced, signed=True)}"
        return (f"{nodeid}: memory grew by {size_text(growth)} (RSS{extra}), over the "
                f"memory_monitor threshold of {size_text(threshold)}")

    def __repr__(self) -> str:
        return (f"<MemoryMonitor rss_before={size_text(self.rss_before)} "
                f"delta={size_text(self.delta, signed=True)}>")
