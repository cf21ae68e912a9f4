"""Memory across runs, from the history: each run's peak RSS, and how many tests leaked,
so a slow climb over weeks of CI shows as a line, not as a number in one run.

matplotlib is the optional ``plots`` extra, as for the timeline."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_MIB = float(1 << 20)


def trend_figure(runs: Sequence[Mapping[str, Any]]) -> Figure:
    """``runs`` as ``HistoryStore.runs`` gives them (any order): peak RSS per run on the
    left axis, leaking tests per run as bars on the right."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    ordered = sorted(runs, key=lambda run: run["id"])
    figure = Figure(figsize=(10, 4))
    figure.subplots_adjust(left=0.07, right=0.93, top=0.9, bottom=0.12)
    axes = figure.add_subplot()
    ids = [run["id"] for run in ordered]
    leaks = axes.twinx()
    leaks.bar(ids, [run.get("leaks") or 0 for run in ordered], color="#c0392b", alpha=0.25,
              width=0.6, label="leaking tests")
    leaks.set_ylabel("leaking tests")
    leaks.set_ylim(bottom=0)
    leaks.yaxis.set_major_locator(MaxNLocator(integer=True))
    peaks = [(run["id"], run["peak_rss"] / _MIB) for run in ordered
             if run.get("peak_rss") is not None]
    axes.plot([i for i, _ in peaks], [p for _, p in peaks], marker="o", color="#1f4e79",
              label="peak RSS")
    axes.set_zorder(leaks.get_zorder() + 1)
    axes.patch.set_visible(False)
    axes.set_ylim(bottom=0)  # a climb of a few KiB must not look like a cliff
    axes.set_xlabel("run")
    axes.set_ylabel("peak RSS (MiB)")
    axes.set_title("Memory across runs")
    axes.grid(True, alpha=0.3)
    if ids:
        axes.set_xticks(ids)
    handles = axes.get_legend_handles_labels()
    more = leaks.get_legend_handles_labels()
    axes.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left",
                fontsize="small")
    return figure


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
