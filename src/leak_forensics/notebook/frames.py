"""The tables: one DataFrame per kind of row, columns named as in the JSON report and the
history, so a query reads the same in both."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis import signatures
from ..results import TestResult, Verdict
from ..snapshot import diff as snapshot_diff
from ..snapshot.model import Snapshot
from ..snapshot.model import load as load_snapshot_file


@dataclass(frozen=True)
class TestView:
    """A test's result for display: sites, types, owner chains (folded) and resources."""

    result: TestResult

    def _repr_html_(self) -> str:
        from ..reporters.html_page import test_section

        return test_section(self.result)


@dataclass
class Report:
    """A saved JSON report: ``tests``, ``sites``, ``types``, ``owners``, ``resources``,
    ``leak_groups``; ``results`` keeps the records themselves for display."""

    path: str
    results: list[TestResult]
    notes: list[str]
    suspects: int
    tests: pd.DataFrame
    sites: pd.DataFrame
    types: pd.DataFrame
    owners: pd.DataFrame
    resources: pd.DataFrame
    leak_groups: pd.DataFrame

    def test(self, nodeid: str) -> TestView:
        """One test's record, shown in Jupyter as its part of the HTML page."""
        for result in self.results:
            if result.nodeid == nodeid:
                return TestView(result)
        raise KeyError(f"no test {nodeid!r} in {self.path}")

    def leaking(self) -> list[str]:
        return [r.nodeid for r in self.results if r.verdict == Verdict.LEAK]

    def _repr_html_(self) -> str:
        from ..reporters.html_page import render

        return render(self.results, self.notes, self.suspects, self.path)


def load_report(path: str | os.PathLike[str]) -> Report:
    """Read a report ``pytest --leak-forensics-json`` or ``leak-forensics run`` wrote."""
    from ..reporters.json_report import read

    saved = read(os.fspath(path))
    results = saved.results
    tests = pd.DataFrame([{
        "nodeid": r.nodeid, "verdict": r.verdict.value, "outcome": r.outcome,
        "bytes_per_run": r.size_per_run, "blocks_per_run": r.count_per_run, "runs": r.runs,
        "duration": r.memory.duration if r.memory else None,
        "rss_start": r.memory.rss_start if r.memory else None,
        "rss_end": r.memory.rss_end if r.memory else None,
        "process": r.memory.process if r.memory else None,
    } for r in results], columns=["nodeid", "verdict", "outcome", "bytes_per_run",
                                  "blocks_per_run", "runs", "duration", "rss_start",
                                  "rss_end", "process"])
    sites = _frame([{"nodeid": r.nodeid, "file": s.filename, "line": s.lineno,
                     "source": s.source, "bytes": s.size_diff, "blocks": s.count_diff,
                     "in_user_code": s.in_user_code} for r in results for s in r.sites],
                   ["nodeid", "file", "line", "source", "bytes", "blocks", "in_user_code"])
    types = _frame([{"nodeid": r.nodeid, "type": t.type, "count": t.count_diff}
                    for r in results for t in r.types], ["nodeid", "type", "count"])
    owners = _frame([{"nodeid": r.nodeid, "root": o.root, "path": o.path,
                      "suspect": o.suspect, "type": o.type, "site": o.site,
                      "signature": o.signature, "sampled": o.sampled, "of": o.of}
                     for r in results for o in r.owners],
                    ["nodeid", "root", "path", "suspect", "type", "site", "signature",
                     "sampled", "of"])
    resources = _frame([{"nodeid": r.nodeid, "kind": x.kind, "detail": x.detail}
                        for r in results for x in r.resources], ["nodeid", "kind", "detail"])
    groups = _frame([{"signature": g.signature, "where": g.where, "type": g.type,
                      "site": g.site, "tests": len(g.tests), "bytes_per_run": g.bytes_per_run,
                      "why": g.why} for g in signatures.leak_groups(results)],
                    ["signature", "where", "type", "site", "tests", "bytes_per_run", "why"])
    return Report(os.fspath(path), results, saved.notes, saved.suspects, tests, sites, types,
                  owners, resources, groups)


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


@dataclass
class History:
    """The runs of a history store (newest last), their tests and RSS samples."""

    where: str
    runs: pd.DataFrame
    tests: pd.DataFrame
    samples: pd.DataFrame

    def trend(self, nodeid: str) -> pd.DataFrame:
        """One test across the runs: run id, verdict, bytes kept per run."""
        rows = self.tests[self.tests["nodeid"] == nodeid]
        return rows[["run_id", "verdict", "bytes_per_run", "blocks_per_run"]] \
            .reset_index(drop=True)


def load_history(url: str | None = None) -> History:
    """Every run of the store at ``url`` (default: the one pytest writes to from here)."""
    from ..history.location import resolve_url
    from ..history.store import HistoryError, HistoryStore

    found = resolve_url(url, Path.cwd())
    if found is None:
        raise HistoryError("the history is switched off ('off'); pass a URL")
    store = HistoryStore(found, create=False)
    try:
        runs = list(reversed(store.runs()))
        tests = [row for run in runs for row in store.tests(run["id"])]
        samples = [row for run in runs for row in store.samples(run["id"])]
    finally:
        store.close()
    return History(store.where, pd.DataFrame(runs), pd.DataFrame(tests),
                   _frame(samples, ["id", "run_id", "time", "pid", "process", "rss", "nodeid"]))


def load_snapshot(path: str | os.PathLike[str], key: str = "lineno",
                  limit: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A snapshot file's allocation sites (largest first) and its census of live types."""
    snapshot = load_snapshot_file(path)
    stats = snapshot_diff.statistics(snapshot, key, limit=limit)
    sites = _sites(stats.sites, change=False)
    census = snapshot.census or {}
    types = _frame(sorted(({"type": t, "count": n} for t, n in census.items()),
                          key=lambda row: -row["count"]), ["type", "count"])
    return sites, types


def diff_snapshots(old: str | os.PathLike[str] | Snapshot, new: str | os.PathLike[str] | Snapshot,
                   key: str = "lineno", limit: int | None = None) -> pd.DataFrame:
    """Sites ranked by growth from ``old`` to ``new``, as ``leak-forensics diff`` ranks them."""
    before = old if isinstance(old, Snapshot) else load_snapshot_file(old)
    after = new if isinstance(new, Snapshot) else load_snapshot_file(new)
    return _sites(snapshot_diff.diff(before, after, key, limit=limit).sites, change=True)


def _sites(sites: Sequence[snapshot_diff.SiteDiff], change: bool) -> pd.DataFrame:
    rows = [{"file": s.frames[0][0] if s.frames else "", "line": s.frames[0][1] if s.frames else 0,
             "bytes": s.size, "blocks": s.count,
             **({"bytes_diff": s.size_diff, "blocks_diff": s.count_diff} if change else {})}
            for s in sites]
    columns = ["file", "line", "bytes", "blocks"] + (["bytes_diff", "blocks_diff"] if change
                                                      else [])
    return _frame(rows, columns)
