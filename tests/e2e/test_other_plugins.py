"""Repetitions are invisible to other plugins: only the test's own run is reported."""

import json
import xml.etree.ElementTree as ET

CONFTEST = """
import pytest
from _pytest.junitxml import xml_key

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # What hypothesis does for every report: a property on the whole junit-xml run.
    yield
    xml = item.config.stash.get(xml_key, None)
    if xml is not None:
        xml.add_global_property("made-report", f"{item.name}:{call.when}")
"""


def test_a_plugin_acting_on_every_report_sees_only_the_tests_own_run(run_forensics, pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_mod="""
_KEEP = []
def test_leaks():
    _KEEP.append([0] * 10)
def test_clean():
    assert sum(range(10)) == 45
def test_grows_once():
    if not _KEEP:
        _KEEP.append(1)
""")
    junit = pytester.path / "junit.xml"
    _, _, verdicts = run_forensics(f"--junitxml={junit}")
    assert verdicts["test_leaks"]["verdict"] == "leak"
    assert verdicts["test_leaks"]["runs"] > 1  # it was repeated
    assert verdicts["test_clean"]["verdict"] == "clean"
    assert verdicts["test_grows_once"]["verdict"] == "clean"
    made = [p.get("value") for p in ET.parse(junit).iter("property")
            if p.get("name") == "made-report"]
    assert sorted(made) == sorted(f"{name}:{when}"
                                  for name in ("test_leaks", "test_clean", "test_grows_once")
                                  for when in ("setup", "call", "teardown"))


def test_property_based_tests_are_judged_like_any_other(run_forensics, pytester,
                                                       monkeypatch):
    """hypothesis runs each ``@given`` test over many examples and keeps state of its own
    between runs; a clean property stays clean, run after run, and a property that leaks
    into the project's code is still found, with junit-xml on as CI runs it (and with
    hypothesis's plugin, which adds to the junit-xml of every report)."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:postgresql")
    pytester.makepyfile(test_props="""
from hypothesis import given, settings, strategies as st

_SEEN = []

@settings(max_examples=20)
@given(st.lists(st.integers()))
def test_sorting_is_idempotent(xs):
    assert sorted(sorted(xs)) == sorted(xs)

@settings(max_examples=20)
@given(st.text())
def test_remembers_every_example(text):
    _SEEN.append([text] * 3)
""")
    junit = pytester.path / "junit.xml"
    runs = [run_forensics(f"--junitxml={junit}")[2] for _ in range(2)]
    for verdicts in runs:
        assert verdicts["test_sorting_is_idempotent"]["verdict"] == "clean"
        leak = verdicts["test_remembers_every_example"]
        assert leak["verdict"] == "leak"
        assert any(o["root"] == "test_props._SEEN" for o in leak["owners"])


def test_a_clean_property_is_not_repeated_for_what_hypothesis_keeps_on_its_first_run(
        run_forensics, pytester, monkeypatch):
    """On a ``@given`` test's first run hypothesis execs a module for its signature,
    caches the example database's paths for its keys and keeps statistics on the item,
    none of which a second run adds to: every property test read as a suspect and was
    repeated (all 59 of attrs' own suite). Its engine is harness; the screen counts what
    the examples keep. The handle gets its own ``inner_test`` back."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:postgresql")
    pytester.makepyfile(test_props="""
from hypothesis import given, settings, strategies as st

def test_warm_up():
    pass

@settings(max_examples=30)
@given(st.lists(st.integers()))
def test_sorting(xs):
    assert sorted(sorted(xs)) == sorted(xs)

@settings(max_examples=30)
@given(st.text(), st.booleans())
def test_stripping(text, flag):
    assert text.strip() == text.strip().strip()

@settings(max_examples=30)
@given(a=st.integers(), b=st.integers())
def test_adding(a, b):
    assert a + b == b + a

def test_inner_test_is_given_back():
    for test in (test_sorting, test_stripping, test_adding):
        assert not hasattr(test.hypothesis.inner_test, "__wrapped__")
""")
    result, _, verdicts = run_forensics()
    result.assert_outcomes(passed=5)
    for name in ("test_sorting", "test_stripping", "test_adding"):
        assert verdicts[name]["verdict"] == "clean"
        assert verdicts[name]["runs"] == 1, (name, verdicts[name]["screen"])


def test_subtest_reports_reach_other_plugins_as_the_test_logged_them(pytester, run_forensics):
    # The reports are held out of the measurement and logged after the verdict; what
    # other plugins then see must be what the test made (through pytest's own serialisable
    # form a subtest's parameters came back quoted once more: ``n='7'`` for ``n=7``).
    pytester.makeconftest("""
import json, os
SEEN = []
def pytest_runtest_logreport(report):
    context = getattr(report, "context", None)
    if context is not None:
        SEEN.append([report.outcome, context.msg, dict(context.kwargs),
                     type(report).__name__, report.head_line])
def pytest_sessionfinish(session):
    with open(os.environ["SEEN_FILE"], "w") as out:
        json.dump(SEEN, out)
""")
    pytester.makepyfile(test_mod="""
import unittest
class T(unittest.TestCase):
    def test_it(self):
        for n in (7, 8):
            with self.subTest("part", n=n, name="x"):
                self.assertLess(n, 8)
""")
    seen = {}
    for label, plugin in (("plain", False), ("checked", True)):
        out = pytester.path / f"{label}.json"
        pytester._monkeypatch.setenv("SEEN_FILE", str(out))
        if plugin:
            run_forensics()
        else:
            pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
        seen[label] = json.loads(out.read_text())
    assert [entry[:2] for entry in seen["plain"]] == [["passed", "part"], ["failed", "part"]]
    assert seen["checked"] == seen["plain"]


def test_a_subtest_report_that_cannot_be_pickled_is_still_logged(pytester, run_forensics):
    # A user property pickle cannot write (a lambda): the report is held whole, counted,
    # and the test is confirmed by repetition instead of trusted on its screen.
    pytester.makepyfile(test_mod="""
import unittest
import pytest

@pytest.fixture
def prop(record_property):
    record_property("how", lambda: 0)

def test_first():  # the session's first test is always confirmed
    pass

@pytest.mark.usefixtures("prop")
class T(unittest.TestCase):
    def test_it(self):
        with self.subTest(n=1):
            pass
""")
    result, _, verdicts = run_forensics("-q")  # -q: the summary counts passed subtests
    result.stdout.fnmatch_lines(["2 passed, 1 subtests passed in *"])
    assert verdicts["test_it"]["verdict"] == "clean"
    assert verdicts["test_it"]["runs"] > 1
