"""One leak that every test shares, through a library's test client: reported once,
analysed once, and the two tests that also leak on their own still found apart
(``examples/shared_leak``: 200 tests, a WeakKeyDictionary whose values hold their keys)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from leak_forensics.analysis import patterns

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shared_leak"


@pytest.fixture
def shared_leak_suite(pytester):
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True)
    return pytester


def test_a_leak_every_test_shares_is_one_leak_analysed_once(run_forensics, shared_leak_suite):
    result, report, verdicts = run_forensics()
    assert result.ret == 0
    assert {t["verdict"] for t in report["tests"]} == {"leak"}
    holder, *others = report["leak_groups"]
    assert len(holder["tests"]) == 200
    assert holder["root"] == "streamkit.testing.text_writer"
    assert holder["where"] == "streamkit.testing.text_writer closure 'cache'.data[...]"
    # Every type piling up there, the one only C holds (the wrapper's decoder) included.
    assert {"_io.BytesIO", "_io.TextIOWrapper",
            "encodings.utf_8.IncrementalDecoder"} <= set(holder["types"])
    assert {"streamkit/testing.py:11", "streamkit/_compat.py:26"} <= set(holder["sites"])
    assert holder["why"] == patterns.WEAK_KEYS
    # The two tests that also leak elsewhere: each a leak of its own.
    apart = {g["tests"][0].split("::")[1]: sorted(g["sites"]) for g in others}
    assert apart == {"test_remember_grows_the_history": ["streamkit/commands.py:22"],
                     "test_render_a_new_value_each_time": [
                         "streamkit/commands.py:28", "tests/test_commands.py:47"]}
    for name in apart:
        assert verdicts[name]["same_leak_as"] is None
    # Analysed once: later tests are recognised by their holder, types and growth.
    first = report["tests"][0]["nodeid"]
    same = [t for t in report["tests"] if t["same_leak_as"] == first]
    assert len(same) == 197
    assert all(t["runs"] == 4 and t["owners"] and t["sites"] for t in same)
    lines = result.stdout.lines
    summary = lines.index(next(line for line in lines if "(suspects)" in line))
    assert lines[summary + 2].startswith(
        "leak shared by 200 tests into streamkit.testing.text_writer closure 'cache'")
    # Described in full once, with the two that also leak elsewhere; the rest in the table.
    described = [line.split(" leaks ")[0].split("::")[1] for line in lines
                 if line.startswith("tests/test_commands.py::") and " leaks " in line]
    table_order = sorted(report["tests"], key=lambda t: -t["size_per_run"])
    assert described == [t["nodeid"].split("::")[1] for t in table_order
                         if t["same_leak_as"] is None]
    assert sorted(described) == sorted([first.split("::")[1], *apart])
