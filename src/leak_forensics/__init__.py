"""pytest-leak-forensics: find the tests that leak memory and name the code responsible.

Importing the package stays cheap (the command line starts on every call); the names
below load their modules on first use.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "register_cleanup": "cleanup.sweep", "unregister_cleanup": "cleanup.sweep",
    "Snapshot": "snapshot.model", "take_snapshot": "snapshot.model",
    "load_snapshot": "snapshot.model", "SnapshotError": "errors",
    "diff_snapshots": "snapshot.diff", "snapshot_statistics": "snapshot.diff",
    "LeakForensicsWarning": "errors", "MemoryGrowthWarning": "errors", "LeakError": "errors",
    "MemoryMonitor": "measure.monitor",
}
_RENAMED = {"load_snapshot": "load", "diff_snapshots": "diff",
            "snapshot_statistics": "statistics"}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'leak_forensics' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), _RENAMED.get(name, name))
