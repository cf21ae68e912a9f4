"""CI alerts on the change between two recorded runs."""

import pytest

from leak_forensics.analysis.alerts import check, parse_alert
from leak_forensics.analysis.run_compare import compare
from leak_forensics.errors import BadInput

MIB = 1 << 20


def _runs(base_tests, run_tests, base=None, run=None):
    base_row = {"id": 1, "peak_rss": 100 * MIB, "growth_rate": 1000.0, **(base or {})}
    run_row = {"id": 2, "peak_rss": 100 * MIB, "growth_rate": 1000.0, **(run or {})}
    return compare(base_row, base_tests, run_row, run_tests)


def _test(nodeid, verdict="clean", kept=0, signatures=()):
    return {"nodeid": nodeid, "verdict": verdict, "bytes_per_run": kept,
            "signatures": list(signatures), "top_sites": ["app.py:3"], "top_types": ["dict"]}


@pytest.mark.parametrize("text, key, limit, percent", [
    ("new_leaks:0", "new_leaks", 0, False),
    ("new_leaks", "new_leaks", 0, False),
    ("peak_rss:20%", "peak_rss", 20, True),
    ("peak_rss:200MB", "peak_rss", 200 * MIB, False),
    (" growth_rate : 64 KiB ", "growth_rate", 64 * 1024, False),
    ("retained", "retained", 64 * 1024, False),
])
def test_expressions_read_as_pytest_benchmarks_do(text, key, limit, percent):
    rule = parse_alert(text)
    assert (rule.key, rule.limit, rule.percent) == (key, limit, percent)


@pytest.mark.parametrize("text", ["rss:10%", "new_leaks:-1", "new_leaks:5%", "peak_rss:lots",
                                  "peak_rss:-5%", ""])
def test_a_bad_expression_is_one_line(text):
    with pytest.raises(BadInput) as raised:
        parse_alert(text)
    assert "\n" not in str(raised.value)


def test_a_new_leak_is_named_and_a_known_one_is_not_new():
    comparison = _runs([_test("t::old", "leak", 100, ["aaaa"]), _test("t::lib", "known-leak")],
                       [_test("t::old", "leak", 100, ["aaaa"]), _test("t::new", "leak", 300),
                        _test("t::lib", "known-leak")])
    outcome = check(parse_alert("new_leaks:0"), comparison)
    assert outcome.holds is True
    assert "1 new leak since run 1: t::new: 300 B per run at app.py:3 (dict)" in outcome.message
    assert check(parse_alert("new_leaks:1"), comparison).holds is False


def test_a_leak_keeps_its_identity_through_its_owner_signature_not_its_test():
    comparison = _runs([_test("t::a", "leak", 100, ["sig1"])],
                       [_test("t::a_renamed", "leak", 100, ["sig1"])])
    assert (comparison.new, comparison.gone) == ([], [])
    gone = _runs([_test("t::a", "leak", 100, ["sig1"])], [_test("t::a", "clean")]).gone
    assert [leak.key for leak in gone] == ["sig1"]


@pytest.mark.parametrize("expression, run_peak, holds", [
    ("peak_rss:20%", 119 * MIB, False), ("peak_rss:20%", 121 * MIB, True),
    ("peak_rss:10MB", 109 * MIB, False), ("peak_rss:10MB", 111 * MIB, True),
])
def test_peak_rss_alerts_by_share_or_by_size(expression, run_peak, holds):
    outcome = check(parse_alert(expression), _runs([], [], run={"peak_rss": run_peak}))
    assert outcome.holds is holds
    assert "was 100.0 MiB in run 1" in outcome.message


def test_a_figure_one_run_did_not_measure_is_not_checked():
    outcome = check(parse_alert("peak_rss"), _runs([], [], base={"peak_rss": None}))
    assert outcome.holds is None and "not measured in run 1" in outcome.message


def test_a_growth_rate_share_of_a_flat_base_is_not_checked_but_a_size_is():
    comparison = _runs([], [], base={"growth_rate": 0.0}, run={"growth_rate": 90_000.0})
    assert check(parse_alert("growth_rate:10%"), comparison).holds is None
    assert check(parse_alert("growth_rate:64KB"), comparison).holds is True


def test_retained_counts_tests_that_keep_more_than_before():
    comparison = _runs([_test("t::a", "leak", 1000), _test("t::b", "leak", 1000)],
                       [_test("t::a", "leak", 3000), _test("t::b", "leak", 1100)])
    assert [(c.nodeid, c.change) for c in comparison.tests] == [("t::a", 2000), ("t::b", 100)]
    assert check(parse_alert("retained:1KB"), comparison).holds is True
    assert check(parse_alert("retained:2KB"), comparison).holds is False
    outcome = check(parse_alert("retained:50%"), comparison)
    assert outcome.holds is True
    assert "1 test keeps more per run than in run 1: t::a" in outcome.message
