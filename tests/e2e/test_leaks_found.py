"""Each common kind of leak is reported as a leak, charged to the line that allocates."""

import pytest
from conftest import user_sites

LEAKS = {
    "global_list": ("""
_CACHE = []
def test_it():
    _CACHE.append(bytearray(300))  # LEAK
""", None),  # bytearrays are not tracked by the collector: no type census
    "memo_dict": ("""
import itertools
_MEMO = {}
_n = itertools.count()
def test_it():
    k = next(_n)
    _MEMO[k] = [k] * 10  # LEAK
""", "list"),
    "lru_cache_unbounded": ("""
import functools, itertools
_n = itertools.count()
@functools.lru_cache(maxsize=None)
def compute(x):
    return [x] * 20  # LEAK
def test_it():
    compute(next(_n))
""", "list"),
    "lru_cache_on_method": ("""
import functools
class Service:
    @functools.lru_cache(maxsize=None)
    def lookup(self, key):
        return {"key": key}  # LEAK
def test_it():
    Service().lookup("k")
""", "test_mod.Service"),
    "instance_registry": ("""
class Widget:
    registry = []
    def __init__(self):
        self.payload = [0] * 30
        Widget.registry.append(self)
def test_it():
    Widget()  # LEAK
""", "test_mod.Widget"),
    "callback_list": ("""
_CALLBACKS = []
def test_it():
    state = {"hits": 0}
    _CALLBACKS.append(lambda: state)  # LEAK
""", "function"),
    "logging_handlers": ("""
import logging
def test_it():
    logging.getLogger("app").addHandler(logging.NullHandler())  # LEAK
""", "logging.NullHandler"),
    "stored_exceptions": ("""
_ERRORS = []
def test_it():
    try:
        raise ValueError("x" * 100)  # LEAK
    except ValueError as exc:
        _ERRORS.append(exc)
""", "ValueError"),
    "mutable_default": ("""
def remember(item, seen=[]):
    seen.append(item)
    return seen
def test_it():
    remember(object())  # LEAK
""", None),  # plain object() instances are not tracked by the collector
    "leak_in_fixture": ("""
import pytest
_POOL = []
@pytest.fixture
def conn():
    c = {"socket": bytearray(200)}  # LEAK
    _POOL.append(c)
    yield c
def test_it(conn):
    assert conn
""", None),
}


@pytest.mark.parametrize("name", sorted(LEAKS))
def test_leak_is_found_and_located(run_forensics, pytester, name):
    source, expected_type = LEAKS[name]
    pytester.makepyfile(test_mod=source)
    result, data, verdicts = run_forensics()
    assert result.ret == 0  # report-only by default: the test still passes
    entry = verdicts["test_it"]
    assert entry["verdict"] == "leak", entry
    leak_line = next(i for i, line in enumerate(source.splitlines(), 0) if "# LEAK" in line)
    assert f"test_mod.py:{leak_line}" in user_sites(entry), entry["sites"]
    assert all(s["size_diff"] > 0 for s in entry["sites"])
    if expected_type is not None:
        assert expected_type in [t["type"] for t in entry["types"]], entry["types"]
    result.stdout.fnmatch_lines(["*test_mod.py L*", "*leak forensics*", "*test_it leaks*"])


def test_leak_through_library_names_the_callers_line(run_forensics, pytester):
    pytester.makepyfile(test_mod="""
import logging, itertools
_n = itertools.count()
def test_it():
    logging.getLogger(f"req.{next(_n)}")
""")
    _, _, verdicts = run_forensics()
    entry = verdicts["test_it"]
    assert entry["verdict"] == "leak"
    assert user_sites(entry)[0] == "test_mod.py:4"
    # The full traceback still shows the standard library line that allocated.
    frames = [f["filename"] for f in entry["sites"][0]["traceback"]]
    assert any(f.endswith("logging/__init__.py") for f in frames)


def test_leaking_thread_is_a_resource_leak(run_forensics, pytester):
    pytester.makepyfile(test_mod="""
import threading
_STOP = threading.Event()
def test_it():
    threading.Thread(target=_STOP.wait, name="poller", daemon=True).start()
""")
    _, _, verdicts = run_forensics("--leak-forensics-thread-timeout=0.2")
    entry = verdicts["test_it"]
    assert entry["verdict"] == "leak"
    assert entry["resources"] and entry["resources"][0]["kind"] == "thread"
    # Named, with its target and the line of the code under test that started it.
    assert entry["resources"][0]["detail"] == (
        "poller (Event.wait, daemon) started at test_mod.py:4, still alive")


def test_leak_in_a_test_with_many_subtests_is_found(run_forensics, pytester):
    # Each subtest report is held out of the measurement; if holding one cost or freed
    # even a block, 200 subtests would swamp the one object the test keeps per run.
    pytester.makepyfile(test_mod="""
import unittest
_KEPT = []
def test_first():
    pass
class T(unittest.TestCase):
    def test_it(self):
        for n in range(1000, 1200):
            with self.subTest(n=n):
                pass
        _KEPT.append([n])  # LEAK
""")
    _, _, verdicts = run_forensics()
    entry = verdicts["test_it"]
    assert entry["verdict"] == "leak", entry
    assert "test_mod.py:10" in user_sites(entry)


def test_more_subtests_than_the_first_buffer_holds_are_measured_exactly(run_forensics,
                                                                       pytester):
    # 600 reports of 2 KiB each overflow the first buffer (1 MiB): it is replaced by a
    # larger one with the counters paused. A clean test still screens at zero, and one object
    # kept per run is still found among them.
    pytester.makepyfile(test_mod="""
import unittest
_KEPT = []
def test_first():
    pass
class T(unittest.TestCase):
    def test_a_first_subtest(self):  # a class's first test is often a suspect
        with self.subTest(n=0):
            pass
    def test_clean(self):
        for n in range(600):
            with self.subTest("x" * 2048, n=n):
                pass
    def test_leaky(self):
        for n in range(600):
            with self.subTest("x" * 2048, n=n):
                pass
        _KEPT.append([n])  # LEAK
""")
    result, _, verdicts = run_forensics("-q")
    result.stdout.fnmatch_lines(["4 passed, 1201 subtests passed in *"])
    assert verdicts["test_clean"]["verdict"] == "clean"
    assert verdicts["test_clean"]["runs"] == 1, verdicts["test_clean"]["screen"]
    assert verdicts["test_leaky"]["verdict"] == "leak", verdicts["test_leaky"]
    assert "test_mod.py:17" in user_sites(verdicts["test_leaky"])


def test_uncollectable_garbage_is_reported_by_type(run_forensics, pytester):
    pytester.makepyfile(test_mod="""
import gc
class Node:
    pass
def test_it():
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector frees now lands in gc.garbage
    try:
        node = Node()
        node.me = node
        del node
        gc.collect()
    finally:
        gc.set_debug(0)
""")
    result, _, verdicts = run_forensics()
    entry = verdicts["test_it"]
    assert entry["verdict"] == "leak", entry
    assert "test_mod.Node" in [g["type"] for g in entry["garbage"]], entry["garbage"]
    result.stdout.fnmatch_lines(["*uncollectable (in gc.garbage): *test_mod.Node*"])


def test_thread_started_inside_the_standard_library_names_the_users_line(run_forensics,
                                                                        pytester):
    pytester.makepyfile(test_mod="""
from concurrent.futures import ThreadPoolExecutor
_POOLS = []
def test_it():
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fetcher")
    pool.submit(print, "hello").result()
    _POOLS.append(pool)  # never shut down: its idle worker thread stays
""")
    _, _, verdicts = run_forensics("--leak-forensics-thread-timeout=0.2")
    entry = verdicts["test_it"]
    assert entry["verdict"] == "leak", entry
    threads = [r["detail"] for r in entry["resources"] if r["kind"] == "thread"]
    assert threads and all("started at test_mod.py:5," in d for d in threads), threads


def test_gc_debug_reports_what_a_clean_test_left_for_the_collector(run_forensics, pytester):
    pytester.makepyfile(test_mod="""
class Node:
    def __init__(self):
        self.around = [self]

def test_cycles():
    for _ in range(20):
        Node()  # freed only by a collection

def test_no_cycles():
    [n for n in range(100)]
""")
    result, _, verdicts = run_forensics("--leak-forensics-gc-debug")
    result.stdout.fnmatch_lines([
        "left for the cyclic garbage collector (--leak-forensics-gc-debug; not leaks):",
        "  test_mod.py::test_cycles: 20 *, 20 * at test_mod.py:*"])
    cycles = verdicts["test_cycles"]
    assert cycles["verdict"] == "clean"  # information, not a leak
    found = {(g["type"], g["site"]): g["count"] for g in cycles["cyclic_garbage"]}
    assert found[("test_mod.Node", "test_mod.py:7")] == 20, cycles["cyclic_garbage"]
    assert found[("list", "test_mod.py:3")] == 20, cycles["cyclic_garbage"]
    assert verdicts["test_no_cycles"]["cyclic_garbage"] == []
    assert verdicts["test_no_cycles"]["verdict"] == "clean"
    _, _, plain = run_forensics()
    assert plain["test_cycles"]["cyclic_garbage"] == []
