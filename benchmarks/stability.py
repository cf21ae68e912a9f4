"""Do verdicts depend on load or on pytest-xdist? Counts of changes against one baseline.

Each suite runs ``--rounds`` times in each of four conditions: serial and ``-n 2``, on an
idle machine and with every core kept busy by generated load (one busy-loop process per
core, each stopping on its own after ``--load-seconds`` at most, and stopped as soon as
the runs are done). Each run is compared with the first idle serial run: what counts is
each test's verdict, its allocation sites of 64 B a run or more (smaller ones are left
out, as free-list reuse moves them between two serial runs already; their order is left
out too, as two sites within a few bytes of each other trade places) and its growing
types. Every change is printed below the table, with the test's repetitions.

Suites: the bundled example (``examples/demo``) and the end-to-end suites of
``tests/e2e`` that are each one test file (linecache, encodings, inspect, a session in a
module global, a slow leak, 77 tests with a one-block leak). The target is 0 changes
everywhere. Usage:
``python benchmarks/stability.py [--rounds N] [--load-seconds S] [--suite demo|e2e]``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
E2E = ROOT / "tests" / "e2e"
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--leak-forensics"]
#: Per test node id: verdict, sites of 64 B a run or more, growing types.
Essentials = dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]
BUSY = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, E2E / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def end_to_end_suite(into: Path) -> Path:
    """The one-file suites of the end-to-end tests, each as a test file of one suite."""
    kept = _module("test_cleanup_keeps_leaks")
    policy = _module("test_policy")
    parallel = _module("test_parallel_and_unlucky_runs")
    files = {
        "test_linecache": kept.LINECACHE_LEAK,
        "test_linecache_clean": kept.LINECACHE_CLEAN,
        "test_session_global": kept.SESSION_IN_A_GLOBAL,
        "test_session_per_test": kept.SESSION_PER_TEST,
        "test_charsets": kept.UNKNOWN_CHARSETS,
        "test_generated_modules": kept.GENERATED_MODULES,
        "test_slow_leak": policy.SLOW_LEAK,
        "test_many": parallel._many_tests_one_leaking_a_block(),
    }
    into.mkdir()
    for name, source in files.items():
        (into / f"{name}.py").write_text(source.lstrip("\n"))
    return into


def essentials(report: dict[str, Any]) -> Essentials:
    found: Essentials = {}
    for test in report["tests"]:
        sites = sorted(f"{s['filename']}:{s['lineno']}" for s in test["sites"]
                       if s["size_diff"] >= 64)
        found[test["nodeid"]] = (test["verdict"], tuple(sites),
                                 tuple(sorted(t["type"] for t in test["types"])))
    return found


#: Per test node id: its repetitions' block counts, printed with a change.
Deltas = dict[str, list[int]]


def run_once(suite: Path, workers: bool) -> tuple[Essentials, float, Deltas]:
    report = suite / "leak-report.json"
    report.unlink(missing_ok=True)
    args = [*PYTEST, f"--leak-forensics-json={report}"]
    args += ["-n", "2"] if workers else ["-p", "no:xdist"]
    started = time.perf_counter()
    subprocess.run(args, cwd=suite, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    elapsed = time.perf_counter() - started
    if not report.exists():
        raise SystemExit(f"stability: no report from {' '.join(args)} in {suite}")
    data = json.loads(report.read_text())
    deltas = {t["nodeid"]: t["deltas"].get("blocks", []) for t in data["tests"]}
    return essentials(data), elapsed, deltas


@contextlib.contextmanager
def load(seconds: float) -> Iterator[None]:
    """One busy process per core, each of which stops by itself after ``seconds``."""
    busy = [subprocess.Popen([sys.executable, "-c", BUSY.format(seconds=seconds)])
            for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for process in busy:
            process.kill()
            process.wait()


def changes(baseline: Essentials, other: Essentials) -> tuple[int, int, int]:
    verdicts = sum(baseline[n][0] != other.get(n, ("missing",))[0] for n in baseline)
    sites = sum(n in other and baseline[n][1] != other[n][1] for n in baseline)
    types = sum(n in other and baseline[n][2] != other[n][2] for n in baseline)
    return verdicts, sites, types


def changed_tests(baseline: Essentials, other: Essentials, deltas: Deltas) -> list[str]:
    return [f"  {name}: {baseline[name]} -> {other.get(name)}, blocks {deltas.get(name)}"
            for name in baseline if other.get(name) != baseline[name]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per condition (3)")
    parser.add_argument("--load-seconds", type=float, default=900.0,
                        help="longest life of the load processes (900)")
    parser.add_argument("--suite", choices=("all", "demo", "e2e"), default="all",
                        help="which suites to run (all)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    rows, total, details = [], 0, []
    with tempfile.TemporaryDirectory(prefix="lf-stability-") as tmp:
        demo = Path(tmp) / "demo"
        shutil.copytree(ROOT / "examples" / "demo", demo)
        (demo / "leak-report.json").unlink(missing_ok=True)
        suites = {"examples/demo": demo, "tests/e2e one-file suites":
                  end_to_end_suite(Path(tmp) / "e2e")}
        if args.suite != "all":
            suites = {k: v for k, v in suites.items() if args.suite in k}
        for label, suite in suites.items():
            baseline = None
            for loaded in (False, True):
                context = load(args.load_seconds) if loaded else contextlib.nullcontext()
                with context:
                    for workers in (False, True):
                        found = [run_once(suite, workers) for _ in range(args.rounds)]
                        if baseline is None:
                            baseline = found[0][0]
                        counted = [changes(baseline, f) for f, _, _ in found]
                        condition = (f"{label}, {'-n 2' if workers else 'serial'}, "
                                     f"{'loaded' if loaded else 'idle'}")
                        for index, (f, _, deltas) in enumerate(found):
                            lines = changed_tests(baseline, f, deltas)
                            if lines:
                                details += [f"{condition}, run {index + 1}:", *lines]
                        verdicts = sum(c[0] for c in counted)
                        total += verdicts + sum(c[1] for c in counted)
                        rows.append([label, "-n 2" if workers else "serial",
                                     "loaded" if loaded else "idle", args.rounds,
                                     len(baseline), verdicts, sum(c[1] for c in counted),
                                     sum(c[2] for c in counted),
                                     f"{statistics.median(t for _, t, _ in found):.1f}"])
    print(tabulate(rows, headers=["suite", "workers", "machine", "runs", "tests",
                                  "verdicts changed", "sites changed",
                                  "types changed", "median s"]))
    print(f"\nchanges against the first idle serial run: {total} "
          "(verdicts and sites; target 0)")
    if details:
        print("\n".join(["", *details]))
    return 0 if total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
