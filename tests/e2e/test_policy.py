"""Options, markers and the promise never to change an outcome unless asked."""

import pytest

LEAKY = """
import pytest
_KEEP = []
def test_leaks():
    _KEEP.append(bytearray(400))
def test_clean():
    pass
"""


def leaky_with(marker: str, name: str = "test_leaks") -> str:
    """One leaking test under ``marker``."""
    return f"""
import pytest
_KEEP = []
{marker}
def {name}():
    _KEEP.append(bytearray(400))
"""


def test_report_only_by_default(run_forensics, pytester):
    pytester.makepyfile(test_mod=LEAKY)
    result, _, verdicts = run_forensics()
    assert result.ret == 0
    assert verdicts["test_leaks"]["verdict"] == "leak"
    assert verdicts["test_clean"]["verdict"] == "clean"


def test_fail_option_fails_only_leaking_tests(run_forensics, pytester):
    pytester.makepyfile(test_mod=LEAKY)
    result, _, _ = run_forensics("--leak-forensics-fail")
    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*this test leaks*"])


def test_fail_from_ini(run_forensics, pytester):
    pytester.makepyfile(test_mod=LEAKY)
    pytester.makeini("[pytest]\nleak_forensics_fail = true\n")
    result, _, _ = run_forensics()
    result.assert_outcomes(passed=1, failed=1)


def test_marker_overrides_suite_fail(run_forensics, pytester):
    pytester.makepyfile(test_mod=leaky_with("@pytest.mark.leak_forensics(fail=False)"))
    result, _, verdicts = run_forensics("--leak-forensics-fail")
    assert verdicts["test_leaks"]["verdict"] == "leak"
    result.assert_outcomes(passed=1)


def test_marker_repeat(run_forensics, pytester):
    pytester.makepyfile(test_mod=leaky_with('@pytest.mark.leak_forensics(repeat="2:4")'))
    _, _, verdicts = run_forensics()
    entry = verdicts["test_leaks"]
    assert entry["repeat"] == "2:4"
    assert len(entry["deltas"]["blocks"]) == 4 or len(entry["deltas"]["malloc"]) == 4


def test_no_leak_check_marker(run_forensics, pytester):
    pytester.makepyfile(test_mod=leaky_with(
        '@pytest.mark.no_leak_check(reason="warms a global pool on purpose")', name="test_pool"))
    result, _, verdicts = run_forensics()
    assert verdicts["test_pool"]["verdict"] == "not-checked"
    result.stdout.fnmatch_lines(["*not-checked*test_pool*warms a global pool on purpose*"])


def test_plugin_is_silent_and_inactive_without_the_flag(pytester):
    pytester.makepyfile(test_mod=LEAKY)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert "leak forensics" not in result.stdout.str()


def test_a_run_without_the_flag_imports_none_of_the_engine(pytester):
    """Every pytest run in an environment with the plugin installed loads its front; the
    engine, the analysis, the reporters and the history's store wait for the flag."""
    pytester.makepyfile(test_mod="""
import sys

ENGINE = ("analysis", "measure", "probe", "results", "reporters", "snapshot", "verdict")

def test_loaded_modules():
    loaded = sorted(m for m in sys.modules if m.startswith("leak_forensics."))
    assert "leak_forensics.plugin" in loaded
    engine = [m for m in loaded if m.split(".")[1] in ENGINE or m in (
        "leak_forensics.plugin.session", "leak_forensics.history.store")]
    assert engine == [], loaded
""")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_disabled_with_p_no(pytester):
    pytester.makepyfile(test_mod=LEAKY)
    result = pytester.runpytest_subprocess("-p", "no:leak_forensics", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize("args, message", [
    (["--leak-forensics-repeat=3"], "repeat must look like W:N"),
    (["--leak-forensics-repeat=0:3"], "must be >= 1"),
    (["--leak-forensics-repeat=1:1"], "N must be >= 2"),
    (["--leak-forensics-threshold=lots"], "--leak-forensics-threshold must be a size"),
    (["--leak-forensics-threshold=0"], "must be at least 1 byte"),
    (["--leak-forensics-cleanup-skip=bogus"], "unknown cleanup step 'bogus'"),
    (["--leak-forensics-budget=half"], "must be a number"),
])
def test_bad_option_is_one_clear_error(pytester, args, message):
    pytester.makepyfile(test_mod="def test_a():\n    pass\n")
    result = pytester.runpytest_subprocess("--leak-forensics", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: leak-forensics: *{message}*"])
    assert "Traceback" not in result.stderr.str()


BAD_MARKERS = """
import pytest
@pytest.mark.leak_forensics(repeats="1:3")
def test_a():
    pass
@pytest.mark.leak_forensics(fail="bogus")
def test_b():
    pass
def test_c():
    pass
"""


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_bad_markers_are_all_reported_in_one_line_each(pytester, workers):
    # Under xdist the workers collect: an error raised there was 35 INTERNALERROR lines.
    pytester.makepyfile(test_mod=BAD_MARKERS)
    report = pytester.path / "report.json"
    result = pytester.runpytest_subprocess("--leak-forensics", f"--leak-forensics-json={report}",
                                           "-p", "no:cacheprovider", *workers)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert errors == [
        "ERROR: leak-forensics: test_mod.py::test_a: leak_forensics marker: unknown "
        "argument(s) repeats (allowed: repeat, threshold, fail)",
        "ERROR: leak-forensics: test_mod.py::test_b: leak_forensics(fail=) must be true or "
        "false, got 'bogus'"]
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output and "Traceback" not in output
    assert "leak forensics" not in output  # no empty summary before the error
    assert not report.exists()
    result.assert_outcomes()  # nothing ran


def test_bad_ini_value_is_one_clear_error(pytester):
    pytester.makeini("[pytest]\nleak_forensics = maybe\n")
    pytester.makepyfile(test_mod="def test_a():\n    pass\n")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*leak_forensics in tox.ini must be true or false*"])


def test_user_cleanup_hook_clears_a_warm_cache(run_forensics, pytester):
    pytester.makeconftest("""
import app_cache
def pytest_leak_forensics_cleanup(config):
    app_cache.CACHE.clear()
""")
    pytester.makepyfile(app_cache="CACHE = {}\n", test_mod="""
import itertools, app_cache
_n = itertools.count()
def test_it():
    app_cache.CACHE[next(_n)] = [0] * 50
""")
    _, _, verdicts = run_forensics()
    assert verdicts["test_it"]["verdict"] == "clean"


def test_internal_error_is_a_warning_not_a_failure(run_forensics, pytester):
    pytester.makeconftest("""
import leak_forensics.probe as probe
def boom(*a, **k):
    raise RuntimeError("simulated")
probe.Probe.investigate = boom
""")
    pytester.makepyfile(test_mod=LEAKY)
    result, data, verdicts = run_forensics("--leak-forensics-all")
    result.assert_outcomes(passed=2, warnings=2)
    assert verdicts["test_leaks"]["verdict"] == "error"
    assert any("simulated" in note for note in data["notes"])


def test_json_report_follows_the_contract(run_forensics, pytester):
    pytester.makepyfile(test_mod=LEAKY)
    _, data, _ = run_forensics()
    assert [t["nodeid"] for t in data["tests"]] == ["test_mod.py::test_leaks",
                                                    "test_mod.py::test_clean"]
    for entry in data["tests"]:
        assert {"nodeid", "verdict", "sites", "types", "owners", "resources"} <= set(entry)
        for site in entry["sites"]:
            assert {"filename", "lineno", "size_diff", "count_diff", "traceback"} <= set(site)
            assert {"filename", "lineno"} <= set(site["traceback"][0])
        for kind in entry["types"]:
            assert {"type", "count_diff"} <= set(kind)


SLOW_LEAK = """
import time
_KEPT = []
def test_slow_leak():
    time.sleep(0.6)
    _KEPT.append([len(_KEPT)])
"""


def test_a_slow_suspect_is_confirmed_and_pinpointed_by_default(run_forensics, pytester):
    pytester.makepyfile(test_mod=SLOW_LEAK)
    result, data, verdicts = run_forensics()
    entry = verdicts["test_slow_leak"]
    assert entry["verdict"] == "leak", entry
    assert data["settings"]["budget"] is None
    assert entry["sites"][0]["lineno"] == 5, entry["sites"]
    assert not any("budget" in note for note in entry["notes"])


def test_a_suspect_over_an_opted_in_budget_is_unconfirmed_not_clean(run_forensics,
                                                                      pytester):
    # One test: repeating it costs all of the tests' time, over any share below 1,
    # whatever the machine's speed.
    pytester.makepyfile(test_mod=SLOW_LEAK.replace("0.6", "0.05"))
    result, data, verdicts = run_forensics("--leak-forensics-budget=0.25")
    entry = verdicts["test_slow_leak"]
    assert entry["verdict"] == "unconfirmed", entry
    assert entry["runs"] == 1  # not repeated
    assert data["settings"]["budget"] == 0.25
    assert any("confirmation budget" in note for note in entry["notes"])
    result.stdout.fnmatch_lines(["unconfirmed: *test_slow_leak*budget*"])


ALLOWED_SUITE = """
import itertools
_n = itertools.count()
_METRICS = []
_OTHER = []

class Sample:
    def __init__(self, n):
        self.values = [n] * 4

def test_accepted():
    _METRICS.append(Sample(next(_n)))

def test_not_accepted():
    _OTHER.append([next(_n)] * 4)
"""


def test_allowlisted_leaks_are_known_not_counted_and_never_fail(run_forensics, pytester):
    pytester.makepyfile(test_mod=ALLOWED_SUITE)
    pytester.makeini("[pytest]\nleak_forensics_allow =\n    root:test_mod._METRICS*\n")
    result, data, verdicts = run_forensics("--leak-forensics-fail")
    assert verdicts["test_accepted"]["verdict"] == "known-leak", verdicts["test_accepted"]
    assert verdicts["test_accepted"]["known"] == {
        "rule": "root:test_mod._METRICS*", "source": "allowlist", "reason": ""}
    assert verdicts["test_not_accepted"]["verdict"] == "leak"
    assert data["summary"]["leak"] == 1 and data["summary"]["known_leak"] == 1
    result.assert_outcomes(passed=1, failed=1)  # only the leak that is not accepted fails
    result.stdout.fnmatch_lines([
        "known leaks (allowed, or of a library; not counted):",
        "*test_mod.py::test_accepted: * per run at test_mod.py:*, allowlist rule "
        "root:test_mod._METRICS*",
    ])


def test_an_allowlist_by_site_must_cover_every_site(run_forensics, pytester):
    pytester.makepyfile(test_mod=ALLOWED_SUITE)
    # Sample's list is allocated at line 8, the Sample itself at line 11: one site only.
    _, _, verdicts = run_forensics("--leak-forensics-allow=site:test_mod.py:8")
    assert verdicts["test_accepted"]["verdict"] == "leak"
    _, _, verdicts = run_forensics("--leak-forensics-allow=site:test_mod.py:8",
                                   "--leak-forensics-allow=site:test_mod.py:11")
    assert verdicts["test_accepted"]["verdict"] == "known-leak"


def test_a_malformed_allowlist_entry_is_one_clear_error(pytester):
    pytester.makepyfile(test_mod="def test_it():\n    pass\n")
    result = pytester.runpytest_subprocess("--leak-forensics", "--leak-forensics-allow=cache",
                                           "-p", "no:cacheprovider")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*leak allowlist entry 'cache' must look like KIND:GLOB*"])
    assert "Traceback" not in result.stderr.str()


def test_a_known_library_leak_is_reported_apart(run_forensics, pytester):
    # SQLAlchemy keeps each new statement in its engine's cache (up to 500): its
    # users cannot fix that, so a built-in rule names it instead of failing them.
    pytester.makepyfile(test_mod="""
import itertools
from sqlalchemy import create_engine, text
ENGINE = create_engine("sqlite://")
_n = itertools.count()

def test_query():
    n = next(_n)
    with ENGINE.connect() as conn:
        assert conn.execute(text(f"select {n}")).scalar() == n
""")
    result, _, verdicts = run_forensics("--leak-forensics-fail")
    entry = verdicts["test_query"]
    assert entry["verdict"] == "known-leak", entry
    assert entry["known"]["source"] == "built-in"
    assert entry["known"]["rule"] == "root:*._compiled_cache*"
    assert all(o["root"] == "test_mod.ENGINE" for o in entry["owners"]), entry["owners"]
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_query: * per run at test_mod.py:*, built-in rule "
                                 "root:*._compiled_cache* — SQLAlchemy's per-engine*"])


@pytest.mark.parametrize("option", ["--leak-forensics-json=report.json",
                                    "--leak-forensics-fail"])
def test_any_option_of_the_plugin_on_the_command_line_switches_it_on(pytester, option):
    # Ignored, they left CI without the report it relies on, or leaks unfailed.
    pytester.makepyfile(test_mod=LEAKY)
    result = pytester.runpytest_subprocess(option, "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*leak forensics*", "2 tests: 1 leaking, 1 clean"])
    if "json" in option:
        assert (pytester.path / "report.json").exists()
    else:
        result.assert_outcomes(passed=1, failed=1)


def test_no_leak_forensics_wins_over_the_ini_and_other_options(pytester):
    pytester.makeini("[pytest]\nleak_forensics = true\nleak_forensics_fail = true\n")
    pytester.makepyfile(test_mod=LEAKY)
    result = pytester.runpytest_subprocess("--no-leak-forensics", "--leak-forensics-fail",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*leak forensics*")


def test_ini_settings_alone_do_not_switch_it_on(pytester):
    pytester.makeini("[pytest]\nleak_forensics_fail = true\n")
    pytester.makepyfile(test_mod=LEAKY)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*leak forensics*")


def test_a_suite_using_the_markers_collects_with_the_plugin_off(pytester):
    pytester.makepyfile(test_mod="""
import pytest
@pytest.mark.leak_forensics(fail=True)
@pytest.mark.no_leak_check(reason="slow")
@pytest.mark.memory_intensive
def test_a():
    pass
""")
    result = pytester.runpytest_subprocess("-p", "no:leak_forensics", "--strict-markers",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_an_ini_value_error_names_the_ini_key(pytester):
    pytester.makeini("[pytest]\nleak_forensics_threshold = lots\n")
    pytester.makepyfile(test_mod="def test_a():\n    pass\n")
    result = pytester.runpytest_subprocess("--leak-forensics")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: leak-forensics: leak_forensics_threshold in tox.ini "
                                 "must be a size such as 512, 10K or 10 MB, got 'lots'"])


THRESHOLD_SUITE = """
import pytest
_KEEP = []
def test_small_leak():
    _KEEP.append(bytearray(300))
@pytest.mark.leak_forensics(threshold="100 KiB", fail=True)
def test_small_leak_under_its_marker():
    _KEEP.append(bytearray(300))
def test_big_leak():
    _KEEP.append(bytearray(20_000))
"""


@pytest.mark.parametrize("threshold", ["10000", "10K", "10 KB", "9.8KiB"])
def test_the_threshold_is_the_least_memory_per_run_a_leak_keeps(run_forensics, pytester,
                                                                  threshold):
    pytester.makepyfile(test_mod=THRESHOLD_SUITE)
    result, data, verdicts = run_forensics(f"--leak-forensics-threshold={threshold}")
    result.assert_outcomes(passed=3)  # under its threshold, fail=True fails nothing
    for name in ("test_small_leak", "test_small_leak_under_its_marker"):
        entry = verdicts[name]
        assert entry["verdict"] == "clean", entry
        assert any(n.startswith("kept 3") and "under the threshold of " in n
                   for n in entry["notes"]), entry["notes"]
        assert entry["sites"] == entry["types"] == [] and entry["size_per_run"] == 0
    big = verdicts["test_big_leak"]
    assert big["verdict"] == "leak" and big["size_per_run"] >= 20_000
    assert data["settings"]["threshold"] >= 10_000
    result.stdout.no_fnmatch_line("*leaks 0 B*")


def test_each_outcome_is_in_the_report_and_a_change_on_repeating_is_said(run_forensics,
                                                                          pytester):
    pytester.makepyfile(test_mod="""
import itertools
_n = itertools.count()
def test_fails():
    assert False
def test_fails_only_the_first_time():
    assert next(_n) > 0
def test_passes():
    pass
""")
    result, data, verdicts = run_forensics("--leak-forensics-all")
    result.assert_outcomes(passed=1, failed=2)  # the own runs'; repetitions change nothing
    assert verdicts["test_fails"]["outcome"] == "failed"
    assert not any("outcome" in n for n in verdicts["test_fails"]["notes"])
    assert verdicts["test_passes"]["outcome"] == "passed"
    once = verdicts["test_fails_only_the_first_time"]
    assert once["outcome"] == "failed"
    assert any(n.startswith("the outcome changed when repeated: its own run failed; "
                            "repetitions ") and "passed" in n for n in once["notes"]), once
    summary = data["summary"]
    assert summary["tests"] == 3 == sum(summary[v] for v in (
        "leak", "known_leak", "clean", "inconclusive", "unconfirmed", "skipped",
        "not_checked", "error"))


def test_help_names_what_each_option_takes(pytester):
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--no-leak-forensics *", "*--leak-forensics-json=PATH*",
                                 "*--leak-forensics-threshold=SIZE*",
                                 "*--no-leak-forensics-owners*"])
    result.stdout.no_fnmatch_line("*=LEAK_FORENSICS_*")
    result.stdout.fnmatch_lines(["*leak_forensics_fail (bool):*"])
