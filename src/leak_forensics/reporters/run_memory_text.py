"""The memory-aware runner's report: how memory behaved over the run, in tables, and its
samples as CSV that any tool reads."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence

from tabulate import tabulate

from ..analysis.memory_trend import RunMemory, TaggedSample
from ..errors import BadInput
from ..results import TestResult, Verdict
from ..units import size_text

SAMPLE_COLUMNS = ("time", "rss", "pid", "process", "nodeid")


def _rate(value: float | None) -> str:
    return "-" if value is None else size_text(round(value), signed=True)


def runner_text(results: Sequence[TestResult], memory: RunMemory | None, seconds: float,
                samples: int, files: Sequence[tuple[str, str]]) -> str:
    """``files``: (what, where) lines for the end of the report."""
    outcomes = Counter(result.outcome or str(result.verdict) for result in results)
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
    out = [f"tests run: {len(results)} ({counts}) in {seconds:.1f} s; {samples} RSS samples"]
    if memory is None:
        out.append("no test recorded its memory")
    else:
        out += ["", tabulate(
            [[p.process, p.tests, size_text(p.rss_start), size_text(p.rss_peak),
              size_text(p.rss_end), _rate(p.per_test), _rate(p.per_minute)]
             for p in memory.processes],
            headers=["process", "tests", "RSS at first test", "peak", "after last", "growth/test",
                     "growth/min"])]
        out += ["", f"growth rate: {_rate(memory.per_test)} per test, {_rate(memory.per_minute)}"
                    " per minute (Theil-Sen fit of RSS after each test: the median slope "
                    "between every two tests, so one big fixture or a page given back does "
                    "not move it)"]
        if memory.grew_most:
            out += ["", "RSS grew most during:", tabulate(
                [[nodeid, size_text(growth, signed=True)] for nodeid, growth in memory.grew_most],
                headers=["test", "RSS growth"])]
    leaking = [r for r in results if r.verdict == Verdict.LEAK]
    if leaking:
        out += ["", f"leaks found: {len(leaking)}", tabulate(
            [[r.nodeid, size_text(r.size_per_run),
              f"{r.sites[0].filename}:{r.sites[0].lineno}" if r.sites else ""]
             for r in leaking], headers=["test", "kept per run", "first site"])]
    else:
        out += ["", "leaks found: none"]
    if files:
        out += [""] + [f"{what}: {where}" for what, where in files]
    return "\n".join(out)


def samples_csv(samples: Sequence[TaggedSample]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SAMPLE_COLUMNS)
    for sample in samples:
        writer.writerow([f"{sample.time:.3f}", sample.rss, sample.pid, sample.process,
                         sample.nodeid or ""])
    return buffer.getvalue()


def read_samples_csv(path: str) -> list[TaggedSample]:
    """Samples written by ``samples_csv`` (``leak-forensics run --samples``); any defect
    is a one-line ``BadInput``."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BadInput(f"{path}: not a samples CSV ({exc})") from None
    if not rows or tuple(rows[0]) != SAMPLE_COLUMNS:
        raise BadInput(f"{path}: not a samples CSV (the first line must be "
                       f"{','.join(SAMPLE_COLUMNS)})")
    samples = []
    for number, row in enumerate(rows[1:], start=2):
        try:
            time, rss, pid, process, nodeid = row
            samples.append(TaggedSample(float(time), int(pid), process, int(rss),
                                        nodeid or None))
        except ValueError:
            raise BadInput(f"{path}:{number}: not a sample (time,rss,pid,process,nodeid)"
                           ) from None
    return samples
