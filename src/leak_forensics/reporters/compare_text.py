"""Two runs compared, for people (``leak-forensics compare``, the alerts after a run) and
for scripts (``--json``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tabulate import tabulate

from ..analysis.alerts import Outcome
from ..analysis.run_compare import Figure, Leak, RunComparison
from ..units import size_text

#: Per-test changes shown at most.
_TESTS_SHOWN = 10


def _size(value: float | None, signed: bool = False) -> str:
    return "-" if value is None else size_text(round(value), signed=signed)


def _figure_row(label: str, figure: Figure) -> list[str]:
    percent = figure.percent
    return [label, _size(figure.base), _size(figure.run), _size(figure.change, signed=True)
            + (f" ({percent:+.0f}%)" if percent is not None else "")]


def _run_label(run: Mapping[str, object]) -> str:
    commit = str(run.get("git_commit") or "")[:10]
    branch = run.get("git_branch")
    return f"run {run['id']}" + (f" ({commit}{' on ' + str(branch) if branch else ''})"
                                 if commit else "")


def comparison_text(comparison: RunComparison, base: Mapping[str, object],
                    run: Mapping[str, object], outcomes: Sequence[Outcome] = ()) -> str:
    out = [f"{_run_label(run)} compared with {_run_label(base)}", ""]
    out.append(tabulate([_figure_row("peak RSS", comparison.peak_rss),
                         _figure_row("RSS growth per test", comparison.growth_rate)],
                        headers=["", f"run {comparison.base_id}", f"run {comparison.run_id}",
                                 "change"]))
    if comparison.tests:
        rows = [[c.nodeid, _size(c.base), _size(c.run), _size(c.change, signed=True)]
                for c in comparison.tests[:_TESTS_SHOWN]]
        more = len(comparison.tests) - _TESTS_SHOWN
        out += ["", "memory kept per run, by test:",
                tabulate(rows, headers=["test", f"run {comparison.base_id}",
                                        f"run {comparison.run_id}", "change"])]
        if more > 0:
            out.append(f"... and {more} more")
    out += _leaks("new leaks", comparison.new) + _leaks("gone", comparison.gone)
    if not comparison.new and not comparison.gone:
        out += ["", "no leak is new or gone"]
    if outcomes:
        out.append("")
        for outcome in outcomes:
            status = {True: "ALERT", False: "ok", None: "not checked"}[outcome.holds]
            out.append(f"{status}: {outcome.rule.text}: {outcome.message}")
    return "\n".join(out)


def _leaks(title: str, leaks: Sequence[Leak]) -> list[str]:
    if not leaks:
        return []
    return ["", f"{title}:", *(f"  {leak.describe()}" for leak in leaks)]


def comparison_json(comparison: RunComparison, outcomes: Sequence[Outcome] = ()
                    ) -> dict[str, object]:
    def figure(f: Figure) -> dict[str, object]:
        return {"base": f.base, "run": f.run, "change": f.change, "percent": f.percent}

    def leak(item: Leak) -> dict[str, object]:
        return {"key": item.key, "tests": list(item.tests), "bytes_per_run": item.bytes_per_run,
                "sites": list(item.sites), "types": list(item.types)}

    return {
        "base": comparison.base_id, "run": comparison.run_id,
        "peak_rss": figure(comparison.peak_rss),
        "growth_rate": figure(comparison.growth_rate),
        "tests": [{"nodeid": c.nodeid, "base": c.base, "run": c.run, "change": c.change}
                  for c in comparison.tests],
        "new_leaks": [leak(item) for item in comparison.new],
        "gone_leaks": [leak(item) for item in comparison.gone],
        "alerts": [{"rule": o.rule.text, "holds": o.holds, "message": o.message}
                   for o in outcomes],
    }
