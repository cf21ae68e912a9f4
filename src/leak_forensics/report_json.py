"""The JSON report CI reads (see ``docs/report.md``), written so a crash never half-writes it."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from collections.abc import Sequence

from . import __version__
from .results import TestResult
from .settings import Settings

FORMAT_VERSION = 1


def document(results: Sequence[TestResult], settings: Settings,
             notes: Sequence[str] = ()) -> dict[str, object]:
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
        },
        "notes": list(notes),
        "tests": [r.to_json() for r in results],
    }


def write(path: str, results: Sequence[TestResult], settings: Settings,
          notes: Sequence[str] = ()) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    text = json.dumps(document(results, settings, notes), indent=2)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".leak-report-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
