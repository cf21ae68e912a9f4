"""End to end: a run that meets a hostile world — a signal, a report it cannot write, odd
objects in sys.modules — still ends the way its user expects."""

import json
import signal

import pytest

LEAKY = """
import itertools, os, signal
_n = itertools.count()
_HOLD = []

def test_leaks():
    _HOLD.append([next(_n)] * 20)

def test_clean():
    pass
"""


@pytest.mark.parametrize("workers", [(), ("-n", "1")], ids=["serial", "xdist"])
def test_a_run_ended_by_sigterm_writes_the_report_of_what_finished(pytester, workers):
    # CI systems end a job that runs over its time with SIGTERM, to the process they
    # started: under xdist that is the controller, the worker's parent.
    target = "os.getppid()" if workers else "os.getpid()"
    pytester.makepyfile(test_mod=LEAKY + f"""
def test_zz_time_is_up():
    os.kill({target}, signal.SIGTERM)
    import time
    time.sleep(30)
""")
    report = pytester.path / "report.json"
    result = pytester.runpytest_subprocess(
        "--leak-forensics", f"--leak-forensics-json={report}", "-p", "no:cacheprovider",
        "-p", "no:randomly", *workers, timeout=60)
    assert result.ret == -signal.SIGTERM  # the signal still ends the process
    data = json.loads(report.read_text())
    verdicts = {t["nodeid"].split("::")[-1]: t["verdict"] for t in data["tests"]}
    assert verdicts == {"test_leaks": "leak", "test_clean": "clean"}
    assert any("stopped by SIGTERM after 2 checked tests" in n for n in data["notes"])


def test_a_report_path_that_cannot_be_written_stops_the_run_before_it_starts(pytester):
    pytester.makepyfile(test_mod=LEAKY)
    (pytester.path / "a_file").write_text("")
    result = pytester.runpytest_subprocess("--leak-forensics",
                                           "--leak-forensics-json=a_file/report.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: leak-forensics: --leak-forensics-json: cannot "
                                 "create */a_file: *"])
    assert "Traceback" not in result.stderr.str()
    result.stdout.no_fnmatch_line("*passed*")  # no test ran for a report never written


def test_missing_directories_of_the_report_are_made(pytester):
    pytester.makepyfile(test_mod="def test_a():\n    pass\n")
    result = pytester.runpytest_subprocess("--leak-forensics",
                                           "--leak-forensics-json=out/deep/report.json")
    assert result.ret == pytest.ExitCode.OK
    assert json.loads((pytester.path / "out/deep/report.json").read_text())["tests"]


def test_a_report_that_cannot_be_written_at_the_end_fails_the_run(pytester):
    # The directory is replaced during the run (by a clean-up script, say): the tests
    # pass, but CI relies on the file, so the run does not pass quietly.
    pytester.makepyfile(test_mod="""
import shutil
def test_replaces_the_report_directory_with_a_file():
    shutil.rmtree("out")
    open("out", "w").close()
""")
    result = pytester.runpytest_subprocess("--leak-forensics",
                                           "--leak-forensics-json=out/report.json")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stderr.fnmatch_lines(["ERROR: leak-forensics: could not write the JSON report "
                                 "to out/report.json: *"])


def test_dead_weak_proxies_in_sys_modules_and_globals_break_no_step(run_forensics, pytester):
    # A template loader puts weak proxies into sys.modules; once their referent is gone,
    # any attribute access (isinstance included) raises ReferenceError.
    pytester.makeconftest("""
import sys, weakref
class Loader:
    pass
sys.modules["_dead_proxy_module"] = weakref.proxy(Loader())
""")
    pytester.makepyfile(test_mod=LEAKY + """
import functools, weakref
class Gone:
    pass
DEAD = weakref.proxy(Gone())
_m = itertools.count()

@functools.lru_cache(maxsize=64)
def bounded(n):
    return [n]

def test_bounded_cache_fills():
    bounded(next(_m))
""")
    result, data, verdicts = run_forensics()
    assert result.ret == 0
    assert verdicts["test_leaks"]["verdict"] == "leak"
    assert verdicts["test_leaks"]["owners"][0]["root"] == "test_mod._HOLD"
    assert verdicts["test_bounded_cache_fills"]["verdict"] == "clean"  # the cache was found
    assert data["notes"] == []


def test_a_test_that_takes_the_interpreters_hooks_away_is_run_and_checked(pytester):
    # attrs' suite deletes sys._getframe to test its fallback; the plugin read the stack
    # through sys at each phase and ended the run with an INTERNALERROR.
    pytester.makepyfile(test_mod=LEAKY + """
import sys

def test_without_getframe(monkeypatch):
    monkeypatch.delattr(sys, "_getframe")
    monkeypatch.delattr(sys, "getallocatedblocks")
    assert not hasattr(sys, "_getframe")
""")
    report = pytester.path / "report.json"
    result = pytester.runpytest_subprocess("--leak-forensics", f"--leak-forensics-json={report}",
                                           "-p", "no:cacheprovider", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    verdicts = {t["nodeid"].split("::")[-1]: t["verdict"]
                for t in json.loads(report.read_text())["tests"]}
    assert verdicts == {"test_leaks": "leak", "test_clean": "clean",
                        "test_without_getframe": "clean"}


def test_a_measuring_step_that_fails_leaves_the_outcome_and_the_run_alone(pytester):
    # Fault injection: the span's end breaks during one test's own run.
    pytester.makeconftest("""
from leak_forensics import probe

_read = probe.Probe._since_mark

def since_mark(self, *args):
    if _broken[0]:
        raise RuntimeError("span broke")
    return _read(self, *args)

_broken = [False]
probe.Probe._since_mark = since_mark

import pytest

@pytest.fixture
def breaks():
    _broken[0] = True
    yield
    _broken[0] = False
""")
    pytester.makepyfile(test_mod=LEAKY + """
def test_broken(breaks):
    assert 1 + 1 == 3
""")
    report = pytester.path / "report.json"
    result = pytester.runpytest_subprocess("--leak-forensics", f"--leak-forensics-json={report}",
                                           "-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=1)  # the failing test still fails, nothing else
    assert "INTERNALERROR" not in result.stdout.str()
    tests = {t["nodeid"].split("::")[-1]: t for t in json.loads(report.read_text())["tests"]}
    assert tests["test_broken"]["verdict"] == "error"
    notes = tests["test_broken"]["notes"]
    assert any("internal error: RuntimeError: span broke" in note for note in notes)
    assert tests["test_leaks"]["verdict"] == "leak"
