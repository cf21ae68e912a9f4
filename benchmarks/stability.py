"""Do verdicts depend on load or on pytest-xdist? Counts of changes against one baseline.

Each suite runs ``--rounds`` times in each of four conditions: serial and ``-n 2``, on an
idle machine and with every core kept busy by generated load (one busy-loop process per
core, each stopping on its own after ``--load-seconds`` at most, and stopped as soon as
the runs are done). Each run is compared with the first idle serial run: what counts is
each test's verdict, its top allocation site (sites under 64 B a run are left out, as
free-list reuse moves them between two serial runs already) and its growing types.

Suites: the bundled example (``examples/demo``) and the end-to-end suites of
``tests/e2e`` that are each one test file (linecache, encodings, inspect, a session in a
module global, a slow leak, 77 tests with a one-block leak). The target is 0 changes
everywhere. Usage: ``python benchmarks/stability.py [--rounds N] [--load-seconds S]``.
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
#: Per test node id: verdict, top site, growing types.
Essentials = dict[str, tuple[str, str, tuple[str, ...]]]
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
        sites = [f"{s['filename']}:{s['lineno']}" for s in test["sites"]
                 if s["size_diff"] >= 64]
        found[test["nodeid"]] = (test["verdict"], sites[0] if sites else "-",
                                 tuple(sorted(t["type"] for t in test["types"])))
    return found


def run_once(suite: Path, workers: bool) -> tuple[Essentials, float]:
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
    return essentials(json.loads(report.read_text())), elapsed


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per condition (3)")
    parser.add_argument("--load-seconds", type=float, default=900.0,
                        help="longest life of the load processes (900)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    rows, total = [], 0
    with tempfile.TemporaryDirectory(prefix="lf-stability-") as tmp:
        demo = Path(tmp) / "demo"
        shutil.copytree(ROOT / "examples" / "demo", demo)
        (demo / "leak-report.json").unlink(missing_ok=True)
        suites = {"examples/demo": demo, "tests/e2e one-file suites":
                  end_to_end_suite(Path(tmp) / "e2e")}
        for label, suite in suites.items():
            baseline = None
            for loaded in (False, True):
                context = load(args.load_seconds) if loaded else contextlib.nullcontext()
                with context:
                    for workers in (False, True):
                        found = [run_once(suite, workers) for _ in range(args.rounds)]
                        if baseline is None:
                            baseline = found[0][0]
                        counted = [changes(baseline, f) for f, _ in found]
                        verdicts = sum(c[0] for c in counted)
                        total += verdicts + sum(c[1] for c in counted)
                        rows.append([label, "-n 2" if workers else "serial",
                                     "loaded" if loaded else "idle", args.rounds,
                                     len(baseline), verdicts, sum(c[1] for c in counted),
                                     sum(c[2] for c in counted),
                                     f"{statistics.median(t for _, t in found):.1f}"])
    print(tabulate(rows, headers=["suite", "workers", "machine", "runs", "tests",
                                  "verdicts changed", "top sites changed",
                                  "types changed", "median s"]))
    print(f"\nchanges against the first idle serial run: {total} "
          "(verdicts and top sites; target 0)")
    return 0 if total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
