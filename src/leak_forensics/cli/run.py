"""``leak-forensics run``: pytest with the leak checks, and memory over the whole run.

pytest runs in a child process, as the user would run it; this process samples the RSS
of that child and of every process below it (xdist workers) from outside, so sampling
never shows in a test's measurement. pytest records the run in the history and checks
the alerts itself; the runner adds its samples to that run, draws the timeline and
prints the report. Its exit status is pytest's (6 when an alert held).
"""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import BadInput
from .common import EXIT_BAD_INPUT

TYPE_CHECKING = False  # subprocess, pathlib and typing load only when run runs
if TYPE_CHECKING:
    import subprocess

    from ..analysis.memory_trend import TaggedSample
    from ..measure.sampler import Sample
    from ..reporters.json_report import SavedReport

#: RSS is sampled twice a second by default, as the strategy this toolkit comes from
#: asks: a test suite's memory moves over seconds, and per-test figures come from the
#: tests themselves, not from samples. Peers that profile single functions sample every
#: 0.1 s; --sample-interval 0.1 does that here.
DEFAULT_INTERVAL = 0.5
_OUT = ".leak-forensics"


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.01 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not an interval in seconds "
                                         "(0.01 to 3600)")
    return value


def _workers(text: str) -> str:
    if text != "auto" and not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers (or auto)")
    return text


class RunCommand:
    """Run pytest with --leak-forensics and watch memory over the whole run: RSS of every
    process that runs tests, sampled from outside, with the test each was running; the
    growth rate (a Theil-Sen fit), the tests during which RSS grew most, the leaks found, a
    timeline picture and the samples as CSV. The run is recorded in the history. Arguments
    after -- go to pytest unchanged. Exit status: pytest's own (6: an alert held)."""

    name = "run"
    help = "run pytest with the leak checks and report memory over the whole run"

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("paths", nargs="*", metavar="PATH",
                            help="test files or directories (default: pytest's testpaths)")
        parser.add_argument("-m", dest="markexpr", metavar="MARKEXPR",
                            help="only tests matching this mark expression (pytest -m)")
        parser.add_argument("-k", dest="keyword", metavar="EXPR",
                            help="only tests matching this expression (pytest -k)")
        parser.add_argument("-n", dest="workers", type=_workers, metavar="N",
                            help="run in N processes (pytest-xdist)")
        parser.add_argument("--gc-debug", action="store_true",
                            help="report what each test left for the cyclic garbage "
                                 "collector (--leak-forensics-gc-debug)")
        parser.add_argument("--sample-interval", type=_interval, default=DEFAULT_INTERVAL,
                            metavar="SECONDS",
                            help=f"seconds between RSS samples (default {DEFAULT_INTERVAL})")
        parser.add_argument("--history", metavar="URL",
                            help="record the run here: an SQLAlchemy URL or 'off' (default: "
                                 "$LEAK_FORENSICS_HISTORY, else .leak-forensics/history.db "
                                 "here)")
        parser.add_argument("--timeline", metavar="PNG", default=os.path.join(_OUT, "timeline.png"),
                            help="where to draw RSS over time (default: %(default)s; needs "
                                 "the [plots] extra)")
        parser.add_argument("--samples", metavar="CSV", default=os.path.join(_OUT, "samples.csv"),
                            help="where to write the samples: time (s), rss (bytes), pid, "
                                 "process, nodeid (default: %(default)s)")
        parser.add_argument("--json", metavar="PATH", default=os.path.join(_OUT, "report.json"),
                            help="where pytest writes the JSON leak report (default: "
                                 "%(default)s)")
        parser.add_argument("--html", metavar="PATH",
                            help="also write the report as a self-contained HTML page, with "
                                 "the timeline and the trend across recorded runs")

    def run(self, args: argparse.Namespace) -> int:
        import importlib.util
        import subprocess
        import threading
        import time
        from pathlib import Path

        from ..history.location import resolve_url
        from ..measure.sampler import TreeSampler

        if args.workers is not None and importlib.util.find_spec("xdist") is None:
            raise BadInput("-n needs pytest-xdist: pip install pytest-xdist")
        history = resolve_url(args.history, Path.cwd())
        command = pytest_command(args, history or "off", list(args.pytest_args))
        started = time.time()
        child = subprocess.Popen(command)
        sampler = TreeSampler(child.pid, args.sample_interval)
        sampler.start()
        # What the report needs is imported while the tests run, on a core they leave
        # idle, instead of after them, when the user waits (matplotlib alone: ~0.4 s).
        warm = threading.Thread(target=_import_report_modules, daemon=True)
        warm.start()
        try:
            status = _wait(child)
        finally:
            samples = sampler.stop()
        warm.join()
        return _report(args, history, samples, started, time.time() - started, status)


def pytest_command(args: argparse.Namespace, history: str, extra: list[str]) -> list[str]:
    """The child's command line: the runner's own options first, then the user's."""
    command = [sys.executable, "-m", "pytest", "--leak-forensics",
               f"--leak-forensics-json={args.json}", f"--leak-forensics-history={history}"]
    if args.markexpr is not None:
        command += ["-m", args.markexpr]
    if args.keyword is not None:
        command += ["-k", args.keyword]
    if args.workers is not None:
        command += ["-n", args.workers]
    if args.gc_debug:
        command.append("--leak-forensics-gc-debug")
    return command + extra + list(args.paths)


def _import_report_modules() -> None:
    try:
        from ..analysis import memory_trend  # noqa: F401
        from ..history import store  # noqa: F401  # SQLAlchemy
        from ..reporters import json_report, run_memory_text  # noqa: F401  # tabulate
        from ..reporters.timeline_png import plots_available

        if plots_available():
            import matplotlib.figure  # noqa: F401
            from matplotlib.backends import backend_agg  # noqa: F401  # savefig's PNG writer
    except Exception:  # noqa: BLE001, S110  # the report imports them again and says why
        return


def _wait(child: subprocess.Popen[bytes]) -> int:
    """pytest's exit status. Ctrl-C reaches pytest too (one process group): it stops the
    run and reports what finished, so the runner waits for that instead of leaving."""
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


def _report(args: argparse.Namespace, history: str | None, samples: list[Sample],
            started: float, seconds: float, status: int) -> int:
    from pathlib import Path

    from ..analysis.memory_trend import run_memory, tag_samples
    from ..files import write_atomically
    from ..reporters import json_report
    from ..reporters.run_memory_text import runner_text, samples_csv
    from ..reporters.timeline_png import plots_available, save_timeline
    from ..results import Verdict

    try:
        saved = json_report.read(args.json)
    except BadInput as exc:
        print(f"leak-forensics: pytest wrote no report (exit status {status}): {exc}",
              file=sys.stderr)
        return status or EXIT_BAD_INPUT
    tagged = tag_samples(samples, saved.results, started)
    files = []
    Path(args.samples).parent.mkdir(parents=True, exist_ok=True)
    write_atomically(args.samples, samples_csv(tagged).encode())
    files.append(("samples (CSV)", args.samples))
    leaking = {r.nodeid for r in saved.results if r.verdict == Verdict.LEAK}
    if plots_available():
        Path(args.timeline).parent.mkdir(parents=True, exist_ok=True)
        save_timeline(tagged, leaking, args.timeline)
        files.append(("timeline", args.timeline))
    else:
        files.append(("timeline", "not drawn: pip install 'pytest-leak-forensics[plots]' "
                                  "for the picture"))
    files.append(("leak report (JSON)", args.json))
    recorded = saved.history.get("run") if saved.history else None
    if history is not None and isinstance(recorded, int):
        files.append(("history", _add_samples(history, recorded, tagged)))
    if args.html:
        files.append(("page (HTML)", _write_page(args.html, saved, tagged, history)))
    print()
    print(runner_text(saved.results, run_memory(saved.results), seconds, len(samples),
                      files))
    return status


def _add_samples(url: str, run_id: int, samples: list[TaggedSample]) -> str:
    from ..history.store import HistoryStore

    try:
        store = HistoryStore(url)
        try:
            store.add_samples(run_id, samples)
        finally:
            store.close()
    except BadInput as exc:
        return f"run {run_id}, without its samples ({exc})"
    return f"run {run_id} in {store.where}, with its samples"


def _write_page(path: str, saved: SavedReport, samples: list[TaggedSample],
                history: str | None) -> str:
    from pathlib import Path

    from ..files import write_atomically
    from ..reporters.html_page import page
    from .common import recorded_runs

    runs = None
    if history is not None:
        try:
            runs = recorded_runs(history)
        except BadInput:  # the run was not recorded: the page goes without the trend
            runs = None
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, page(saved.results, saved.notes, saved.suspects, "leak-forensics run",
                                samples, runs).encode("utf-8"))
    return path
