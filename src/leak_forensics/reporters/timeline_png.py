"""The run's memory as a picture: RSS over time, one line per process, the leaking tests
and the peak marked, and each process's fitted growth with its slope in the legend.

matplotlib is an optional extra (``pytest-leak-forensics[plots]``); nothing else in the
toolkit imports it, and ``plots_available`` lets the runner say how to get the picture
without trying to draw it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from ..analysis.memory_trend import TaggedSample, theil_sen
from ..units import size_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_MIB = float(1 << 20)


def plots_available() -> bool:
    try:
        import matplotlib  # noqa: F401  # drawing imports it anyway
    except ImportError:
        return False
    return True


def timeline_figure(samples: Sequence[TaggedSample], leaking: Collection[str] = ()
                    ) -> Figure:
    """The figure, for a notebook or ``save_timeline``. Samples taken while a test in
    ``leaking`` ran are marked; so is the highest sample."""
    from matplotlib.figure import Figure  # not pyplot: no GUI backend, no global state

    # Fixed margins: a constrained layout measures every label first and doubles the
    # drawing time, which the user waits for at the end of the run.
    figure = Figure(figsize=(10, 4.8))
    figure.subplots_adjust(left=0.07, right=0.98, top=0.93, bottom=0.1)
    axes = figure.add_subplot()
    by_process: dict[str, list[TaggedSample]] = {}
    for sample in samples:
        by_process.setdefault(sample.process, []).append(sample)
    for process, points in sorted(by_process.items()):
        times = [p.time for p in points]
        mib = [p.rss / _MIB for p in points]
        (line,) = axes.plot(times, mib, label=process, linewidth=1.2)
        # Fitted over the samples taken while tests ran: start-up imports and the report
        # at the end are not the suite's growth.
        testing = [p for p in points if p.nodeid is not None]
        fit = theil_sen([p.time for p in testing], [float(p.rss) for p in testing])
        if fit is not None:
            per_minute = size_text(round(fit.slope * 60), signed=True)
            ends = [testing[0].time, testing[-1].time]
            axes.plot(ends, [(fit.intercept + fit.slope * t) / _MIB for t in ends],
                      linestyle="--", linewidth=1, color=line.get_color(),
                      label=f"{process} fit: {per_minute}/min (Theil-Sen)")
    marked = [s for s in samples if s.nodeid in leaking]
    if marked:
        axes.scatter([s.time for s in marked], [s.rss / _MIB for s in marked], marker="x",
                     color="red", zorder=3, label="a leaking test ran")
    if samples:
        peak = max(samples, key=lambda s: s.rss)
        axes.scatter([peak.time], [peak.rss / _MIB], marker="^", s=80, color="black",
                     zorder=4, label=f"peak {size_text(peak.rss)} ({peak.process})")
    axes.set_xlabel("time (s)")
    axes.set_ylabel("RSS (MiB)")
    axes.set_title("Memory over the run")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left", fontsize="small")
    return figure


def save_timeline(samples: Sequence[TaggedSample], leaking: Collection[str], path: str
                  ) -> None:
    figure = timeline_figure(samples, leaking)
    figure.savefig(path, dpi=100)
