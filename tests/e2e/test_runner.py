"""``leak-forensics run``: the demo suite with memory over the whole run, its tables,
timeline and samples, the run in the history, and the alert on a second run."""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leak_forensics.history.store import HistoryStore

DEMO = Path(__file__).parents[2] / "examples" / "demo"
LEAKING = ["tests/test_leaks.py::test_quote_memo_grows",
           "tests/test_leaks.py::test_order_audit_trail",
           "tests/test_leaks.py::test_listener_registered_per_test"]
ANOTHER_LEAK = """
_SEEN = []
def test_remembers_every_call():
    _SEEN.append(bytearray(2048))
"""


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns("*.json", "__pycache__",
                                                              ".leak-forensics"))
    return copy


def _runner(cwd: Path, *args: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *python, "-m", "leak_forensics", "run", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


def test_the_demo_run_reports_draws_samples_and_records_then_alerts(demo, history_url):
    done = _runner(demo, "--sample-interval", "0.1", "--history", history_url)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "tests run: 9 (9 passed)" in out
    assert "RSS at first test" in out and "\nmain " in out
    assert "growth rate: " in out and "Theil-Sen" in out
    assert "RSS grew most during:" in out
    assert "leaks found: 3" in out and all(nodeid in out for nodeid in LEAKING)
    png = demo / ".leak-forensics" / "timeline.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    with open(demo / ".leak-forensics" / "samples.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["time", "rss", "pid", "process", "nodeid"]
    assert len(rows) >= 10 and all(int(row["rss"]) > 0 for row in rows)
    times = [float(row["time"]) for row in rows]
    assert times == sorted(times)
    assert {row["nodeid"] for row in rows} & set(LEAKING)  # 0.1 s samples meet the slow tests
    assert "history: run 1 in " in out and "with its samples" in out

    store = HistoryStore(history_url, create=False)
    try:
        assert len(store.samples(1)) == len(rows)
        run = store.run(1)
        assert run["peak_rss"] > 0 and run["growth_rate"] is not None
        assert {t["nodeid"] for t in store.tests(1) if t["verdict"] == "leak"} == set(LEAKING)
        assert all(t["duration"] is not None and t["rss_end"] > 0 for t in store.tests(1))
    finally:
        store.close()

    (demo / "tests" / "test_more.py").write_text(ANOTHER_LEAK)
    worse = _runner(demo, "--history", history_url, "--",
                    "--leak-forensics-compare-fail=new_leaks:0")
    assert worse.returncode == 6, worse.stdout[-3000:] + worse.stderr
    assert ("leak-forensics: ALERT new_leaks:0: 1 new leak since run 1: "
            "tests/test_more.py::test_remembers_every_call") in worse.stdout
    assert "leaks found: 4" in worse.stdout
    compared = subprocess.run([sys.executable, "-m", "leak_forensics", "compare", "--history",
                               history_url], cwd=demo, capture_output=True, text=True)
    assert "run 2 compared with run 1" in compared.stdout
    assert "tests/test_more.py::test_remembers_every_call" in compared.stdout


def test_under_xdist_each_worker_is_a_line_of_its_own(demo, tmp_path):
    done = _runner(demo, "-n", "2", "-k", "not audit", "--history", "off",
                   "--sample-interval", "0.1")
    assert done.returncode == 0, done.stderr
    assert "tests run: 8 (8 passed)" in done.stdout
    assert "\ngw0 " in done.stdout and "\ngw1 " in done.stdout
    with open(demo / ".leak-forensics" / "samples.csv", newline="") as handle:
        processes = {row["process"] for row in csv.DictReader(handle)}
    assert {"gw0", "gw1", "pytest"} <= processes  # the controller runs no test
    assert "history:" not in done.stdout


BLOCK_MATPLOTLIB = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "matplotlib":
            raise ImportError("no matplotlib here")
sys.meta_path.insert(0, Block())
from leak_forensics.cli import main
sys.exit(main())
"""


def test_without_matplotlib_the_runner_says_how_and_still_writes_the_samples(demo):
    done = subprocess.run([sys.executable, "-c", BLOCK_MATPLOTLIB, "run", "--history", "off",
                           "tests/test_clean.py"], cwd=demo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert ("timeline: not drawn: pip install 'pytest-leak-forensics[plots]' for the picture"
            in done.stdout)
    assert (demo / ".leak-forensics" / "samples.csv").is_file()
    assert not (demo / ".leak-forensics" / "timeline.png").exists()


@pytest.mark.parametrize("args, message", [
    (["--sample-interval", "0"], "'0' is not an interval in seconds"),
    (["-n", "many"], "'many' is not a number of workers"),
    (["--history", "nosuchdb://x"], None),
])
def test_bad_runner_options_are_one_line(demo, args, message):
    done = _runner(demo, *args, "tests/test_clean.py")
    if message is None:  # pytest's own: the history is lost, the run is not
        assert done.returncode == 0 and "was not recorded in the history" in done.stdout
        return
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
