"""Which store a run writes to, decided without importing SQLAlchemy (every run with the
checks asks, and most never need more than the answer)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: Where a project's history lives unless told otherwise, under its rootdir.
DEFAULT_PATH = Path(".leak-forensics") / "history.db"
ENVIRONMENT = "LEAK_FORENSICS_HISTORY"
OFF = ("off", "none", "false", "0")


def default_url(rootdir: Path) -> str:
    return f"sqlite:///{rootdir / DEFAULT_PATH}"


def resolve_url(setting: str | None, rootdir: Path,
                environ: Mapping[str, str] = os.environ) -> str | None:
    """The option or ini value, else the environment, else the project's file; None
    when switched off (``off``)."""
    for value in (setting, environ.get(ENVIRONMENT)):
        if value is not None and value.strip():
            value = value.strip()
            return None if value.lower() in OFF else value
    return default_url(rootdir)
