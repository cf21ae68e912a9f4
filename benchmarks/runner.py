"""The memory-aware runner: what it costs, and the noise behind the alerts' defaults.

1. Cost: ``leak-forensics run`` (sampling every 0.5 s, timeline drawn, samples recorded)
   against ``pytest --leak-forensics`` alone on the same suite, both recording to a
   history store, alternating, ``--rounds`` times each; medians of wall time. Target:
   the runner costs at most 1.05x. Printed too: the runner's extra seconds. They are
   fixed, not per test (its own start, the report read back, the picture drawn, the
   samples stored, matplotlib imported beside the tests: +0.74 s on 1,200 tests and
   +0.67 s on 4,800, medians), so the ratio is only fair on a suite that takes a while;
   the 4,800 generated tests make it about 23 s, a small suite by the standard of the
   suites that need a memory-aware runner (``--tests`` changes it).
2. Noise: the same suite run ``--noise-runs`` times (default 5) with every core kept
   busy, each run recorded in one store; then every run is compared with every other
   under the default alerts (``new_leaks``, ``peak_rss``, ``growth_rate``,
   ``retained``). Printed: the largest change of each figure between any two runs, and
   how many comparisons an alert failed. Target: 0; the defaults are chosen with room
   over the largest change seen.

The suite: the bundled example (``examples/demo``: 3 leaks, 6 clean traps) with 4,800
generated tests beside it that parse, format and cache as application tests do, so that
the growth fit has enough tests to work on. Usage:
``python benchmarks/runner.py [--rounds N] [--noise-runs N] [--only 1|2] [--tests N]``.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stability import load

from leak_forensics.analysis.alerts import DEFAULTS, check, parse_alert
from leak_forensics.history.comparing import compare_stored
from leak_forensics.history.store import HistoryStore

ROOT = Path(__file__).resolve().parents[1]
MIXED = '''
import json, re, dataclasses, functools
import pytest

@dataclasses.dataclass
class Order:
    sku: str
    qty: int

@functools.lru_cache(maxsize=64)
def pattern(n):
    return re.compile(rf"item-{n}-(\\d+)")

@pytest.fixture(scope="module")
def catalogue():
    return {f"sku-{i}": i * 1.5 for i in range(2000)}

@pytest.mark.parametrize("i", range(TESTS))
def test_mixed(catalogue, i):
    orders = [Order(f"sku-{j}", j % 7) for j in range(i % 50)]
    text = json.dumps([dataclasses.asdict(o) for o in orders])
    assert len(json.loads(text)) == len(orders)
    assert pattern(i % 80).match(f"item-{i % 80}-42")
    assert sum(catalogue[o.sku] * o.qty for o in orders) >= 0
'''


def make_suite(into: Path, tests: int = 4800) -> Path:
    suite = into / "suite"
    shutil.copytree(ROOT / "examples" / "demo", suite,
                    ignore=shutil.ignore_patterns("*.json", "__pycache__", ".leak-forensics"))
    (suite / "tests" / "test_mixed.py").write_text(MIXED.replace("TESTS", str(tests)))
    return suite


def timed(args: list[str], cwd: Path, allowed: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in allowed:
        sys.exit(f"benchmark run failed ({' '.join(args)}):\n{done.stdout[-3000:]}")
    return elapsed


def cost(suite: Path, rounds: int) -> bool:
    url = f"sqlite:///{suite}/cost.db"
    runs = {
        "pytest --leak-forensics": [sys.executable, "-m", "pytest", "-q", "-p",
                                    "no:cacheprovider", "--leak-forensics",
                                    f"--leak-forensics-history={url}"],
        "leak-forensics run": [sys.executable, "-m", "leak_forensics", "run",
                               "--history", url, "--", "-q", "-p", "no:cacheprovider"],
    }
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(rounds):
        for label, args in runs.items():  # alternate, so drift hits both alike
            times[label].append(timed(args, suite))
    base, runner = (statistics.median(times[label]) for label in runs)
    for label, values in times.items():
        print(f"  {label:26} median {statistics.median(values):6.2f} s  "
              f"({', '.join(f'{v:.2f}' for v in values)})")
    ratio = runner / base
    print(f"  the runner's extra time: {runner - base:+.2f} s (medians)")
    print(f"  runner / plugin alone: {ratio:.3f}x (target <= 1.05x): "
          f"{'ok' if ratio <= 1.05 else 'OVER'}")
    return ratio <= 1.05


def noise(suite: Path, runs: int) -> bool:
    url = f"sqlite:///{suite}/noise.db"
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--leak-forensics", f"--leak-forensics-history={url}"]
    with load(seconds=60 * 30):
        for _ in range(runs):
            timed(args, suite)
    rules = [parse_alert(key) for key in DEFAULTS]
    store = HistoryStore(url, create=False)
    ids = sorted(int(run["id"]) for run in store.runs())
    worst: dict[str, float] = {"peak_rss %": 0.0, "growth_rate B/test": 0.0,
                               "retained B/run": 0.0, "new_leaks": 0.0}
    alerts = 0
    for base, run in itertools.permutations(ids, 2):
        comparison = compare_stored(store, base, run)
        worst["peak_rss %"] = max(worst["peak_rss %"], comparison.peak_rss.percent or 0.0)
        worst["growth_rate B/test"] = max(worst["growth_rate B/test"],
                                          comparison.growth_rate.change or 0.0)
        worst["retained B/run"] = max([worst["retained B/run"],
                                       *(c.change for c in comparison.tests)])
        worst["new_leaks"] = max(worst["new_leaks"], len(comparison.new))
        held = [rule.text for rule in rules if check(rule, comparison).holds]
        if held:
            alerts += 1
            print(f"  run {run} against run {base}: {', '.join(held)}")
    figures = [(run["peak_rss"], run["growth_rate"]) for run in store.runs()]
    store.close()
    print(f"  {runs} runs with every core busy; per run (peak RSS, growth B/test): "
          + ", ".join(f"({peak / 2**20:.1f} MiB, {rate:+.0f})" for peak, rate in figures))
    for name, value in worst.items():
        print(f"  largest increase between two runs: {name:20} {value:+.1f}")
    print(f"  defaults: {', '.join(f'{k}:{v}' for k, v in DEFAULTS.items())}")
    print(f"  comparisons that alerted: {alerts} of {len(ids) * (len(ids) - 1)} "
          f"(target 0): {'ok' if alerts == 0 else 'NOISY'}")
    return alerts == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--noise-runs", type=int, default=5)
    parser.add_argument("--only", choices=["1", "2"])
    parser.add_argument("--tests", type=int, default=4800,
                        help="generated tests beside the demo (default 4800)")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as scratch:
        suite = make_suite(Path(scratch), args.tests)
        if args.only in (None, "1"):
            print(f"1. the runner's cost (demo + {args.tests:,} generated tests, serial)")
            ok &= cost(suite, args.rounds)
        if args.only in (None, "2"):
            print("2. noise: the same suite against itself, every core busy")
            ok &= noise(suite, args.noise_runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
