"""``@pytest.mark.isolated``: a test run in a fresh interpreter, reported as if it had
run in place, its memory never the parent's."""

ISOLATED = """
import os
import psutil
import pytest

_KEEP = []
RSS = {}

def rss():
    return psutil.Process().memory_info().rss

def test_before():
    RSS["before"] = rss()

@pytest.fixture
def answer():
    print("fixture set up in the child")
    return 42

@pytest.mark.isolated
def test_keeps_300_mb(answer):
    _KEEP.append(bytearray(300 * 2**20))
    assert answer == 42

def test_after():
    grown = rss() - RSS["before"]
    print(f"parent grew {grown >> 20} MiB")
    assert grown < 10 * 2**20, grown

@pytest.mark.isolated
def test_fails():
    assert 1 + 1 == 3, "arithmetic is broken"

@pytest.mark.isolated(timeout=120)
def test_crashes():
    os._exit(3)

@pytest.mark.isolated(timeout=2)
def test_hangs():
    import time
    time.sleep(120)
"""


def test_isolated_tests_report_in_place_and_leave_the_parents_memory_alone(pytester):
    pytester.makepyfile(test_iso=ISOLATED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", "-rA")
    result.assert_outcomes(passed=3, failed=3)
    out = result.stdout.str()
    assert "PASSED test_iso.py::test_after" in out  # the 300 MB stayed in the child
    assert "fixture set up in the child" in out
    result.stdout.fnmatch_lines(["*peak RSS of the test's process: 3*MiB*"])
    assert "AssertionError: arithmetic is broken" in out
    result.stdout.fnmatch_lines([
        "FAILED test_iso.py::test_crashes - isolated: the test's process exited*",
        "FAILED test_iso.py::test_hangs - isolated: the test's process did not*"])
    assert "exited with status 3 before the test finished" in out
    assert "did not finish within 2 s and was killed" in out


def test_without_the_marker_the_memory_is_the_parents(pytester):
    """The control: the same suite run in place fails its check on the parent's RSS."""
    pytester.makepyfile(test_iso=ISOLATED.replace("@pytest.mark.isolated\ndef test_keeps",
                                                  "def test_keeps"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist",
                                           "-k", "before or keeps or after")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_iso.py::test_after*"])


def test_a_bad_marker_argument_is_a_usage_error(pytester):
    pytester.makepyfile(test_iso="""
import pytest
@pytest.mark.isolated(timeout="soon")
def test_it():
    pass
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*leak-forensics: test_iso.py::test_it: isolated(timeout=...) "
                                 "must be a positive number of seconds, got 'soon'"])
    assert "Traceback" not in result.stderr.str()


LEAKS = """
import pytest
_KEEP = []

@pytest.mark.isolated
def test_leaks_in_its_child():
    _KEEP.append(bytearray(4096))  # LEAK

@pytest.mark.isolated
def test_clean_in_its_child():
    assert sum(range(10)) == 45

def test_in_place():
    pass
"""


def test_an_isolated_test_is_checked_in_its_child(run_forensics, pytester):
    pytester.makepyfile(test_iso=LEAKS)
    result, data, verdicts = run_forensics()
    result.assert_outcomes(passed=3)
    entry = verdicts["test_leaks_in_its_child"]
    assert entry["verdict"] == "leak", entry
    line = next(n for n, text in enumerate(
        (pytester.path / "test_iso.py").read_text().splitlines(), 1) if "# LEAK" in text)
    assert [f"{s['filename']}:{s['lineno']}" for s in entry["sites"]][:1] == [
        f"test_iso.py:{line}"]
    assert "isolated: checked in a process of its own" in entry["notes"]
    assert verdicts["test_clean_in_its_child"]["verdict"] == "clean"
    assert verdicts["test_in_place"]["verdict"] == "clean"
    assert len(data["tests"]) == 3


def test_an_isolated_tests_verdict_crosses_xdist(run_forensics, pytester):
    pytester.makepyfile(test_iso=LEAKS)
    result, _, verdicts = run_forensics("-n", "2", xdist=True)
    result.assert_outcomes(passed=3)
    assert verdicts["test_leaks_in_its_child"]["verdict"] == "leak"
    assert verdicts["test_clean_in_its_child"]["verdict"] == "clean"
