"""Under pytest-xdist, with crashing workers, interrupted runs, reordering, --lf, doctests."""

import json
import shutil
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"

# Leaks of 8 KiB a run: C-allocator growth, which a worker's message thread does not blur
# the way it moves pymalloc's block count (by up to ~10 blocks a run).
CRASHING_SUITE = """
import itertools, os
_KEPT = []
_n = itertools.count()

def test_leaks_a():
    _KEPT.append(bytearray(8192 + next(_n) % 2))

def test_clean_a():
    assert sum(range(10)) == 45

def test_crash():
    os._exit(3)  # the worker dies here

def test_leaks_b():
    _KEPT.append(bytearray(8192))

def test_clean_b():
    assert "x" * 3 == "xxx"
"""


def essentials(data: dict) -> dict:
    """What must not depend on how the tests were spread: verdicts, allocation sites,
    types. Sites under 64 bytes a run are left out: a float or tuple reused from
    CPython's free lists keeps the trace of the block it reuses, so such a site can
    move between two serial runs already (and sizes move by a few bytes with it)."""
    return {t["nodeid"]: (t["verdict"],
                          sorted((s["filename"], s["lineno"]) for s in t["sites"]
                                 if s["size_diff"] >= 64),
                          sorted(g["type"] for g in t["types"]))
            for t in data["tests"]}


def differing(first: dict, second: dict) -> str:
    """The whole entries of the tests whose essentials differ: how often each ran, what
    each run read, and the notes say why a verdict came out as it did."""
    ours, theirs = essentials(first), essentials(second)
    entries = {t["nodeid"]: t for t in first["tests"]}, {t["nodeid"]: t for t in second["tests"]}
    keys = ("verdict", "runs", "screen", "deltas", "notes")
    return "\n".join(f"{nodeid}:\n  {({k: entries[0][nodeid].get(k) for k in keys})}\n"
                     f"  {({k: entries[1].get(nodeid, {}).get(k) for k in keys})}"
                     for nodeid in sorted(ours) if ours[nodeid] != theirs.get(nodeid))


def test_two_workers_give_the_serial_report_on_the_example_suite(run_forensics, pytester):
    shutil.copytree(DEMO, pytester.path, dirs_exist_ok=True)
    _, serial, _ = run_forensics()
    parallel_result, parallel, _ = run_forensics("-n", "2", xdist=True)
    assert essentials(parallel) == essentials(serial), differing(parallel, serial)
    assert parallel["summary"]["leak"] == serial["summary"]["leak"] == 3
    assert len(parallel["tests"]) == 9
    # The summary is one document, printed once, by the controller.
    out = parallel_result.stdout.str()
    assert out.count("== leak forensics ==") == 1
    assert "9 tests: 3 leaking, " in out


def _many_tests_one_leaking_a_block() -> str:
    tests = [f"def test_clean_{i:02d}():\n    assert sum(range({i} + 10)) > 0\n"
             for i in range(76)]
    tests.insert(40, "def test_one_block():\n    _KEPT.append(object())\n")
    return "_KEPT = []\n\n" + "\n".join(tests)


def test_two_workers_find_a_one_block_leak_among_many_tests(run_forensics, pytester):
    # The workers' controller sends more work while tests are measured; that traffic
    # must never turn a one-block leak clean, nor a clean test into a leak.
    pytester.makepyfile(test_many=_many_tests_one_leaking_a_block())
    _, serial, _ = run_forensics()
    _, parallel, _ = run_forensics("-n", "2", xdist=True)
    assert essentials(parallel) == essentials(serial)
    leaks = [t["nodeid"] for t in parallel["tests"] if t["verdict"] == "leak"]
    assert leaks == ["test_many.py::test_one_block"]


def test_a_crashing_worker_loses_no_finished_test(run_forensics, pytester):
    pytester.makepyfile(test_mod=CRASHING_SUITE)
    # Five measured runs, not three: a worker restarted after a crash is noisy for a
    # while (a clean test was once judged inconclusive), and noise rarely grows 5 times.
    repeat = "--leak-forensics-repeat=1:5"
    result, parallel, _ = run_forensics("-n", "2", repeat, xdist=True)
    _, serial, _ = run_forensics(repeat, "--deselect", "test_mod.py::test_crash")
    crashed = next(t for t in parallel["tests"] if t["nodeid"].endswith("test_crash"))
    assert crashed["verdict"] == "error"
    assert "crashed while running this test" in crashed["notes"][0]
    assert crashed["notes"][0].startswith("worker gw")
    finished = {k: v for k, v in essentials(parallel).items() if not k.endswith("test_crash")}
    assert finished == essentials(serial)
    assert sum(v[0] == "leak" for v in finished.values()) == 2
    result.stdout.fnmatch_lines(["*crashed while running*test_crash*"])


def test_an_interrupted_run_still_writes_every_finished_test(run_forensics, pytester):
    pytester.makepyfile(test_mod="""
_KEPT = []
def test_leaks():
    _KEPT.append([1] * 10)
def test_clean():
    pass
def test_interrupt():
    raise KeyboardInterrupt
def test_never_runs():
    pass
""")
    result, _, verdicts = run_forensics()
    assert result.ret == 2  # interrupted
    assert {name: t["verdict"] for name, t in verdicts.items()} == {
        "test_leaks": "leak", "test_clean": "clean"}


def test_a_stop_at_the_first_failure_still_writes_the_report(run_forensics, pytester):
    pytester.makepyfile(test_mod="""
_KEPT = []
def test_leaks():
    _KEPT.append([1] * 10)
def test_fails():
    assert False
def test_never_runs():
    pass
""")
    # One worker takes the file (loadfile), so the failure stops the run after
    # test_leaks was checked: with the tests split, the controller's shutdown can reach
    # the other worker while test_leaks is repeated (docs/how-it-works.md, Known limits).
    for extra in ([], ["-n", "2", "--dist", "loadfile"]):
        _, _, found = run_forensics("-x", *extra, xdist=bool(extra))
        verdicts = {name: t["verdict"] for name, t in found.items()}
        assert verdicts.get("test_leaks") == "leak", (extra, found["test_leaks"])
        assert "test_fails" in verdicts, (extra, verdicts)


def test_reordered_tests_get_the_same_verdicts(run_forensics, pytester):
    shutil.copytree(DEMO, pytester.path, dirs_exist_ok=True)
    _, forward, _ = run_forensics()
    # What pytest-randomly does: the items in another order.
    (pytester.path / "conftest.py").write_text(
        "def pytest_collection_modifyitems(items):\n    items.reverse()\n")
    _, backward, _ = run_forensics()
    assert [t["nodeid"] for t in backward["tests"]] == [
        t["nodeid"] for t in forward["tests"]][::-1]
    assert essentials(backward) == essentials(forward)


def test_last_failed_unittest_and_doctest_items(pytester):
    pytester.makepyfile(test_mod='''
import unittest
_KEPT = []

def helper():
    """
    >>> _KEPT.append([1] * 10)
    """

class Case(unittest.TestCase):
    def test_leaks(self):
        _KEPT.append(bytearray(8192))  # a dict could come off a free list, unseen

def test_fails():
    assert False
''')
    report = pytester.path / "lf.json"
    first = pytester.runpytest_subprocess("--leak-forensics", f"--leak-forensics-json={report}",
                                          "--doctest-modules", "-p", "no:xdist")
    verdicts = {t["nodeid"]: t["verdict"] for t in json.loads(report.read_text())["tests"]}
    assert verdicts["test_mod.py::Case::test_leaks"] == "leak"
    assert verdicts["test_mod.py::test_mod.helper"] == "leak"  # doctests are checked too
    assert first.ret == 1
    again = pytester.runpytest_subprocess("--leak-forensics", f"--leak-forensics-json={report}",
                                          "--doctest-modules", "--lf", "-p", "no:xdist")
    assert [t["nodeid"] for t in json.loads(report.read_text())["tests"]] == [
        "test_mod.py::test_fails"]
    assert again.ret == 1


def test_workers_save_snapshots_where_a_serial_run_does(run_forensics, pytester):
    pytester.makepyfile(test_mod=CRASHING_SUITE.replace("os._exit(3)", "pass"))
    _, data, _ = run_forensics("-n", "2", "--leak-forensics-save=snaps", xdist=True)
    saved = {t["nodeid"].split("::")[1]: t["snapshots"] for t in data["tests"]
             if t["snapshots"]}
    assert set(saved) == {"test_leaks_a", "test_leaks_b"}, [
        (t["nodeid"], t["verdict"], t["deltas"], t["notes"]) for t in data["tests"]]
    for paths in saved.values():
        assert all((pytester.path / p).is_file() and Path(p).parent.name == "snaps"
                   for p in paths.values()), paths
