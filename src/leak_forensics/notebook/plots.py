"""Figures for a notebook or a script: each returns a matplotlib ``Figure`` (no pyplot, no
global state; Jupyter shows a Figure as it is)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import pandas as pd

from ..analysis.memory_trend import TaggedSample
from .frames import History, Report

if TYPE_CHECKING:
    from matplotlib.figure import Figure



def _bars(labels: list[str], values: list[float], title: str, xlabel: str) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 0.5 + 0.4 * max(len(labels), 1)), layout="constrained")
    axes = figure.add_subplot()
    axes.barh(labels[::-1], values[::-1], color="#c0392b")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.grid(True, axis="x", alpha=0.3)
    return figure


def plot_retained(report: Report, top: int = 10) -> Figure:
    """Bytes kept per run by each leaking test, largest first."""
    leaks = report.tests[report.tests["verdict"] == "leak"] \
        .sort_values("bytes_per_run", ascending=False).head(top)
    return _bars(list(leaks["nodeid"]), list(leaks["bytes_per_run"]),
                 "Bytes kept per run, by leaking test", "bytes per run")


def plot_sites(report: Report, top: int = 10, user_code_only: bool = True) -> Figure:
    """The allocation sites that keep most, summed over the leaking tests."""
    sites = report.sites
    if user_code_only:
        sites = sites[sites["in_user_code"]]
    by_site = sites.assign(site=sites["file"] + ":" + sites["line"].astype(str)) \
        .groupby("site")["bytes"].sum().sort_values(ascending=False).head(top)
    return _bars(list(by_site.index), list(by_site.values),
                 "Top allocation sites of the leaks", "bytes per run")


def plot_types(report: Report, top: int = 10) -> Figure:
    """The object types that pile up most, summed over the leaking tests."""
    by_type = report.types.groupby("type")["count"].sum().sort_values(ascending=False) \
        .head(top)
    return _bars(list(by_type.index), list(by_type.values), "Growing types",
                 "new objects per run")


def plot_timeline(samples: pd.DataFrame, leaking: Collection[str] = ()) -> Figure:
    """RSS over a run from its samples (``History.samples`` of one run, or the samples CSV
    read with ``pandas.read_csv``), the samples taken while a test in ``leaking`` ran
    marked: the same picture ``leak-forensics run`` draws."""
    from ..reporters.timeline_png import timeline_figure

    columns = [samples[name].tolist() for name in ("time", "pid", "process", "rss", "nodeid")]
    tagged = [TaggedSample(float(time), int(pid), str(process), int(rss),
                           str(nodeid) if isinstance(nodeid, str) and nodeid else None)
              for time, pid, process, rss, nodeid in zip(*columns, strict=True)]
    return timeline_figure(tagged, set(leaking))


def plot_trend(history: History, nodeid: str | None = None) -> Figure:
    """Without ``nodeid``: peak RSS and leaking tests per run. With it: the bytes that
    test kept per run, run after run, its verdict on each point."""
    from ..reporters.trend_png import trend_figure

    if nodeid is None:
        runs = history.runs
        return trend_figure([dict(zip(runs.columns.astype(str), row, strict=True))
                             for row in runs.itertuples(index=False)])
    from matplotlib.figure import Figure

    rows = history.trend(nodeid)
    figure = Figure(figsize=(9, 4), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(rows["run_id"], rows["bytes_per_run"], marker="o", color="#1f4e79",
              label="bytes kept per run")
    for run_id, kept, verdict in zip(rows["run_id"], rows["bytes_per_run"], rows["verdict"],
                                     strict=True):
        axes.annotate(verdict, (run_id, kept), textcoords="offset points", xytext=(0, 6),
                      ha="center", fontsize="small")
    axes.set_title(f"{nodeid} across runs")
    axes.set_xlabel("run")
    axes.set_ylabel("bytes kept per run")
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    return figure
