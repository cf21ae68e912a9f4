"""The JSON report CI reads (see ``docs/report.md``), written so a crash never half-writes it."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from . import __version__, signatures
from .errors import BadInput
from .files import write_atomically
from .results import TestResult
from .settings import Settings

FORMAT_VERSION = 1


def document(results: Sequence[TestResult], settings: Settings,
             notes: Sequence[str] = (), suspects: int = 0) -> dict[str, object]:
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
            "leak": sum(r.verdict == "leak" for r in results),
            "known_leak": sum(r.verdict == "known-leak" for r in results),
            "suspects": suspects,
        },
        "notes": list(notes),
        "tests": [r.to_json() for r in results],
        "leak_groups": signatures.leak_groups(results),
    }


def write(path: str, results: Sequence[TestResult], settings: Settings,
          notes: Sequence[str] = (), suspects: int = 0) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    text = json.dumps(document(results, settings, notes, suspects), indent=2) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomically(path, text.encode("utf-8"))


class ReportError(BadInput):
    """A file is not a readable leak report; the message is one line for the user."""


@dataclass
class SavedReport:
    results: list[TestResult]
    notes: list[str]
    suspects: int


def read(path: str) -> SavedReport:
    """Load a report written by ``write``; any defect is a ``ReportError``."""
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
        suspects = sum(r.runs > 1 or r.verdict == "unconfirmed" for r in results)
    return SavedReport(results, [str(n) for n in notes], suspects)
