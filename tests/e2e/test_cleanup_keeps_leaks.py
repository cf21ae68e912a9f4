"""The cleanup pass removes warm-up, never a leak into what it empties: for each cache
or registry it touches, a test that leaks into it is still a leak, with its site and
owner, while the harness's own use of it stays clean."""

import pytest

LINECACHE_LEAK = """
import itertools, linecache
_n = itertools.count()

def compile_template(text):
    # What a template or code-generating library does: register the generated source
    # under a new name each time, so tracebacks can show it.
    name = f"<generated-{next(_n)}>"
    source = f"def render():\\n    return {text!r}\\n"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    return name

def test_generates():
    compile_template("hello" * 10)
"""

LINECACHE_CLEAN = """
import linecache

def test_reads_a_new_file_each_run(tmp_path):
    path = tmp_path / "module.py"
    path.write_text("x = 1\\n" * 50)
    assert linecache.getline(str(path), 1) == "x = 1\\n"
"""

SESSION_IN_A_GLOBAL = """
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()

class Item(Base):
    __tablename__ = "item"
    id = Column(Integer, primary_key=True)
    name = Column(String)

ENGINE = create_engine("sqlite://")
Base.metadata.create_all(ENGINE)
_SESSION = None

def remember(name):
    global _SESSION
    if _SESSION is None:
        _SESSION = Session(ENGINE)
    _SESSION.add(Item(name=name))

def test_remembers():
    remember("x" * 40)
"""

SESSION_PER_TEST = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

def test_uses_a_session_and_forgets_it():
    session = Session(create_engine("sqlite://"))
    session.execute(text("select 1"))
"""


def test_a_leak_into_linecache_is_found(run_forensics, pytester):
    pytester.makepyfile(test_mod=LINECACHE_LEAK)
    _, _, verdicts = run_forensics()
    entry = verdicts["test_generates"]
    assert entry["verdict"] == "leak", entry
    assert entry["sites"][0]["filename"] == "test_mod.py"
    assert entry["sites"][0]["source"].startswith("linecache.cache[name] = ")
    assert any(o["root"] == "linecache.cache" for o in entry["owners"]), entry["owners"]


def test_linecache_filled_from_files_on_disk_stays_clean(run_forensics, pytester):
    pytester.makepyfile(test_mod=LINECACHE_CLEAN)
    _, _, verdicts = run_forensics()
    assert verdicts["test_reads_a_new_file_each_run"]["verdict"] == "clean"


def test_a_session_the_code_keeps_in_a_global_is_not_closed(run_forensics, pytester):
    pytest.importorskip("sqlalchemy")
    pytester.makepyfile(test_mod=SESSION_IN_A_GLOBAL)
    _, _, verdicts = run_forensics()
    entry = verdicts["test_remembers"]
    assert entry["verdict"] == "leak", entry
    assert any(o["root"].startswith("test_mod._SESSION") for o in entry["owners"]), \
        entry["owners"]


def test_a_session_nobody_keeps_is_released(run_forensics, pytester):
    pytester.makepyfile(test_mod=SESSION_PER_TEST)
    _, _, verdicts = run_forensics()
    assert verdicts["test_uses_a_session_and_forgets_it"]["verdict"] == "clean"
