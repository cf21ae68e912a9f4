"""The ``memory_monitor`` fixture: there with or without the leak checks, warning once
when a test grows the process past its threshold."""

import pytest

GROWS = """
import pytest
_KEEP = []

@pytest.mark.memory_monitor(threshold="8 MB")
def test_keeps_32_mb(memory_monitor):
    _KEEP.append(b"x" * (32 << 20))  # written, so its pages are resident
    assert memory_monitor.delta >= 16 << 20
    assert memory_monitor.rss_now() - memory_monitor.rss_before == pytest.approx(
        memory_monitor.delta, abs=1 << 20)

def test_keeps_little(memory_monitor):
    _KEEP.append([0] * 100)
    assert memory_monitor.rss_before > 0
"""


def _growth_warnings(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "MemoryGrowthWarning: " in line]


@pytest.mark.parametrize("forensics", [(), ("--leak-forensics", "-p", "no:xdist")],
                         ids=["plain", "with-leak-forensics"])
def test_a_test_over_its_threshold_warns_once_and_one_under_it_does_not(pytester, forensics):
    pytester.makepyfile(test_mod=GROWS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *forensics)
    result.assert_outcomes(passed=2)
    warned = _growth_warnings(result)
    # Repetitions of the leaking test grow too; they are the plugin's, and say nothing.
    assert len(warned) == 1, result.outlines
    assert "test_keeps_32_mb: memory grew by" in warned[0]
    assert "over the memory_monitor threshold of 8.0 MiB" in warned[0]
    assert not any("test_keeps_little: memory grew" in line for line in result.outlines)


def test_the_ini_threshold_applies_and_warnings_can_fail_the_run(pytester):
    pytester.makeini("[pytest]\nleak_forensics_monitor_threshold = 1 MiB\n")
    pytester.makepyfile(test_mod="""
_KEEP = []
def test_keeps_16_mb(memory_monitor):
    _KEEP.append(b"y" * (16 << 20))
""")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "error::leak_forensics.MemoryGrowthWarning")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*MemoryGrowthWarning*test_keeps_16_mb*1.0 MiB*"])


def test_traced_memory_is_there_when_tracemalloc_traces(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONTRACEMALLOC", "1")
    pytester.makepyfile(test_mod="""
_KEEP = []
def test_traced(memory_monitor):
    _KEEP.append([bytes(100) for _ in range(10_000)])
    assert memory_monitor.traced_delta >= 100 * 10_000
""")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    monkeypatch.delenv("PYTHONTRACEMALLOC")
    pytester.makepyfile(test_mod="""
def test_untraced(memory_monitor):
    assert memory_monitor.traced_delta is None
""")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.parametrize("ini, marker, message", [
    ("lots", "", "leak_forensics_monitor_threshold in tox.ini must be a size such as 512, 10K"),
    ("", '(threshold="big")', "memory_monitor(threshold=) must be a size"),
    ("", '("50 MB")', "memory_monitor marker takes one keyword argument, threshold"),
], ids=["ini", "marker-size", "marker-args"])
def test_a_bad_threshold_is_one_usage_error(pytester, ini, marker, message):
    if ini:
        pytester.makefile(".ini", tox=f"[pytest]\nleak_forensics_monitor_threshold = {ini}\n")
    pytester.makepyfile(test_mod=f"""
import pytest
{"@pytest.mark.memory_monitor" + marker if marker else ""}
def test_a(memory_monitor):
    pass
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0], result.stderr.lines
    assert "Traceback" not in result.stderr.str()


def test_under_xdist_a_bad_marker_errors_its_test_in_one_line(pytester):
    # A worker's usage error would be an INTERNALERROR in the controller.
    pytester.makepyfile(test_mod="""
import pytest
@pytest.mark.memory_monitor(threshold="big")
def test_a(memory_monitor):
    pass
def test_b(memory_monitor):
    pass
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["leak-forensics: test_mod.py::test_a: memory_monitor("
                                 "threshold=) must be a size*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert "Traceback" not in result.stdout.str()
