"""The ``leak-forensics`` command line: ``report`` renders a saved JSON report."""

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leak_forensics import cli, errors


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leak_forensics", *args],
                          capture_output=True, text=True)


def test_report_renders_what_the_plugin_saved(run_forensics, pytester):
    pytester.makepyfile(test_mod="""
_KEPT = []
def test_clean():
    pass
def test_leaks():
    _KEPT.append([len(_KEPT)])
""")
    _, data, _ = run_forensics()
    path = str(pytester.path / "leak-report.json")
    done = run_cli("report", path)
    assert done.returncode == 0, done.stderr
    assert "2 tests: 1 leaking, 1 clean" in done.stdout
    assert "test_mod.py::test_leaks leaks" in done.stdout
    assert "test_mod.py:5" in done.stdout  # the allocating line, as pytest showed it
    assert run_cli("report", "--fail-on-leak", path).returncode == 1


def test_fail_on_leak_passes_a_clean_report(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"format": "leak-forensics-report", "format_version": 1,
                                "tests": [{"nodeid": "t.py::a", "verdict": "clean"}]}))
    done = run_cli("report", "--fail-on-leak", str(path))
    assert done.returncode == 0
    assert "1 test: 1 clean" in done.stdout


BAD = {
    "missing": None,
    "empty": "",
    "not json": "{not json",
    "binary": "\udcff\x00",
    "a list": "[]",
    "wrong format": '{"format": "something-else", "format_version": 1, "tests": []}',
    "newer version": '{"format": "leak-forensics-report", "format_version": 99, "tests": []}',
    "tests not a list": '{"format": "leak-forensics-report", "format_version": 1, "tests": {}}',
    "entry not a dict": '{"format": "leak-forensics-report", "format_version": 1, "tests": [3]}',
    "entry without verdict": ('{"format": "leak-forensics-report", "format_version": 1, '
                              '"tests": [{"nodeid": "x"}]}'),
    "bad site": ('{"format": "leak-forensics-report", "format_version": 1, "tests": '
                 '[{"nodeid": "x", "verdict": "leak", "sites": [{"bogus": 1}]}]}'),
    "deeply nested": "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_report_is_one_line_and_exit_2(tmp_path, name):
    path = tmp_path / "r.json"
    if BAD[name] is not None:
        path.write_bytes(BAD[name].encode("utf-8", "surrogateescape"))
    done = run_cli("report", str(path))
    assert done.returncode == 2, done
    assert done.stderr.startswith("leak-forensics: error: ")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_usage_error_exits_2():
    assert run_cli("frobnicate").returncode == 2
    assert run_cli().returncode == 2


def test_help_on_each_subcommand():
    done = run_cli("report", "--help")
    assert done.returncode == 0 and "REPORT.json" in done.stdout


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
                    max_leaves=20)
ENTRY_KEYS = ["nodeid", "verdict", "sites", "types", "owners", "resources", "deltas", "runs",
              "notes", "garbage", "size_per_run"]


@settings(max_examples=300, deadline=None)
@given(tests=st.lists(st.dictionaries(st.sampled_from(ENTRY_KEYS), JSON), max_size=3),
       extra=st.dictionaries(st.sampled_from(["summary", "notes", "format_version"]), JSON))
def test_any_report_shaped_input_is_rendered_or_rejected_cleanly(tmp_path_factory, tests,
                                                                 extra):
    path = tmp_path_factory.mktemp("fuzz") / "r.json"
    document = {"format": "leak-forensics-report", "format_version": 1, "tests": tests}
    document.update(extra)
    path.write_text(json.dumps(document))
    try:
        code = cli.main(["report", str(path)])
    except errors.ReportError:  # pragma: no cover - main() must turn these into 2
        pytest.fail("ReportError escaped main()")
    assert code in (0, 2)
