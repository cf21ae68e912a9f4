"""Cost of ``--leak-forensics``, as ratios against a baseline measured in the same run.

1. A real third-party suite (more-itertools' own tests, fetched as its source
   distribution): plain ``pytest`` vs ``pytest --leak-forensics``. Target: <= 1.5x.
2. 300 trivial tests whose session fixture holds 1 M objects vs the same tests with an
   empty fixture, both with ``--leak-forensics``. Target: <= 1.2x (per-test cost follows
   what the test did, not the size of the process).

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


def compare(name: str, runs: dict[str, list[str]], cwd: Path, rounds: int, bound: float
            ) -> bool:
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(rounds):
        for label, args in runs.items():  # alternate so drift hits both alike
            times[label].append(timed(args, cwd))
    (base_label, base), (label, other) = ((k, statistics.median(v)) for k, v in times.items())
    ratio = other / base
    verdict = "ok" if ratio <= bound else "OVER"
    print(f"{name}\n  {base_label:<34} median {base:7.2f} s  {fmt(times[base_label])}\n"
          f"  {label:<34} median {other:7.2f} s  {fmt(times[label])}\n"
          f"  ratio {ratio:.2f}x (bound {bound}x) {verdict}\n", flush=True)
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
        ok &= compare("1. more-itertools test suite", {
            "plain pytest": PYTEST + ["tests"],
            "pytest --leak-forensics": PYTEST + ["tests", "--leak-forensics"],
        }, suite, args.rounds, 1.5)
    if args.only in (None, "2"):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for size, name in ((0, "empty"), (1_000_000, "big")):
                (root / name).mkdir()
                (root / name / "test_fixture.py").write_text(FIXTURE_SUITE.format(size=size))
            flags = ["--leak-forensics"]
            ok &= compare("2. 300 trivial tests, session fixture of 1 M objects", {
                "empty session fixture": PYTEST + ["empty"] + flags,
                "1 M-object session fixture": PYTEST + ["big"] + flags,
            }, root, args.rounds, 1.2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
