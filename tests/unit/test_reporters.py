"""Both reporters on one run: the terminal summary's lines, and JSON that reads back."""

import json

import pytest

from leak_forensics.errors import ReportError
from leak_forensics.reporters.json_report import JsonReporter, read
from leak_forensics.reporters.run import Run, render_report
from leak_forensics.reporters.terminal import TerminalReporter
from leak_forensics.results import (
    CollectedGarbage,
    Known,
    Owner,
    Resource,
    Site,
    TestResult,
    TypeGrowth,
    Verdict,
)

OWNER = Owner("list", "app._MEMO", "app._MEMO['k'] -> list", "app._MEMO['k']",
              "app._MEMO[...]", 3, 3, "app.py:4", "0123456789abcdef")


def run() -> Run:
    leak = TestResult(
        "t.py::test_leak", Verdict.LEAK, runs=7, repeat="1:3",
        sites=[Site("app.py", 4, 296, 4, (("app.py", 4), ("/lib/x.py", 9)), "_MEMO[k] = []")],
        types=[TypeGrowth("list", 2)], owners=[OWNER],
        resources=[Resource("thread", "poller (poll) started at app.py:9, still alive")],
        size_per_run=296, count_per_run=4, deltas={"blocks": [4, 4, 4]},
        cyclic_garbage=[CollectedGarbage("dict", 2, "app.py:5")])
    known = TestResult("t.py::test_known", Verdict.KNOWN, size_per_run=100,
                       known=Known("root:app.*", "allowlist"))
    return Run([leak, known, TestResult("t.py::test_clean", Verdict.CLEAN)],
               notes=["a note"], suspects=2)


def test_terminal_summary():
    text = TerminalReporter().render(run())
    assert "3 tests: 1 leaking, 1 known leak, 1 clean\n" in text
    assert "2 tests were re-run to confirm what their own run kept (suspects); 0 of them came " \
        "out clean" in text
    assert "t.py::test_leak leaks 296 B (4 blocks) per run" in text
    assert "app.py:4" in text and "_MEMO[k] = []" in text
    assert "the leak begins at app._MEMO[...]:\n" in text  # the same on every run
    assert "3 of 3 sampled list, allocated at app.py:4: _MEMO['k'] -> list" in text
    assert "thread: poller (poll) started at app.py:9, still alive" in text
    assert "t.py::test_known: 100 B (0 blocks) per run, allowlist rule root:app.*" in text
    assert "2 dict at app.py:5" in text[text.index("cyclic garbage"):]
    assert "leak-forensics note: a note" in text


def test_json_reads_back_what_it_wrote(tmp_path):
    path = tmp_path / "deep" / "report.json"
    render_report(JsonReporter(), run(), str(path))
    data = json.loads(path.read_text())
    assert data["summary"] == {"tests": 3, "leak": 1, "known_leak": 1, "clean": 1,
                               "inconclusive": 0, "unconfirmed": 0, "skipped": 0,
                               "not_checked": 0, "error": 0, "suspects": 2}
    assert data["leak_groups"][0]["tests"] == ["t.py::test_leak"]
    assert data["tests"][0]["sites"][0]["traceback"][1] == {"filename": "/lib/x.py",
                                                            "lineno": 9}
    saved = read(str(path))
    assert saved.results == list(run().results)
    assert (saved.notes, saved.suspects) == (["a note"], 2)


def test_a_malformed_entry_is_one_line(tmp_path):
    path = tmp_path / "r.json"
    document = json.loads(JsonReporter().render(run()))
    document["tests"][0]["sites"][0]["lineno"] = "four"
    path.write_text(json.dumps(document))
    with pytest.raises(ReportError, match="malformed test entry .*'lineno' must be int"):
        read(str(path))


@pytest.mark.parametrize(("deltas", "expected"), [
    ({"blocks": [4, 5, 4], "malloc": [0, 0, 0]}, "leaks 4 blocks (untraced) per run"),
    ({"blocks": [0, 0, 0], "malloc": [9000, 8192, 8192]},
     "leaks 8.0 KiB of C memory (untraced) per run"),
    ({"blocks": [3, 1, 2], "threads": [1, 1, 1]}, "leaks 1 block and 1 thread (untraced)"),
])
def test_a_leak_without_traced_figures_shows_what_grew(deltas, expected):
    result = TestResult("t.py::test_x", Verdict.LEAK, deltas=deltas,
                        notes=["allocation sites not traced for this test"])
    text = TerminalReporter().render(Run([result]))
    assert expected in text
    assert "0 B" not in text


def summary_lines(results, settings=None) -> list[str]:
    from leak_forensics.reporters.terminal import _Lines, write_summary
    out = _Lines()
    write_summary(out, results, [], 0, settings=settings)
    return out.lines


def leaking(name: str, size: int, **extra) -> TestResult:
    return TestResult(f"t.py::{name}", Verdict.LEAK, runs=4, outcome="passed",
                      sites=[Site("app.py", size, size, 1, (("app.py", size),), "x")],
                      size_per_run=size, count_per_run=1, owners=[OWNER], **extra)


def test_details_follow_the_tables_order_and_a_failed_leak_is_described_once():
    from leak_forensics.settings import Settings
    small, big = leaking("test_small", 10), leaking("test_big", 900)
    failed = leaking("test_failed", 500, fail=True)
    lines = summary_lines([small, failed, big], Settings(fail=True))
    headers = [line.split(" leaks ")[0] for line in lines if " leaks " in line
               and line.startswith("t.py::")]
    assert headers == ["t.py::test_big", "t.py::test_small"]  # largest first, as the table
    assert ("1 test failed because it leaks (--leak-forensics-fail; described under "
            "FAILURES): t.py::test_failed") in lines


def test_next_steps_say_how_to_fail_accept_and_compare():
    from leak_forensics.settings import Settings
    lines = summary_lines([leaking("test_a", 100)], Settings())
    assert any(line.startswith("fail the run on leaks (for CI): --leak-forensics-fail")
               for line in lines)
    assert any("leak_forensics_allow = root:app._MEMO*" in line for line in lines)
    assert any("--leak-forensics-save=DIR, then leak-forensics diff" in line for line in lines)
    # A saved report read back has no settings: no advice about how it was run.
    assert not any("fail the run" in line for line in summary_lines([leaking("test_a", 1)]))


@pytest.mark.parametrize(("root", "path", "expected"), [
    ("myapp.cache._MEMO", "myapp.cache._MEMO['a4'].payload -> list", "_MEMO['a4'].payload -> list"),
    ("thread Worker-1, frame _serve() at w.py:15, local 'seen'",
     "thread Worker-1, frame _serve() at w.py:15, local 'seen'[4][0] -> Job", "seen[4][0] -> Job"),
    ("kit.writer closure 'cache'", "kit.writer closure 'cache'.data[0] -> X", "cache.data[0] -> X"),
    ("held outside Python", "held outside Python -> method", "held outside Python -> method"),
])
def test_owner_paths_read_like_code(root, path, expected):
    from leak_forensics.reporters.terminal import short_path
    assert short_path(Owner("t", root, path, None, path, 1, 1, None, "0" * 16)) == expected
