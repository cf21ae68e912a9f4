"""The JSON report CI reads (see ``docs/report.md`` and the report contract): written at
the end of a session, read back by ``leak-forensics report``."""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from .. import __version__
from ..analysis import signatures
from ..analysis.memory_trend import run_memory
from ..errors import ReportError
from ..results import TestResult, Verdict
from .run import Run

# 1: the first format.
FORMAT_VERSION = 1


def document(run: Run) -> dict[str, object]:
    results, settings = run.results, run.settings
    return {
        "format": "leak-forensics-report",
        "format_version": FORMAT_VERSION,
        "tool": f"pytest-leak-forensics {__version__}",
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "settings": {
            "repeat": str(settings.repeat),
            "threshold": settings.threshold,
            "fail": settings.fail,
            "frames": settings.frames,
            "budget": settings.budget,
        },
        "summary": {
            "tests": len(results),
            # Every verdict, zero or not, so a reader never wonders where a test went.
            **{v.value.replace("-", "_"): sum(r.verdict == v for r in results)
               for v in Verdict},
            "suspects": run.suspects,
        },
        "memory": _memory(results),
        "history": dict(run.history) if run.history is not None else None,
        "notes": list(run.notes),
        "tests": [r.to_json() for r in results],
        "leak_groups": [g.to_json() for g in signatures.leak_groups(results)],
    }


def _memory(results: Sequence[TestResult]) -> dict[str, object] | None:
    memory = run_memory(results)
    if memory is None:
        return None
    return {"peak_rss": memory.peak, "growth_per_test": memory.per_test,
            "growth_per_minute": memory.per_minute, "fit": "theil-sen",
            "processes": [vars(p) for p in memory.processes],
            "grew_most": [{"nodeid": n, "rss_growth": g} for n, g in memory.grew_most]}


class JsonReporter:
    def render(self, run: Run) -> str:
        return json.dumps(document(run), indent=2) + "\n"


@dataclass(frozen=True, slots=True)
class SavedReport:
    results: list[TestResult]
    notes: list[str]
    suspects: int
    #: Where the run was recorded ("run", "store", "compared_with", "alerts"), if it was.
    history: dict[str, object] | None = None


def read(path: str) -> SavedReport:
    """Load a report written by ``JsonReporter``; any defect is a ``ReportError``."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: not a JSON file ({exc})") from None
    except RecursionError:
        raise ReportError(f"{path}: JSON nested too deeply to be a report") from None
    if not isinstance(data, dict) or data.get("format") != "leak-forensics-report":
        raise ReportError(f"{path}: not a leak-forensics report (no 'format' key saying so)")
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ReportError(f"{path}: report format version {version!r} is newer than this "
                          f"tool reads ({FORMAT_VERSION}); upgrade pytest-leak-forensics")
    tests, notes = data.get("tests"), data.get("notes", [])
    if not isinstance(tests, list) or not isinstance(notes, list):
        raise ReportError(f"{path}: 'tests' and 'notes' must be lists")
    try:
        results = [TestResult.from_json(entry) for entry in tests]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReportError(f"{path}: malformed test entry ({type(exc).__name__}: {exc})"
                          ) from None
    summary = data.get("summary")
    suspects = summary.get("suspects") if isinstance(summary, dict) else None
    if not isinstance(suspects, int):
        suspects = sum(r.runs > 1 or r.verdict == Verdict.UNCONFIRMED for r in results)
    history = data.get("history")
    return SavedReport(results, [str(n) for n in notes], suspects,
                       history if isinstance(history, dict) else None)
