"""Cost of one leak that every test shares, as the suite grows: 50, 200 and 800 tests.

Each test goes through ``examples/shared_leak``'s test client, which leaks about 1 KiB
per call (a WeakKeyDictionary whose values hold their keys), so every test is a leak.
The first is analysed in full; the later ones should be recognised as the same leak
(``analysis.shared``), so the seconds per leaking test stay flat as the suite grows and
the whole run stays within 10x plain ``pytest`` (targets of the shared-leak issue).

Per size, plain ``pytest`` and ``pytest --leak-forensics`` run ``--rounds`` times,
alternating, in fresh processes; medians of wall time are compared. Usage:
``python benchmarks/shared_leak.py [--rounds N] [--sizes 50,200,800]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shared_leak"
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
TESTS = '''
import pytest

from streamkit import commands


@pytest.mark.parametrize("name", [f"user{{i}}" for i in range({count})])
def test_greet(runner, name):
    assert runner.invoke(commands.greet, name) == f"Hello, {{name}}!\\n"
'''


def suite(into: Path, count: int) -> Path:
    shutil.copytree(EXAMPLE, into)
    (into / "tests" / "test_commands.py").write_text(TESTS.format(count=count))
    return into


def timed(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per configuration (3)")
    parser.add_argument("--sizes", default="50,200,800", help="suite sizes (50,200,800)")
    args = parser.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes must be numbers separated by commas, got {args.sizes!r}")
    if args.rounds < 1 or not sizes or min(sizes) < 1:
        parser.error("--rounds and every size must be at least 1")
    rows = []
    with tempfile.TemporaryDirectory(prefix="lf-shared-") as tmp:
        for count in sizes:
            path = suite(Path(tmp) / f"n{count}", count)
            plain, forensics = [], []
            for _ in range(args.rounds):
                plain.append(timed(PYTEST, path))
                forensics.append(timed([*PYTEST, "--leak-forensics"], path))
            p, f = statistics.median(plain), statistics.median(forensics)
            rows.append([count, f"{p:.2f}", f"{f:.2f}", f"{f / p:.1f}x",
                         f"{1000 * (f - p) / count:.1f}"])
    print(tabulate(rows, headers=["leaking tests", "plain s", "--leak-forensics s", "ratio",
                                  "ms added per leaking test"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
