"""The run's memory: the robust growth fit, per-process figures and samples' tests."""

import pytest

from leak_forensics.analysis.memory_trend import run_memory, tag_samples, theil_sen
from leak_forensics.measure.sampler import Sample
from leak_forensics.results import TestMemory, TestResult, Verdict

MIB = 1 << 20


def _result(nodeid: str, process: str, index: int, rss_end: int, pid: int = 10,
            rss_start: int | None = None) -> TestResult:
    return TestResult(nodeid, Verdict.CLEAN, memory=TestMemory(
        process, pid, 1000.0 + index, 1000.5 + index, 0.5,
        rss_end if rss_start is None else rss_start, rss_end, rss_end))


def test_the_fit_follows_the_trend_not_one_jump():
    ys = [100.0 + 10 * x for x in range(20)]
    ys[5:] = [y + 5000 for y in ys[5:]]  # one test loads a big fixture
    line = theil_sen(range(20), ys)
    assert line is not None and line.slope == pytest.approx(10)
    assert (ys[-1] - ys[0]) / 19 > 250  # what end minus start would have said


def test_too_few_points_have_no_fit():
    assert theil_sen([1, 2], [5, 6]) is None
    assert theil_sen([1, 1, 1], [5, 6, 7]) is None


def test_a_long_run_is_thinned_to_a_bounded_number_of_points():
    line = theil_sen(range(10_000), [3.0 * x for x in range(10_000)])
    assert line is not None and line.slope == pytest.approx(3)


def test_per_test_growth_does_not_depend_on_how_many_workers_share_the_tests():
    serial = [_result(f"t{i}", "main", i, 50 * MIB + 1000 * i) for i in range(12)]
    parallel = [_result(f"t{i}", f"gw{i % 2}", i // 2, 50 * MIB + 1000 * (i // 2), pid=i % 2)
                for i in range(12)]
    one, two = run_memory(serial), run_memory(parallel)
    assert one is not None and two is not None
    assert one.per_test == pytest.approx(1000) and two.per_test == pytest.approx(1000)
    assert [p.process for p in two.processes] == ["gw0", "gw1"]
    assert [p.tests for p in two.processes] == [6, 6]
    assert two.per_minute == pytest.approx(2 * 1000 * 60)  # both processes fill the machine


def test_the_tests_during_which_rss_grew_most_come_first():
    results = [_result("small", "main", 0, 110, rss_start=100),
               _result("big", "main", 1, 5000, rss_start=110),
               _result("shrank", "main", 2, 100, rss_start=5000)]
    memory = run_memory(results)
    assert memory is not None
    assert memory.grew_most == [("big", 4890), ("small", 10)]
    assert (memory.processes[0].rss_start, memory.processes[0].rss_end) == (100, 100)
    assert memory.peak == 5000


def test_no_memory_recorded_is_no_figure():
    assert run_memory([TestResult("t", Verdict.NOT_CHECKED)]) is None


def test_each_sample_is_tagged_with_the_test_its_process_ran():
    results = [_result("a", "gw0", 0, 1, pid=1), _result("b", "gw0", 1, 1, pid=1),
               _result("c", "gw1", 0, 1, pid=2)]
    samples = [Sample(1000.2, 1, 5), Sample(1000.7, 1, 6), Sample(1001.2, 1, 7),
               Sample(1000.2, 2, 8), Sample(1000.2, 3, 9), Sample(999.0, 1, 4)]
    tagged = tag_samples(samples, results, start=999.0)
    assert [(s.process, s.nodeid) for s in tagged] == [
        ("gw0", "a"), ("gw0", None), ("gw0", "b"), ("gw1", "c"), ("pytest", None),
        ("gw0", None)]
    assert tagged[0].time == pytest.approx(1.2)
