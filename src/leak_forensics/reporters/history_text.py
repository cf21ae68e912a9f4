"""The history's runs as a table for people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tabulate import tabulate


def runs_table(where: str, runs: Sequence[dict[str, Any]]) -> str:
    if not runs:
        return f"no runs recorded in {where} yet"
    rows = []
    for run in runs:
        outcomes = ", ".join(f"{n} {k}" for k, n in sorted(run["outcomes"].items()))
        commit = (run["git_commit"] or "")[:10] + ("+" if run["git_dirty"] else "")
        tags = " ".join(f"{k}={v}" for k, v in sorted(run["tags"].items()))
        rows.append([run["id"], run["finished"].strftime("%Y-%m-%d %H:%M:%S"),
                     run["exit_status"], outcomes, run["leaks"], commit,
                     run["git_branch"] or "", tags])
    table = tabulate(rows, headers=["run", "finished (UTC)", "exit", "tests", "leaks",
                                    "commit", "branch", "tags"])
    return f"{where}\n{table}"
