"""The test utilities (``leak_forensics.testing``) in real runs: a runner a test leaves
running, leak checks from code, the database fixtures and the strategy's clean-up."""

import subprocess
import sys
import textwrap


def line_of(path, marker: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if marker in text)


LEAKY_MODULE = """
import functools
from leak_forensics.testing import assert_no_leaks, LeakError

_KEEP = []
def leaky():
    _KEEP.append(bytearray(1000))  # KEEPS

def clean():
    return sum([1] * 100)

@functools.lru_cache(maxsize=64)
def cached(n):
    return [n] * 10

_calls = iter(range(10**6))
def fills_a_bounded_cache():
    cached(next(_calls))
"""

CHECKS = LEAKY_MODULE + """
def test_leaky():
    assert_no_leaks(leaky)

def test_clean():
    result = assert_no_leaks(clean)
    assert result.verdict == "clean" and result.runs >= 2

def test_bounded_cache():
    assert_no_leaks(fills_a_bounded_cache)
"""


def test_assert_no_leaks_names_the_line_and_passes_clean_code(pytester):
    pytester.makepyfile(test_checks=CHECKS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=2, failed=1)
    output = result.stdout.str()
    assert "LeakError: test_checks.leaky leaks" in output
    assert f"test_checks.py:{line_of(pytester.path / 'test_checks.py', '# KEEPS')}" in output
    assert "_KEEP.append(bytearray(1000))" in output
    assert "leak_check.py" not in output  # the check's own frames are hidden
    assert "the leak begins at test_checks._KEEP[...]" in output


def test_assert_no_leaks_inside_a_checked_test_leaves_the_plugins_verdicts_alone(
        run_forensics, pytester):
    pytester.makepyfile(test_checks=CHECKS + """
_HELD = []
def test_plugin_still_sees_its_own_leak():
    assert_no_leaks(clean)
    _HELD.append(bytearray(5000))
""")
    result, _, verdicts = run_forensics()
    result.assert_outcomes(passed=3, failed=1)
    assert verdicts["test_clean"]["verdict"] == "clean"
    assert verdicts["test_bounded_cache"]["verdict"] == "clean"
    assert verdicts["test_plugin_still_sees_its_own_leak"]["verdict"] == "leak"


def test_assert_no_leaks_works_in_a_plain_script(tmp_path):
    script = tmp_path / "check.py"
    script.write_text(LEAKY_MODULE + textwrap.dedent("""
        print(assert_no_leaks(clean).verdict)
        print(assert_no_leaks(fills_a_bounded_cache).verdict)
        try:
            assert_no_leaks(leaky, repeat="2:3")
        except LeakError as error:
            print("LEAK", error)
    """))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["clean", "clean"]
    assert lines[2].startswith("LEAK __main__.leaky leaks")
    assert any(f"check.py:{line_of(script, '# KEEPS')}" in line for line in lines)


def test_a_bad_repeat_is_one_line(tmp_path):
    script = tmp_path / "check.py"
    script.write_text("from leak_forensics.testing import assert_no_leaks\n"
                      "assert_no_leaks(len, [], repeat='three')\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("leak_forensics.errors.ConfigError:")


def test_a_runner_left_running_is_shut_down_and_reported_where_it_was_made(run_forensics,
                                                                         pytester):
    pytester.makepyfile(test_runners="""
import asyncio
from leak_forensics.testing import AsyncRunner, get_global_runner

async def answer():
    await asyncio.sleep(0)
    return 42

_RUNNERS = []
def test_left_running():
    runner = AsyncRunner("poller")  # MADE HERE
    assert runner.run(answer()) == 42
    _RUNNERS.append(runner)

def test_shut_down():
    with AsyncRunner() as runner:
        assert runner.run(answer()) == 42

def test_global_runner():
    assert get_global_runner().run(answer()) == 42
""")
    result, _, verdicts = run_forensics()
    result.assert_outcomes(passed=3)
    entry = verdicts["test_left_running"]
    assert entry["verdict"] == "leak", entry
    details = [r["detail"] for r in entry["resources"] if r["kind"] == "thread"]
    line = line_of(pytester.path / "test_runners.py", "# MADE HERE")
    assert details == [f"AsyncRunner 'poller' created at test_runners.py:{line}, left "
                       "running: shut down by the cleanup"], entry["resources"]
    assert verdicts["test_shut_down"]["verdict"] == "clean"
    assert verdicts["test_global_runner"]["verdict"] == "clean"


def test_database_fixtures(pytester):
    pytester.makepyfile(models="""
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase):
    pass
class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
""")
    pytester.makeini("[pytest]\nleak_forensics_sqlite_metadata = models:Base.metadata\n")
    pytester.makepyfile(test_db="""
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import DeclarativeBase
from models import Item

def test_tables_from_the_ini(sqlite_session):
    sqlite_session.add(Item(id=1))
    sqlite_session.flush()
    assert sqlite_session.scalars(select(Item.id)).all() == [1]

def test_each_test_gets_a_fresh_database(sqlite_session):
    assert sqlite_session.scalars(select(Item.id)).all() == []

class Other(DeclarativeBase):
    pass

@pytest.mark.parametrize("sqlite_session", [Other.metadata], indirect=True)
def test_metadata_by_indirect_parametrisation(sqlite_session):
    assert sqlite_session.execute(text("select count(*) from sqlite_master")).scalar() == 0

_HELD = []
def test_engines(tracked_engines):
    engine = create_engine("sqlite://")
    _HELD.append(engine.connect())  # NOT RETURNED
    assert tracked_engines.engines == []
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", "-rA")
    result.assert_outcomes(passed=4)
    line = line_of(pytester.path / "test_db.py", "# NOT RETURNED")
    result.stdout.fnmatch_lines(["*track_engines: a connection to sqlite:// checked out at "
                                 f"test_db.py:{line} was never returned*"])


def test_a_bad_metadata_setting_fails_the_test_in_one_line(pytester):
    pytester.makeini("[pytest]\nleak_forensics_sqlite_metadata = models.Base\n")
    pytester.makepyfile(test_db="def test_it(sqlite_session):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*leak-forensics: ini leak_forensics_sqlite_metadata: "
                                 "'models.Base' is not 'package.module:attribute'*"])
    assert "Traceback" not in result.stdout.str()


def test_comprehensive_cleanup_around_every_test(pytester):
    pytester.makeini("[pytest]\nleak_forensics_cleanup_autouse = true\n"
                     "log_level = DEBUG\n")
    pytester.makepyfile(test_cleanup="""
import threading
from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker
from leak_forensics.testing import AsyncRunner

ENGINE = create_engine("sqlite://")
REGISTRY = scoped_session(sessionmaker(ENGINE))
_KEPT = []

def test_uses_a_session():
    REGISTRY()
    assert REGISTRY.registry.has()

def test_registry_was_cleared():
    assert not REGISTRY.registry.has()

def test_makes_an_engine_and_a_runner():
    _KEPT.append(create_engine("sqlite://"))
    _KEPT.append(AsyncRunner("forgotten"))

def test_they_were_disposed_and_shut_down():
    assert _KEPT[1].closed
    assert not any(t.name == "forgotten" for t in threading.enumerate())

def test_a_thread_that_ends_soon():
    threading.Thread(target=threading.Event().wait, args=(0.05,), name="brief").start()

def test_a_thread_that_stays():
    threading.Thread(target=threading.Event().wait, args=(5,), name="lingering",
                     daemon=True).start()
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist",
                                           "-rA")
    result.assert_outcomes(passed=6)
    out = result.stdout.str()
    assert "threads still alive: none; AsyncRunner 'forgotten' created at" in out
    assert "threads still alive: lingering" in out
    assert "brief" not in out.split("test_a_thread_that_ends_soon")[-1].split("\\n")[0]
    assert out.count("comprehensive_test_cleanup: RSS ") == 6
