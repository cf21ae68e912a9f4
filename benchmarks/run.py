"""Cost of ``--leak-forensics``, as ratios against a baseline measured in the same run.

1. A real third-party suite (more-itertools' own tests, fetched as its source
   distribution): plain ``pytest`` vs ``pytest --leak-forensics``. Target: <= 1.5x.
2. 300 trivial tests whose session fixture holds 1 M objects vs the same tests with an
   empty fixture, both with ``--leak-forensics``. Target: <= 1.2x (per-test cost follows
   what the test did, not the size of the process). Building and freeing 1 M objects
   costs plain pytest 1.5x on its own, so plain runs of both are timed too and the ratio
   is also given with that cost taken out; that is the one held to the bound.

Each configuration runs ``--rounds`` times, alternating, in fresh processes; medians of
wall time are compared. Usage: ``python benchmarks/run.py [--rounds N] [--only 1|2]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
MORE_ITERTOOLS = "more-itertools==11.2.1"
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]

FIXTURE_SUITE = '''
import pytest

@pytest.fixture(scope="session")
def held():
    return [[i] for i in range({size})] if {size} else []

@pytest.mark.parametrize("i", range(300))
def test_trivial(held, i):
    assert i >= 0
'''


def more_itertools_suite() -> Path:
    """Download and unpack more-itertools' sdist once (its tests are not in the wheel)."""
    CACHE.mkdir(exist_ok=True)
    existing = sorted(CACHE.glob("more_itertools-*/tests"))
    if existing:
        return existing[-1].parent
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--no-binary", ":all:", "--dest", str(CACHE), MORE_ITERTOOLS], check=True)
    archive = sorted(CACHE.glob("more_itertools-*.tar.gz"))[-1]
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    return sorted(CACHE.glob("more_itertools-*/tests"))[-1].parent


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"benchmark run failed ({' '.join(args)}):\n{done.stdout[-3000:]}")
    return elapsed


def measure(runs: dict[str, list[str]], cwd: Path, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(rounds):
        for label, args in runs.items():  # alternate so drift hits all alike
            times[label].append(timed(args, cwd))
    return times


def show(times: dict[str, list[float]]) -> dict[str, float]:
    medians = {label: statistics.median(values) for label, values in times.items()}
    for label, values in times.items():
        print(f"  {label:<38} median {medians[label]:7.2f} s  {fmt(values)}")
    return medians


def verdict(name: str, ratio: float, bound: float) -> bool:
    print(f"  {name}: {ratio:.2f}x (bound {bound}x) {'ok' if ratio <= bound else 'OVER'}")
    return ratio <= bound


def fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("1", "2"))
    args = parser.parse_args()
    ok = True
    if args.only in (None, "1"):
        suite = more_itertools_suite()
        print("1. more-itertools test suite")
        m = show(measure({
            "plain pytest": PYTEST + ["tests"],
            "pytest --leak-forensics": PYTEST + ["tests", "--leak-forensics"],
        }, suite, args.rounds))
        ok &= verdict("ratio", m["pytest --leak-forensics"] / m["plain pytest"], 1.5)
        print()
    if args.only in (None, "2"):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for size, name in ((0, "empty"), (1_000_000, "big")):
                (root / name).mkdir()
                (root / name / "test_fixture.py").write_text(FIXTURE_SUITE.format(size=size))
            flags = ["--leak-forensics"]
            print("2. 300 trivial tests, session fixture of 1 M objects")
            m = show(measure({
                "empty fixture, --leak-forensics": PYTEST + ["empty"] + flags,
                "1 M-object fixture, --leak-forensics": PYTEST + ["big"] + flags,
                "empty fixture, plain pytest": PYTEST + ["empty"],
                "1 M-object fixture, plain pytest": PYTEST + ["big"],
            }, root, args.rounds))
            small, big, plain_small, plain_big = m.values()
            building = plain_big - plain_small
            print(f"  plain pytest alone: {plain_big / plain_small:.2f}x"
                  f" (building and freeing the 1 M objects: {building:.2f} s)")
            for label, plugin, plain in (("empty", small, plain_small), ("1 M", big, plain_big)):
                print(f"  plugin's own cost per test, {label} fixture: "
                      f"{(plugin - plain) / 300 * 1000:.2f} ms")
            verdict("raw ratio, fixture cost included", big / small, 1.2)
            ok &= verdict("ratio without the fixture's own cost", (big - building) / small, 1.2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
