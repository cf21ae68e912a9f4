"""CI alerts: a run compared with an earlier one fails with its own exit status when it
got worse, and stays quiet when nothing changed; ``leak-forensics compare`` shows both."""

import json
import subprocess
import sys

import pytest

CLEAN = """
_CACHE = {}
def test_cached():
    _CACHE.setdefault("k", [1] * 100)
def test_clean():
    assert sum(range(10)) == 45
"""
NEW_LEAK = """
_KEPT = []
def test_new_leak():
    _KEPT.append({"payload": [1] * 50})
"""
ALERTS = ["--leak-forensics-compare-fail=new_leaks", "--leak-forensics-compare-fail=peak_rss",
          "--leak-forensics-compare-fail=growth_rate", "--leak-forensics-compare-fail=retained"]


def _run(pytester, url, *args):
    report = pytester.path / "report.json"
    result = pytester.runpytest_subprocess(
        "--leak-forensics", "-p", "no:cacheprovider", "-p", "no:xdist",
        f"--leak-forensics-history={url}", f"--leak-forensics-json={report}", *args)
    return result, json.loads(report.read_text()) if report.exists() else None


def _cli(pytester, url, *args):
    return subprocess.run([sys.executable, "-m", "leak_forensics", *args, "--history", url],
                          cwd=pytester.path, capture_output=True, text=True)


def test_an_unchanged_suite_does_not_alert_and_a_new_leak_does(pytester, history_url):
    pytester.makepyfile(test_base=CLEAN)
    first, report = _run(pytester, history_url, *ALERTS)
    assert first.ret == pytest.ExitCode.OK
    assert "no earlier run in the history to compare with" in " ".join(report["notes"])
    same, report = _run(pytester, history_url, *ALERTS)
    assert same.ret == pytest.ExitCode.OK, same.stdout.str()
    same.stdout.fnmatch_lines(["run 2 compared with run 1", "*no leak is new or gone*",
                               "ok: new_leaks:0: 0 new leaks since run 1"])
    assert report["history"]["compared_with"] == 1 and report["history"]["alerts"] == []

    pytester.makepyfile(test_new=NEW_LEAK)
    worse, report = _run(pytester, history_url, *ALERTS)
    assert worse.ret == 6
    worse.stdout.fnmatch_lines([
        "*new leaks:*", "*test_new.py::test_new_leak: * per run at test_new.py:3*",
        "leak-forensics: ALERT new_leaks:0: 1 new leak since run 2: "
        "test_new.py::test_new_leak*",
        "leak-forensics: exit status 6: a --leak-forensics-compare-fail condition held"])
    assert report["history"]["run"] == 3
    assert [a.split(":")[0] for a in report["history"]["alerts"]] == ["new_leaks"]
    worse.assert_outcomes(passed=3)  # the tests themselves still pass

    shown = _cli(pytester, history_url, "compare")
    assert shown.returncode == 0, shown.stderr
    assert "run 3 compared with run 2" in shown.stdout and "new leaks:" in shown.stdout
    failed = _cli(pytester, history_url, "compare", "1", "3", "--json", "--fail", "new_leaks:0")
    assert failed.returncode == 1, failed.stderr
    data = json.loads(failed.stdout)
    assert (data["base"], data["run"]) == (1, 3)
    assert [leak["tests"] for leak in data["new_leaks"]] == [["test_new.py::test_new_leak"]]
    assert data["alerts"][0]["holds"] is True
    listed = json.loads(_cli(pytester, history_url, "history", "--json").stdout)
    assert [(r["id"], r["exit_status"], r["leaks"]) for r in listed] == [
        (3, 6, 1), (2, 0, 0), (1, 0, 0)]


def test_a_failing_suite_keeps_its_own_exit_status(pytester, tmp_path):
    url = f"sqlite:///{tmp_path}/h.db"
    pytester.makepyfile(test_base=CLEAN)
    _run(pytester, url)
    pytester.makepyfile(test_new=NEW_LEAK + "\ndef test_fails():\n    assert False\n")
    result, report = _run(pytester, url, "--leak-forensics-compare-fail=new_leaks:0")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert report["history"]["alerts"]


@pytest.mark.parametrize("args, message", [
    (["--leak-forensics-compare-fail=rss:5%"], "--leak-forensics-compare-fail: 'rss:5%' is "
                                               "not an alert"),
    (["--leak-forensics-compare=abc"], "--leak-forensics-compare: 'abc' is not a run id"),
    (["--leak-forensics-history=off", "--leak-forensics-compare"],
     "needs the history, which is switched off"),
])
def test_a_bad_alert_option_is_a_one_line_usage_error(pytester, args, message):
    pytester.makepyfile(test_base=CLEAN)
    result = pytester.runpytest_subprocess("--leak-forensics", "-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_compare_needs_two_runs_and_says_so_in_one_line(pytester, tmp_path):
    url = f"sqlite:///{tmp_path}/h.db"
    pytester.makepyfile(test_base=CLEAN)
    _run(pytester, url)
    done = _cli(pytester, url, "compare")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"leak-forensics: error: {url} holds 1 run; compare needs two"]
    missing = _cli(pytester, url, "compare", "1", "7")
    assert missing.returncode == 2 and "has no run 7" in missing.stderr
