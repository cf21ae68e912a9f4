"""``leak-forensics diff/show/convert`` on snapshots from the API, the plugin and pickles."""

import json
import re
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from leak_forensics.snapshot import model
from leak_forensics.snapshot.model import Snapshot


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leak_forensics", *args],
                          capture_output=True, text=True, cwd=cwd)


def take_two(tmp_path: Path) -> tuple[str, str]:
    """Snapshots from the library API in a fresh process, around a leak at cache.py:4."""
    (tmp_path / "cache.py").write_text(textwrap.dedent("""\
        _MEMO = {}

        class Entry:
            def __init__(self, n): self.payload = [n] * 50

        def remember(n):
            _MEMO[n] = Entry(n)
    """))
    # cache is imported before tracing starts: setuptools' import hook allocates a
    # few strings as long as the directory's path while importing it and frees them
    # later, which would read as shrinkage under program.py's import line.
    (tmp_path / "program.py").write_text(textwrap.dedent("""\
        import cache
        import tracemalloc
        tracemalloc.start(10)
        import leak_forensics
        before = leak_forensics.take_snapshot(label="before")
        for n in range(200):
            cache.remember(n)
        after = leak_forensics.take_snapshot(label="after")
        before.save("before.lfsnap")
        after.save("after.lfsnap")
    """))
    subprocess.run([sys.executable, "program.py"], cwd=tmp_path, check=True)
    return str(tmp_path / "before.lfsnap"), str(tmp_path / "after.lfsnap")


def test_diff_of_api_snapshots_names_the_line_and_the_type(tmp_path):
    before, after = take_two(tmp_path)
    done = run_cli("diff", before, after, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first_row = done.stdout.split("-\n", 1)[1].splitlines()[0]
    assert first_row.endswith("cache.py:4")  # the list of 50, the largest growth
    assert "cache.Entry" in done.stdout
    data = json.loads(run_cli("diff", before, after, "--json", "--limit", "0").stdout)
    assert data["total"]["size_diff"] > 200 * 50 * 8
    grown = {(Path(s["frames"][0]["filename"]).name, s["frames"][0]["lineno"]): s["count_diff"]
             for s in data["sites"]}
    assert grown[("cache.py", 4)] >= 200
    assert {t["type"]: t["count_diff"] for t in data["types"]}["cache.Entry"] == 200
    # What the first take_snapshot imports (platform, hashlib, ...) is not growth the
    # program made: it must not show between the two snapshots (it was ~28 KB).
    by_file = json.loads(run_cli("diff", before, after, "--json", "--key", "filename",
                                 "--limit", "0").stdout)["sites"]
    imports = sum(s["size_diff"] for s in by_file if "importlib" in s["frames"][0]["filename"])
    assert imports < 4096, by_file


def test_fail_over_and_filters(tmp_path):
    before, after = take_two(tmp_path)
    assert run_cli("diff", before, after, "--fail-over", "1G").returncode == 0
    over = run_cli("diff", before, after, "--fail-over", "10 KB")
    assert over.returncode == 1
    # Sizes for people, both of them.
    assert re.fullmatch(r"leak-forensics: traced memory grew by \d+\.\d KiB, over "
                        r"--fail-over 10\.0 KiB\n", over.stderr), over.stderr
    only_cache = json.loads(run_cli("diff", before, after, "--json", "--include",
                                    "*cache.py", "--limit", "0").stdout)
    assert {Path(s["frames"][0]["filename"]).name for s in only_cache["sites"]} == {"cache.py"}
    without = json.loads(run_cli("diff", before, after, "--json", "--exclude",
                                 "*cache.py").stdout)
    assert "cache.py" not in {Path(s["frames"][0]["filename"]).name for s in without["sites"]}
    by_file = {Path(s["frames"][0]["filename"]).name: s["size_diff"] for s in json.loads(
        run_cli("diff", before, after, "--json", "--key", "filename", "--limit", "0").stdout
    )["sites"]}
    by_line = {(Path(s["frames"][0]["filename"]).name, s["frames"][0]["lineno"]): s["size_diff"]
               for s in json.loads(run_cli("diff", before, after, "--json", "--key", "lineno",
                                           "--limit", "0", "--cumulative").stdout)["sites"]}
    # Cumulative: the loop in program.py (line 7) is charged with what cache.py allocated
    # for it. (Not the whole file: what ``import leak_forensics`` made before the first
    # snapshot and freed after it counts against program.py too.)
    assert by_line[("program.py", 7)] >= by_file["cache.py"] > by_file.get("program.py", 0)


def test_show_prints_metadata_sites_and_types(tmp_path):
    _, after = take_two(tmp_path)
    done = run_cli("show", after, "--key", "traceback", "--limit", "3", "--include",
                   "*cache.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "label: after" in done.stdout and "traceback_limit: 10" in done.stdout
    assert "program.py:7\ncache.py:7\ncache.py:4\n" in done.stdout.replace(" ", "")
    assert len(json.loads(run_cli("show", after, "--json").stdout)["sites"]) == 10
    data = json.loads(run_cli("show", after, "--json", "--limit", "0").stdout)
    assert data["meta"]["label"] == "after" and len(data["sites"]) > 10
    assert any(t["type"] == "cache.Entry" and t["count"] >= 200 for t in data["types"])


def test_usage_and_input_errors_exit_2_in_one_line(tmp_path):
    before, after = take_two(tmp_path)
    for args in (["diff", before, str(tmp_path / "missing.lfsnap")],
                 ["diff", before, str(tmp_path / "cache.py")],
                 ["diff", before, after, "--fail-over", "10TB"],
                 ["diff", before, after, "--key", "traceback", "--cumulative"],
                 ["diff", before, after, "--limit", "-1"],
                 ["show", after, "--limit", "ten"],
                 ["show", str(tmp_path / "program.py")]):
        done = run_cli(*args)
        assert done.returncode == 2, args
        # One line saying what is wrong; the usage block is --help's, not the error's.
        assert "Traceback" not in done.stderr
        assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith(
            "leak-forensics"), done.stderr


def pickled(tmp_path: Path) -> tuple[Path, tracemalloc.Snapshot]:
    traces = [(0, 10 + i, (("/app/a.py", i % 4), ("/app/main.py", 3)), 2) for i in range(100)]
    original = tracemalloc.Snapshot(traces, 2)
    path = tmp_path / "old.pickle"
    original.dump(path)
    return path, original


def test_convert_refuses_a_pickle_unless_trusted(tmp_path):
    source, original = pickled(tmp_path)
    target = tmp_path / "old.lfsnap"
    refused = run_cli("convert", str(source), str(target))
    assert refused.returncode == 2 and "--trust-pickle" in refused.stderr
    assert not target.exists()
    assert "--trust-pickle" in run_cli("show", str(source)).stderr  # never unpickled there

    done = run_cli("convert", "--trust-pickle", str(source), str(target))
    assert done.returncode == 0, done.stderr
    converted = model.load(target)
    assert converted.to_tracemalloc().statistics("traceback") == original.statistics("traceback")
    assert converted.meta["converted_from"] == "old.pickle"

    again = run_cli("convert", "--trust-pickle", str(source), str(target))
    assert again.returncode == 2 and "exists" in again.stderr
    assert run_cli("convert", "--trust-pickle", "--force", str(source),
                   str(target)).returncode == 0


@pytest.mark.parametrize("where", ["missing/dir/out.lfsnap", "a_file/out.lfsnap", "."])
def test_convert_to_a_place_that_cannot_be_written_is_one_line_and_exit_2(tmp_path, where):
    source, _ = pickled(tmp_path)
    (tmp_path / "a_file").write_text("")
    done = run_cli("convert", "--trust-pickle", "--force", str(source),
                   str(tmp_path / where))
    assert done.returncode == 2  # 1 would mean "a --fail condition held"
    assert done.stderr.startswith("leak-forensics: error: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr and ".tmp" not in done.stderr
    assert str(tmp_path / where) in done.stderr  # the target, not a temporary file


def test_convert_rejects_pickles_of_other_things(tmp_path):
    import pickle
    path = tmp_path / "other.pickle"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    done = run_cli("convert", "--trust-pickle", str(path), str(tmp_path / "out"))
    assert done.returncode == 2 and "not a tracemalloc snapshot" in done.stderr
    lfsnap = tmp_path / "s.lfsnap"
    Snapshot.from_traces([], 1).save(lfsnap)
    done = run_cli("convert", "--trust-pickle", str(lfsnap), str(tmp_path / "out"))
    assert done.returncode == 2 and "already" in done.stderr


def test_every_subcommand_has_help():
    for command in ("report", "diff", "show", "convert"):
        done = run_cli(command, "--help")
        assert done.returncode == 0 and "usage: leak-forensics " + command in done.stdout


LEAKY_SUITE = """
import pytest
_KEPT = []

def test_clean():
    assert [n for n in range(10)]

@pytest.mark.parametrize("name", ["a/b:c*d"])
def test_leaks(name):
    _KEPT.append([name, len(_KEPT)])
"""


def test_plugin_saves_the_snapshots_behind_a_leak_verdict(run_forensics, pytester):
    pytester.makepyfile(test_mod=LEAKY_SUITE)
    _, data, verdicts = run_forensics("--leak-forensics-save=snaps")
    leak = next(t for t in data["tests"] if "test_leaks" in t["nodeid"])
    assert leak["verdict"] == "leak"
    assert verdicts["test_clean"]["snapshots"] == {}
    before, after = leak["snapshots"]["before"], leak["snapshots"]["after"]
    assert Path(before).parent.name == "snaps"
    assert Path(before).name.startswith("test_mod.py_test_leaks_a_b_c_d-")
    done = json.loads(run_cli("diff", str(pytester.path / before), str(pytester.path / after),
                              "--json", cwd=pytester.path).stdout)
    top = done["sites"][0]["frames"][0]
    assert (Path(top["filename"]).name, top["lineno"]) == ("test_mod.py", 9)
    # Before the first measured run and after the last: three runs' worth.
    assert done["total"]["count_diff"] == 3 * leak["count_per_run"]
    assert done["new"]["meta"]["test"] == leak["nodeid"]
    assert {t["type"]: t["count_diff"] for t in done["types"]}["list"] >= 3


def test_plugin_can_save_every_tests_snapshots(run_forensics, pytester):
    pytester.makepyfile(test_mod=LEAKY_SUITE)
    _, data, verdicts = run_forensics("--leak-forensics-save=snaps", "--leak-forensics-save-all")
    assert verdicts["test_clean"]["verdict"] == "clean"
    assert set(verdicts["test_clean"]["snapshots"]) == {"before", "after"}
    assert len(list((pytester.path / "snaps").iterdir())) == 4


def test_save_all_needs_a_directory(run_forensics, pytester):
    pytester.makepyfile(test_mod=LEAKY_SUITE)
    result, _, _ = run_forensics("--leak-forensics-save-all")
    assert result.ret == 4  # usage error
    result.stderr.fnmatch_lines(["*--leak-forensics-save-all needs --leak-forensics-save=DIR*"])
