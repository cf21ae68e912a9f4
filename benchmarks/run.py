"""Cost of ``--leak-forensics``, as ratios against a baseline measured in the same run.

1. Real third-party suites, each fetched as its source distribution (their tests are not
   in the wheels) and run in a virtual environment of their own under ``.cache/``: plain
   ``pytest`` vs ``pytest --leak-forensics``, both with ``--junitxml`` as CI runs them.
   more-itertools (765 tests, 21 k subtests; target <= 1.1x), jinja2 (909 tests; target
   <= 1.5x) and attrs (1,386 tests, 59 of them hypothesis property tests; no time
   target). Also checked: the share of tests re-run as suspects (target <= 5 %), with the
   commonest screen readings of those that came out clean (the next cause of needless
   re-runs to look at); the verdicts, which must be the same in every round; and each
   test's outcome in the junit XML, which must be the same with and without the plugin
   (a suite may have failures of its own on this interpreter: they must stay the same).
2. 300 trivial tests whose session fixture holds 1 M objects vs the same tests with an
   empty fixture, both with ``--leak-forensics``. Target: <= 1.2x (per-test cost follows
   what the test did, not the size of the process). Building and freeing 1 M objects
   costs plain pytest 1.5x on its own, so plain runs of both are timed too and the ratio
   is also given with that cost taken out; that is the one held to the bound.

Each configuration runs ``--rounds`` times, alternating, in fresh processes; medians of
wall time are compared, and for the real suites the medians of CPU time (user + system)
are shown beside them: on a shared host whose load comes and goes, wall times of the
same run spread by half, and CPU time leaves out the waits for a core. The first run
downloads the three sdists and makes the suites' environments (about a minute each); a
full run then takes about 15 minutes on two cores.
Usage: ``python benchmarks/run.py [--rounds N] [--only 1|2] [--suite NAME] [--against REV]``;
``--against REV`` times the plugin as it was at a git revision too, in the same rounds,
so that a change's cost can be told from the host's (which moved jinja2's plain run
from 2.9 s to 4.8 s between sessions).
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

CACHE = Path(__file__).resolve().parent / ".cache"
REPO = Path(__file__).resolve().parents[1]
#: name -> (requirement of the sdist, what its tests import, its bound)
SUITES: dict[str, tuple[str, list[str], float | None]] = {
    "more-itertools": ("more-itertools==11.2.1", [], 1.1),
    "jinja2": ("jinja2==3.1.6", ["markupsafe", "trio"], 1.5),
    "attrs": ("attrs==26.1.0", ["hypothesis", "pympler", "cloudpickle"], None),
}
SUSPECT_SHARE = 0.05
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


def suite_python(name: str, needs: list[str]) -> str:
    """A virtual environment of the suite's own, with this project and what its tests
    import: one suite's plugins (hypothesis registers one) must not load in another's."""
    venv = CACHE / f"venv-{name}"
    python = venv / "bin" / "python"
    ready = venv / ".ready"
    if not ready.exists():
        CACHE.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", str(REPO),
                        *needs], check=True)
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


#: CPU seconds (user + system) of every run ``timed`` made, by its arguments.
CPU: dict[tuple[str, ...], list[float]] = collections.defaultdict(list)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], cwd: Path, junit: Path | None = None,
          plugin_src: Path | None = None) -> float:
    """Wall time of one run (its CPU time goes in ``CPU``). With ``junit`` the suite's
    own failures are allowed (their outcomes are compared from the XML); without, any
    failure ends the benchmark. ``plugin_src``: this project's ``src`` of another
    revision, imported instead of the installed one (``--against``)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    # A src layout's package is imported from the tree, not installed.
    path = [str(p) for p in (plugin_src, cwd / "src") if p is not None and p.is_dir()]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)} if path else None
    done = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env)
    elapsed = time.perf_counter() - start
    CPU[tuple(args)].append(_children_cpu() - cpu)
    if done.returncode not in ((0, 1) if junit else (0,)) or (junit and not junit.exists()):
        sys.exit(f"benchmark run failed ({' '.join(args)}):\n{done.stdout[-3000:]}")
    return elapsed


def outcomes(junit: Path) -> dict[str, str]:
    """Each test case's outcome in a junit XML file."""
    found = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        kinds = {child.tag for child in case} & {"failure", "error", "skipped"}
        found[f"{case.get('classname')}::{case.get('name')}"] = ",".join(sorted(kinds)) or "passed"
    return found


def measure(runs: dict[str, list[str]], cwd: Path, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(rounds):
        for label, args in runs.items():  # alternate so drift hits all alike
            times[label].append(timed(args, cwd))
    return times


def measure_suite(python: str, tree: Path, report: Path, rounds: int,
                  against: tuple[str, Path] | None = None
                  ) -> tuple[dict[str, list[float]], list[float], list[dict[str, str]]]:
    """Alternating plain and plugin runs: their wall times, their median CPU times (plain,
    plugin), and the plugin's verdicts of every round. ``against``: a revision's name and
    ``src``, run with the plugin too, in the same rounds (its verdicts are not kept)."""
    junit = {"plain": tree / "junit-plain.xml", "plugin": tree / "junit-plugin.xml"}
    plain = [python, "-m", "pytest", *FLAGS, "tests", f"--junitxml={junit['plain']}"]
    plugin = [python, "-m", "pytest", *FLAGS, "tests", f"--junitxml={junit['plugin']}",
              "--leak-forensics", f"--leak-forensics-json={report}"]
    times: dict[str, list[float]] = {"plain pytest": [], "pytest --leak-forensics": []}
    verdicts = []
    # The plugin records each run in the suite's history, as it does by default; a store
    # kept from earlier benchmark runs (8 MB for jinja2's after a few sessions) would make
    # this run's figures depend on how many came before it.
    shutil.rmtree(tree / ".leak-forensics", ignore_errors=True)
    for _ in range(rounds):
        for path in junit.values():
            path.unlink(missing_ok=True)
        times["plain pytest"].append(timed(plain, tree, junit["plain"]))
        if against is not None:  # first: the verdicts and outcomes read below are this tree's
            times.setdefault(f"pytest --leak-forensics at {against[0]}", []).append(
                timed(plugin, tree, junit["plugin"], plugin_src=against[1]))
            junit["plugin"].unlink()
        times["pytest --leak-forensics"].append(timed(plugin, tree, junit["plugin"]))
        data = json.loads(report.read_text())
        verdicts.append({t["nodeid"]: t["verdict"] for t in data["tests"]})
        mine, theirs = outcomes(junit["plugin"]), outcomes(junit["plain"])
        if mine != theirs:
            changed = sorted(n for n in mine.keys() | theirs.keys() if mine.get(n) != theirs.get(n))
            verdicts[-1]["outcomes changed by the plugin"] = ", ".join(changed[:5])
    print(f"  outcomes (junit XML): {dict(collections.Counter(theirs.values()))} without the "
          f"plugin, {'the same' if mine == theirs else 'DIFFERENT'} with it")
    share = describe_suspects(data)
    verdicts[-1]["suspect share"] = "ok" if share <= SUSPECT_SHARE else "over"
    return times, [statistics.median(CPU[tuple(args)]) for args in (plain, plugin)], verdicts


def describe_suspects(data: dict[str, Any]) -> float:
    tests = data["tests"]
    suspects = [t for t in tests if t["runs"] > 1]
    clean = [t for t in suspects if t["verdict"] == "clean"]
    share = len(suspects) / max(len(tests), 1)
    print(f"  re-run as suspects: {len(suspects)} of {len(tests)} ({100 * share:.1f} %, "
          f"bound {100 * SUSPECT_SHARE:.0f} %: {'ok' if share <= SUSPECT_SHARE else 'OVER'}), "
          f"{len(clean)} of them clean")
    readings = collections.Counter(
        (t["screen"].get("blocks", 0), "malloc > 4 KiB" if t["screen"].get("malloc", 0) > 4096
         else "") for t in clean)
    common = ", ".join(f"{n}x {blocks} blocks{' ' + why if why else ''}"
                       for (blocks, why), n in readings.most_common(5))
    print(f"  commonest screens of the clean ones: {common or '-'}")
    found = collections.Counter(t["verdict"] for t in tests if t["verdict"] != "clean")
    print(f"  verdicts other than clean: {dict(found) or 'none'}")
    return share


def same_verdicts(rounds: list[dict[str, str]]) -> bool:
    """Verdicts equal in every round, outcomes unchanged, suspects within their share."""
    last = rounds[-1]
    ok = last.get("suspect share") != "over"
    if "outcomes changed by the plugin" in last:
        print(f"  outcomes changed by the plugin: {last['outcomes changed by the plugin']}")
        ok = False
    tests = [n for n in rounds[0] if n not in ("suspect share", "outcomes changed by the plugin")]
    changed = sorted(n for n in tests if len({r.get(n) for r in rounds}) > 1)
    if changed:
        print(f"  verdicts changed between rounds: {len(changed)} tests, e.g. {changed[:3]}")
    return ok and not changed


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
    parser.add_argument("--against", metavar="REV",
                        help="also time the plugin as it was at this git revision, in the "
                             "same rounds (part 1): a change's cost apart from the host's")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        against = None if args.against is None else (args.against,
                                                     revision_src(args.against, Path(tmp)))
        return 0 if run_parts(args, against) else 1


def revision_src(rev: str, into: Path) -> Path:
    """This project's ``src`` at ``rev``, unpacked from git."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "src"],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        sys.exit(f"--against: {archive.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def run_parts(args: argparse.Namespace, against: tuple[str, Path] | None) -> bool:
    ok = True
    if args.only in (None, "1"):
        for number, (name, (requirement, needs, bound)) in enumerate(SUITES.items(), 1):
            if args.suite not in (None, name):
                continue
            python = suite_python(name, needs)
            tree = source_tree(requirement)
            print(f"1.{number} {name} test suite")
            report = tree / "leak-forensics-bench.json"
            times, cpu, verdicts = measure_suite(python, tree, report, args.rounds, against)
            m = show(times)
            ratio = m["pytest --leak-forensics"] / m["plain pytest"]
            if against is not None:
                then = m[f"pytest --leak-forensics at {against[0]}"] / m["plain pytest"]
                print(f"  at {against[0]}: {then:.2f}x, this tree: {ratio:.2f}x")
            print(f"  CPU time (user + system), medians: {cpu[0]:.2f} s plain, {cpu[1]:.2f} s "
                  f"with the plugin: {cpu[1] / cpu[0]:.2f}x (a second view on a busy host: "
                  "time spent waiting for a core is not in it)")
            if bound is None:
                print(f"  ratio: {ratio:.2f}x (no bound)")
            else:
                ok &= verdict("ratio", ratio, bound)
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
            runs = {
                "empty fixture, --leak-forensics": PYTEST + ["empty"] + flags,
                "1 M-object fixture, --leak-forensics": PYTEST + ["big"] + flags,
                "empty fixture, plain pytest": PYTEST + ["empty"],
                "1 M-object fixture, plain pytest": PYTEST + ["big"],
            }
            m = show(measure(runs, root, args.rounds))
            cpu = [statistics.median(CPU[tuple(command)]) for command in runs.values()]
            small, big, plain_small, plain_big = m.values()
            building = plain_big - plain_small
            print(f"  plain pytest alone: {plain_big / plain_small:.2f}x"
                  f" (building and freeing the 1 M objects: {building:.2f} s)")
            per_test = {}
            for label, plugin, plain in (("empty", small, plain_small), ("1 M", big, plain_big)):
                per_test[label] = (plugin - plain) / 300 * 1000
                print(f"  plugin's own cost per test, {label} fixture: {per_test[label]:.2f} ms")
            extra = per_test["1 M"] - per_test["empty"]
            print(f"  per test with a 1 M-object heap: +{extra:.2f} ms (bound 0.2 ms) "
                  f"{'ok' if extra <= 0.2 else 'OVER'}")
            # The same from CPU time, which leaves out waits for a core: the wall-time
            # figure is a difference of four medians, and read +0.33 to +0.85 ms on one host.
            cpu_extra = ((cpu[1] - cpu[3]) - (cpu[0] - cpu[2])) / 300 * 1000
            print(f"  the same from CPU time (user + system) medians: +{cpu_extra:.2f} ms")
            ok &= extra <= 0.2
            verdict("raw ratio, fixture cost included", big / small, 1.2)
            ok &= verdict("ratio without the fixture's own cost", (big - building) / small, 1.2)
    return ok


if __name__ == "__main__":
    sys.exit(main())
