"""Cost of ``--leak-forensics``, as ratios against a baseline measured in the same run.

1. Real third-party suites, each fetched as its source distribution (their tests are not
   in the wheels) and run in a virtual environment of their own under ``.cache/``: plain
   ``pytest`` vs ``pytest --leak-forensics``. more-itertools (765 tests, 21 k subtests;
   target <= 1.1x) and jinja2 (909 tests; target <= 1.5x). Also printed: how many tests
   were re-run as suspects and the commonest screen readings of those that came out clean
   (the next cause of needless re-runs to look at), and the verdicts, which must be the
   same in every round.
2. 300 trivial tests whose session fixture holds 1 M objects vs the same tests with an
   empty fixture, both with ``--leak-forensics``. Target: <= 1.2x (per-test cost follows
   what the test did, not the size of the process). Building and freeing 1 M objects
   costs plain pytest 1.5x on its own, so plain runs of both are timed too and the ratio
   is also given with that cost taken out; that is the one held to the bound.

Each configuration runs ``--rounds`` times, alternating, in fresh processes; medians of
wall time are compared. The first run downloads the two sdists and makes the suites'
environment (about a minute); a full run then takes about 15 minutes on two cores.
Usage: ``python benchmarks/run.py [--rounds N] [--only 1|2] [--suite NAME]``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
REPO = Path(__file__).resolve().parents[1]
#: name -> (requirement of the sdist, what its tests import, its bound)
SUITES = {
    "more-itertools": ("more-itertools==11.2.1", [], 1.1),
    "jinja2": ("jinja2==3.1.6", ["markupsafe", "trio"], 1.5),
}
FLAGS = ["-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
PYTEST = [sys.executable, "-m", "pytest", *FLAGS]

FIXTURE_SUITE = '''
import pytest

@pytest.fixture(scope="session")
def held():
    return [[i] for i in range({size})] if {size} else []

@pytest.mark.parametrize("i", range(300))
def test_trivial(held, i):
    assert i >= 0
'''


def suite_python() -> str:
    """A virtual environment with this project and what the suites' tests import."""
    venv = CACHE / "venv"
    python = venv / "bin" / "python"
    ready = venv / ".ready"
    if not ready.exists():
        CACHE.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        extras = [name for _, needs, _ in SUITES.values() for name in needs]
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", str(REPO),
                        *extras], check=True)
        ready.touch()
    return str(python)


def source_tree(requirement: str) -> Path:
    """Download and unpack a source distribution once; its directory."""
    name, _, version = requirement.partition("==")
    stem = f"{name.replace('-', '_')}-{version}"
    tree = CACHE / stem
    if not (tree / "tests").is_dir():
        CACHE.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", "--dest", str(CACHE), requirement], check=True)
        archive = next(CACHE.glob(f"{stem}.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(CACHE, filter="data")
    return tree


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    # A src layout's package is imported from the tree, not installed.
    env = {**os.environ, "PYTHONPATH": str(cwd / "src")} if (cwd / "src").is_dir() else None
    done = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env)
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


def measure_suite(python: str, tree: Path, report: Path, rounds: int
                  ) -> tuple[dict[str, list[float]], list[dict[str, str]]]:
    """Alternating plain and plugin runs; the plugin's verdicts of every round."""
    plain = [python, "-m", "pytest", *FLAGS, "tests"]
    plugin = [*plain, "--leak-forensics", f"--leak-forensics-json={report}"]
    times: dict[str, list[float]] = {"plain pytest": [], "pytest --leak-forensics": []}
    verdicts = []
    for _ in range(rounds):
        times["plain pytest"].append(timed(plain, tree))
        times["pytest --leak-forensics"].append(timed(plugin, tree))
        data = json.loads(report.read_text())
        verdicts.append({t["nodeid"]: t["verdict"] for t in data["tests"]})
    describe_suspects(data)
    return times, verdicts


def describe_suspects(data: dict) -> None:
    tests = data["tests"]
    suspects = [t for t in tests if t["runs"] > 1]
    clean = [t for t in suspects if t["verdict"] == "clean"]
    print(f"  re-run as suspects: {len(suspects)} of {len(tests)} "
          f"({100 * len(suspects) / max(len(tests), 1):.1f} %), {len(clean)} of them clean")
    readings = collections.Counter(
        (t["screen"].get("blocks", 0), "malloc > 4 KiB" if t["screen"].get("malloc", 0) > 4096
         else "") for t in clean)
    common = ", ".join(f"{n}x {blocks} blocks{' ' + why if why else ''}"
                       for (blocks, why), n in readings.most_common(5))
    print(f"  commonest screens of the clean ones: {common or '-'}")
    found = collections.Counter(t["verdict"] for t in tests if t["verdict"] != "clean")
    print(f"  verdicts other than clean: {dict(found) or 'none'}")


def same_verdicts(rounds: list[dict[str, str]]) -> bool:
    changed = sorted(n for n in rounds[0] if len({r.get(n) for r in rounds}) > 1)
    if changed:
        print(f"  verdicts changed between rounds: {len(changed)} tests, e.g. {changed[:3]}")
    return not changed


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
    parser.add_argument("--suite", choices=tuple(SUITES), help="only this real suite")
    args = parser.parse_args()
    ok = True
    if args.only in (None, "1"):
        python = suite_python()
        for number, (name, (requirement, _, bound)) in enumerate(SUITES.items(), 1):
            if args.suite not in (None, name):
                continue
            tree = source_tree(requirement)
            print(f"1.{number} {name} test suite")
            report = tree / "leak-forensics-bench.json"
            times, verdicts = measure_suite(python, tree, report, args.rounds)
            m = show(times)
            ok &= verdict("ratio", m["pytest --leak-forensics"] / m["plain pytest"], bound)
            ok &= same_verdicts(verdicts)
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
