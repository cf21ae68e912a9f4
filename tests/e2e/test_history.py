"""Each run with the checks is recorded in the history, once, without ever costing the run."""

import json
import subprocess
import sys

import pytest

SUITE = """
_KEEP = []
def test_leaks():
    _KEEP.append([1] * 10)
def test_clean():
    pass
"""


def _history(cwd, *args):
    return subprocess.run([sys.executable, "-m", "leak_forensics", "history", *args],
                          cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize("workers", [("-p", "no:xdist"), ("-n", "2")], ids=["serial", "xdist"])
def test_a_run_is_recorded_once_with_its_verdicts_and_tags(pytester, workers):
    pytester.makepyfile(test_mod=SUITE)
    result = pytester.runpytest_subprocess("--leak-forensics", "-p", "no:cacheprovider",
                                           "--leak-forensics-tag", "job=unit", *workers)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["leak-forensics: recorded as run 1 in sqlite:///*"
                                 "/.leak-forensics/history.db"])
    listed = _history(pytester.path, "--json")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    assert [(r["id"], r["leaks"], r["tags"], r["outcomes"]) for r in runs] == [
        (1, 1, {"job": "unit"}, {"passed": 2})]
    table = _history(pytester.path)
    assert "job=unit" in table.stdout and table.returncode == 0


def test_switched_off_nothing_is_written(pytester, monkeypatch):
    pytester.makepyfile(test_mod=SUITE)
    monkeypatch.setenv("LEAK_FORENSICS_HISTORY", "off")
    result = pytester.runpytest_subprocess("--leak-forensics", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert not (pytester.path / ".leak-forensics").exists()
    assert "recorded as run" not in result.stdout.str()


def test_a_store_that_cannot_be_used_costs_the_history_not_the_run(pytester):
    pytester.makepyfile(test_mod=SUITE)
    report = pytester.path / "report.json"
    result = pytester.runpytest_subprocess(
        "--leak-forensics", "-p", "no:cacheprovider", "-p", "no:xdist",
        "--leak-forensics-history=postgresql+psycopg://nobody@127.0.0.1:9/none",
        f"--leak-forensics-json={report}")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2, warnings=1)
    notes = json.loads(report.read_text())["notes"]
    assert any(n.startswith("this run was not recorded in the history: ") for n in notes)
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_history_of_a_project_with_none_is_one_line(pytester):
    listed = _history(pytester.path)
    assert listed.returncode == 2
    assert listed.stderr.startswith("leak-forensics: error: no history at ")
    assert listed.stderr.count("\n") == 1
