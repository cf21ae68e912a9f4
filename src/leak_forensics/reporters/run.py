"""What every reporter of a test run is given, and where its text goes.

Each reporter is a small class that turns a ``Run`` into text; ``render_report`` owns the
output: ``-`` is standard output, anything else a file written atomically, so a reader
never sees half a report.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..files import write_atomically
from ..results import TestResult
from ..settings import Settings


@dataclass(frozen=True, slots=True)
class Run:
    """What every reporter is given: the run's results and what it noted."""

    results: Sequence[TestResult]
    #: Internal errors and cleanup-step failures, for the report's notes.
    notes: Sequence[str] = ()
    #: How many tests were re-run as suspects.
    suspects: int = 0
    settings: Settings = field(default_factory=Settings)
    #: Where the run was recorded and what a comparison found: {"run", "store",
    #: "compared_with", "alerts"}; None when not recorded.
    history: Mapping[str, object] | None = None


class Reporter(Protocol):
    def render(self, run: Run) -> str:
        """The whole report as text."""
        ...


def render_report(reporter: Reporter, run: Run, path: str) -> None:
    """Write ``reporter``'s report to ``path`` (``-``: standard output)."""
    text = reporter.render(run)
    if path == "-":
        sys.stdout.write(text)
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomically(path, text.encode("utf-8"))
