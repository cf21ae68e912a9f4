"""The history store: schema versions, writing and reading runs, concurrent writers."""

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from postgres import new_database
from sqlalchemy import create_engine

from leak_forensics.analysis.memory_trend import TaggedSample
from leak_forensics.history import schema
from leak_forensics.history.location import default_url, resolve_url
from leak_forensics.history.store import HistoryError, HistoryStore, RunRecord, TestRecord


def _run(**changes: object) -> RunRecord:
    now = datetime.now(UTC)
    values: dict = dict(started=now, finished=now, exit_status=0, outcomes={"passed": 2},
                        host="h", python="3.11", platform="linux", plugin_version="0")
    values.update(changes)
    return RunRecord(**values)


def test_a_sqlite_store_is_made_with_its_folder(tmp_path):
    HistoryStore(f"sqlite:///{tmp_path}/sub/history.db").close()
    assert (tmp_path / "sub" / "history.db").is_file()


def test_runs_come_back_newest_first_with_their_tests_and_leak_counts(history_url):
    store = HistoryStore(history_url)
    first = store.record(_run(tags={"job": "unit"}), [
        TestRecord("t.py::a", "passed", "leak", 800, 4, 4, ["t.py:3"], ["list"], ["abc"]),
        TestRecord("t.py::b", "passed", "clean")])
    second = store.record(_run(exit_status=1), [])
    runs = store.runs()
    assert [r["id"] for r in runs] == [second, first]
    assert (runs[1]["leaks"], runs[1]["tags"], runs[0]["leaks"]) == (1, {"job": "unit"}, 0)
    tests = store.tests(first)
    assert [(t["nodeid"], t["bytes_per_run"], t["top_sites"]) for t in tests] == [
        ("t.py::a", 800, ["t.py:3"]), ("t.py::b", 0, [])]
    assert [r["id"] for r in store.runs(limit=1)] == [second]
    store.close()


def test_the_schema_module_is_what_the_migrations_make(history_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    HistoryStore(history_url).close()
    with create_engine(history_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection),
                                       schema.metadata)
    assert differences == []


def test_the_head_revision_the_store_knows_is_alembics():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from leak_forensics.history import store

    config = Config()
    config.set_main_option("script_location", str(store._MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [store.HEAD]


def test_a_store_from_a_newer_version_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "history.db"
    store = HistoryStore(f"sqlite:///{path}")
    store.record(_run(), [])
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    before = path.read_bytes()
    with pytest.raises(HistoryError, match=r"written by a newer pytest-leak-forensics "
                                           r"\(schema 9999\)"):
        HistoryStore(f"sqlite:///{path}")
    assert path.read_bytes() == before
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (1,)


@pytest.mark.parametrize("url, message", [
    ("not a url", "is not a database URL"),
    ("nosuchdb://x/y", "no driver for it"),
    ("postgresql+psycopg://nobody@127.0.0.1:1/history", "127.0.0.1"),  # nothing listens
])
def test_a_bad_url_is_one_line(url, message):
    with pytest.raises(HistoryError, match=message) as raised:
        HistoryStore(url)
    assert "\n" not in str(raised.value)


def test_reading_a_store_that_is_not_there_does_not_make_one(tmp_path):
    with pytest.raises(HistoryError, match="no history at"):
        HistoryStore(f"sqlite:///{tmp_path}/history.db", create=False)
    assert not (tmp_path / "history.db").exists()


def test_the_option_wins_then_the_environment_then_the_projects_file(tmp_path):
    env = {"LEAK_FORENSICS_HISTORY": "sqlite:///from-env.db"}
    assert resolve_url("sqlite:///opt.db", tmp_path, env) == "sqlite:///opt.db"
    assert resolve_url("", tmp_path, env) == "sqlite:///from-env.db"
    assert resolve_url(None, tmp_path, {}) == default_url(tmp_path)
    assert resolve_url("off", tmp_path, env) is None
    assert resolve_url("", tmp_path, {"LEAK_FORENSICS_HISTORY": "OFF"}) is None


WRITER = """
import sys
from datetime import UTC, datetime
from leak_forensics.history.store import HistoryStore, RunRecord, TestRecord
now = datetime.now(UTC)
store = HistoryStore(sys.argv[1])
for n in range(5):
    store.record(RunRecord(now, now, 0, {}, sys.argv[2], "3", "linux", "0"),
                 [TestRecord(f"t.py::test_{i}", "passed", "clean") for i in range(20)])
"""


def test_eight_processes_writing_at_once_lose_no_run(history_url):
    url = history_url
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, url, f"w{i}"],
                                stderr=subprocess.PIPE, text=True) for i in range(8)]
    errors = [w.communicate()[1] for w in writers]
    assert [w.returncode for w in writers] == [0] * 8, errors
    store = HistoryStore(url, create=False)
    runs = store.runs()
    assert len(runs) == 40
    assert sorted({r["host"] for r in runs}) == [f"w{i}" for i in range(8)]
    assert all(len(store.tests(r["id"])) == 20 for r in runs)


def test_a_newer_postgresql_store_is_refused_and_left_as_it_was(postgresql_server):
    url = new_database(postgresql_server)
    store = HistoryStore(url)
    store.record(_run(), [])
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    store.close()
    with pytest.raises(HistoryError, match=r"newer pytest-leak-forensics \(schema 9999\)"):
        HistoryStore(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM runs").scalar() == 1
        assert connection.exec_driver_sql(
            "SELECT version_num FROM alembic_version").scalar() == "9999"
    engine.dispose()


def test_a_store_at_the_first_schema_is_brought_up_to_date_with_its_runs(history_url):
    from alembic import command
    from alembic.config import Config

    from leak_forensics.history import store as store_module

    engine = create_engine(history_url)
    config = Config()
    config.set_main_option("script_location", str(store_module._MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.exec_driver_sql(
            "INSERT INTO runs (started, finished, exit_status, outcomes, host, python, "
            "platform, plugin_version, options, tags) VALUES ('2026-01-01 00:00:00+00', "
            "'2026-01-01 00:01:00+00', 0, '{}', 'old', '3.11', 'linux', '0.1', '[]', '{}')")
    engine.dispose()
    store = HistoryStore(history_url)
    assert [r["host"] for r in store.runs()] == ["old"]
    run_id = store.runs()[0]["id"]
    store.add_samples(run_id, [TaggedSample(0.5, 7, "main", 1 << 20, "t.py::a"),
                               TaggedSample(1.0, 7, "main", 2 << 20, None)])
    assert [(s["time"], s["rss"], s["nodeid"]) for s in store.samples(run_id)] == [
        (0.5, 1 << 20, "t.py::a"), (1.0, 2 << 20, None)]
    store.close()


def test_the_baseline_is_the_latest_earlier_run_on_the_same_branch(history_url):
    store = HistoryStore(history_url)
    main1 = store.record(_run(git_branch="main"), [])
    feature = store.record(_run(git_branch="feature"), [])
    main2 = store.record(_run(git_branch="main"), [])
    other = store.record(_run(git_branch="other"), [])
    assert store.baseline(main2, "main") == main1
    assert store.baseline(other + 1, "feature") == feature
    assert store.baseline(other, "new-branch") == main2  # none on it: the latest
    assert store.baseline(main1, "main") is None
    with pytest.raises(HistoryError, match="has no run 99"):
        store.run(99)
    store.close()
