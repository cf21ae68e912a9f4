"""The cleanup pass removes warm-up, never a leak into what it empties: for each cache
or registry it touches, a test that leaks into it is still a leak, with its site and
owner, while the harness's own use of it stays clean."""

import sys

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

def register(qualname):
    # What attrs does for each class it makes: the name comes from the class, so a
    # second run registers nothing new.
    name = f"<generated methods {qualname}>"
    source = "def __init__(self, x):\\n    self.x = x\\n"
    linecache.cache.setdefault(name, (len(source), None, source.splitlines(True), name))

register("test_mod.AtImport")  # as attrs does for its own classes: the cache is not empty

def test_first():
    pass

def test_registers_source_once_per_class():
    register("test_mod.test_registers_source_once_per_class.<locals>.C")

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


def test_a_leak_into_linecache_is_found_by_the_repetitions(run_forensics, pytester):
    # The screen forgets source registered in its span (attrs registers each class's
    # once, under a name that the next run reuses), so only repetitions can tell a new
    # name per run from it: here every test is repeated.
    pytester.makepyfile(test_mod=LINECACHE_LEAK)
    _, _, verdicts = run_forensics("--leak-forensics-all")
    entry = verdicts["test_generates"]
    assert entry["verdict"] == "leak", entry
    assert entry["sites"][0]["filename"] == "test_mod.py"
    assert entry["sites"][0]["source"].startswith("linecache.cache[name] = ")
    assert any(o["root"] == "linecache.cache" for o in entry["owners"]), entry["owners"]


def test_linecache_filled_from_files_or_by_generated_classes_stays_clean(run_forensics, pytester):
    pytester.makepyfile(test_mod=LINECACHE_CLEAN)
    _, _, verdicts = run_forensics()
    assert verdicts["test_reads_a_new_file_each_run"]["verdict"] == "clean"
    registers = verdicts["test_registers_source_once_per_class"]
    assert (registers["verdict"], registers["runs"]) == ("clean", 1), registers["screen"]


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


UNKNOWN_CHARSETS = """
import codecs, itertools
_n = itertools.count()

def charset_of(header):
    # What an HTTP client does with the charset a server sends.
    try:
        return codecs.lookup(header).name
    except LookupError:
        return "utf-8"

def test_decodes_a_response_with_its_own_charset():
    assert charset_of(f"x-vendor-{next(_n)}") == "utf-8"

def test_decodes_known_charsets():
    assert charset_of("latin-1") == "iso8859-1"
    assert charset_of("x-never-registered") == "utf-8"
"""


def test_a_leak_into_the_encodings_cache_is_found(run_forensics, pytester):
    pytester.makepyfile(test_mod=UNKNOWN_CHARSETS)
    _, _, verdicts = run_forensics()
    entry = verdicts["test_decodes_a_response_with_its_own_charset"]
    if sys.version_info[:2] == (3, 12):
        # codecs.lookup interns the name it is asked for, and on 3.12 an interned string
        # is immortal and not counted (docs/how-it-works.md, Known limits): the entry is
        # all there is.
        assert entry["verdict"] == "clean", entry
        return
    assert entry["verdict"] == "leak", entry
    # The leaked names are strings, which the garbage collector does not track, so there
    # is no owner to search; the site is the user's line that looks them up.
    assert entry["sites"][0]["filename"] == "test_mod.py", entry["sites"]
    assert entry["sites"][0]["source"] == "return codecs.lookup(header).name"
    assert verdicts["test_decodes_known_charsets"]["verdict"] == "clean"


GENERATED_MODULES = """
import inspect, itertools, sys, types
_n = itertools.count()

def run_generated(source):
    # A plugin loader: each call makes a module, runs it, and drops it again.
    name = f"generated_{next(_n)}"
    module = types.ModuleType(name)
    module.__file__ = f"/generated/{name}.py"
    sys.modules[name] = module
    try:
        exec(compile(source, module.__file__, "exec"), module.__dict__)
        return inspect.getmodule(module.frame).__name__
    finally:
        del sys.modules[name]

def test_runs_a_generated_plugin():
    assert run_generated("import sys; frame = sys._getframe().f_code").startswith("generated_")

def test_asks_inspect_about_its_own_code():
    assert inspect.getmodule(sys._getframe().f_code) is sys.modules[__name__]
"""


def test_a_leak_into_inspects_module_cache_is_found(run_forensics, pytester):
    pytester.makepyfile(test_mod=GENERATED_MODULES)
    _, _, verdicts = run_forensics()
    entry = verdicts["test_runs_a_generated_plugin"]
    assert entry["verdict"] == "leak", entry
    assert {site["source"] for site in entry["sites"]} >= {
        "return inspect.getmodule(module.frame).__name__"}, entry["sites"]
    assert verdicts["test_asks_inspect_about_its_own_code"]["verdict"] == "clean"
