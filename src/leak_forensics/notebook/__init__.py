"""Reports, history and snapshots as pandas DataFrames and matplotlib figures, for a
notebook or a script (``pip install 'pytest-leak-forensics[notebook]'``).

A front like the plugin and the command line: it reads with the same readers, draws with
the same reporters, and holds no rule of its own. pandas and matplotlib are imported only
here; the plugin and the command line never import this package.
"""

from __future__ import annotations

from .frames import (
    History,
    Report,
    diff_snapshots,
    load_history,
    load_report,
    load_snapshot,
)
from .plots import plot_retained, plot_sites, plot_timeline, plot_trend, plot_types

__all__ = ["History", "Report", "diff_snapshots", "load_history", "load_report",
           "load_snapshot", "plot_retained", "plot_sites", "plot_timeline", "plot_trend",
           "plot_types"]
