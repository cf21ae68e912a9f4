"""End to end: a leaking test's report names who holds the leak, and groups tests by it."""

SUITE = {
    "myapp/__init__.py": "",
    "myapp/cache.py": """
class Entry:
    def __init__(self, key):
        self.key = key
        self.payload = [key] * 8

_MEMO = {}

def memoize(key):
    _MEMO[key] = Entry(key)  # the allocation site of every Entry
    return _MEMO[key]
""",
    "myapp/plugins.py": """
class Registry:
    hooks = []

def register(name):
    Registry.hooks.append({"name": name, "calls": [name]})
""",
    "myapp/workers.py": """
import queue, threading

class Job:
    def __init__(self, n):
        self.n = n
        self.log = [n]

_inbox = queue.Queue()
_kept = []

def _serve():
    seen = []
    while True:
        item = _inbox.get()
        seen.append(item)
        item[1].set()

def start():
    threading.Thread(target=_serve, name="Worker-1", daemon=True).start()

def submit(n):
    done = threading.Event()
    _inbox.put((Job(n), done))
    done.wait()
""",
    "conftest.py": """
import myapp.workers
myapp.workers.start()
""",
    "test_app.py": """
import itertools
from myapp import cache, plugins, workers
_n = itertools.count()

def test_memo_a():
    cache.memoize(f"a{next(_n)}")

def test_memo_b():
    cache.memoize(f"b{next(_n)}")

def test_registry():
    plugins.register(f"p{next(_n)}")

def test_worker():
    workers.submit(next(_n))

def test_clean():
    cache.Entry("x")
""",
}


def test_owners_name_the_holder_and_signatures_group_tests(run_forensics, pytester):
    for path, source in SUITE.items():
        target = pytester.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source)
    result, data, verdicts = run_forensics()
    assert result.ret == 0
    assert verdicts["test_clean"]["verdict"] == "clean"

    def owner(name, type_name):
        entry = verdicts[name]
        assert entry["verdict"] == "leak", entry
        found = [o for o in entry["owners"] if o["type"] == type_name]
        assert found, entry["owners"]
        return found[0]

    memo = owner("test_memo_a", "myapp.cache.Entry")
    assert memo["root"] == "myapp.cache._MEMO"
    assert memo["path"].startswith("myapp.cache._MEMO['a") and memo["path"].endswith("-> Entry")
    assert memo["suspect"].startswith("myapp.cache._MEMO['a")  # _MEMO existed before
    assert memo["site"] == "myapp/cache.py:10"
    assert memo["sampled"] == memo["of"] == 3  # one per traced run, all held the same way

    hook = owner("test_registry", "dict")
    assert hook["root"] == "myapp.plugins.Registry.hooks"
    assert hook["site"] == "myapp/plugins.py:6"

    job = owner("test_worker", "myapp.workers.Job")
    assert job["root"].startswith("thread Worker-1, frame _serve() at ")
    assert job["root"].endswith("local 'seen'")
    assert job["site"] == "myapp/workers.py:24"

    # Two tests leak into the same place: one signature, one group.
    memo_b = owner("test_memo_b", "myapp.cache.Entry")
    assert memo_b["signature"] == memo["signature"] != hook["signature"]
    groups = {g["signature"]: g for g in data["leak_groups"]}
    assert [t.split("::")[-1] for t in groups[memo["signature"]]["tests"]] == [
        "test_memo_a", "test_memo_b"]
    assert memo["where"] == memo_b["where"] == "myapp.cache._MEMO[...]"
    # The second is recognised as the first's leak: not traced nor searched again.
    assert next(t for t in data["tests"] if t["nodeid"].endswith("test_memo_b"))[
        "same_leak_as"] == "test_app.py::test_memo_a"
    result.stdout.fnmatch_lines([
        "leak shared by 2 tests into myapp.cache._MEMO[[]...[]] (*myapp.cache.Entry*), "
        "~* per run and test, allocated at myapp/cache.py:10, first seen in "
        "test_app.py::test_memo_a",
        "*the leak begins at myapp.cache._MEMO[[]...[]]:",
        "*3 of 3 sampled myapp.cache.Entry, allocated at myapp/cache.py:10: _MEMO[[]'a*'[]] "
        "-> Entry",
    ])


def test_a_failing_owner_search_keeps_the_verdict(run_forensics, pytester):
    pytester.makepyfile(test_mod="""
class Hostile:
    def __init__(self):
        self.kept = []
    def __getattribute__(self, name):
        if name == "__dict__":
            raise RuntimeError("no introspection here")
        return object.__getattribute__(self, name)

HOLDER = Hostile()

def test_it():
    HOLDER.kept.append({"n": [1, 2, 3]})
""")
    result, _, verdicts = run_forensics()
    assert result.ret == 0
    entry = verdicts["test_it"]
    assert entry["verdict"] == "leak", entry
    assert entry["sites"]
    assert any("owner chains not found: internal error: RuntimeError" in n
               for n in entry["notes"]), entry["notes"]
    result.stdout.fnmatch_lines(["*LeakForensicsWarning*owner chains not found*"])


def test_closure_and_held_outside_python_roots(run_forensics, pytester):
    pytester.makepyfile(test_mod="""
import atexit, ctypes, itertools
_n = itertools.count()

class Job:
    def __init__(self, n):
        self.n = [n]

def test_callback():
    jobs = [Job(next(_n))]
    def flush():
        return jobs
    atexit.register(flush)  # atexit keeps its callbacks in C

def test_refcount():
    job = Job(next(_n))
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(job))  # a reference nothing can see
""")
    _, _, verdicts = run_forensics()
    for name, root in (("test_callback", "test_mod.test_callback.<locals>.flush"),
                       ("test_refcount", "held outside Python")):
        entry = verdicts[name]
        assert entry["verdict"] == "leak", entry
        jobs = [o for o in entry["owners"] if o["type"] == "test_mod.Job"]
        assert jobs and jobs[0]["root"] == root, entry["owners"]
    callback = [o for o in verdicts["test_callback"]["owners"] if o["type"] == "test_mod.Job"]
    assert callback[0]["path"].startswith(
        "test_mod.test_callback.<locals>.flush closure 'jobs'[0] -> Job"), callback


def test_owner_search_can_be_switched_off(run_forensics, pytester):
    pytester.makepyfile(test_mod="""
_KEPT = []
def test_it():
    _KEPT.append({"n": [1]})
""")
    _, _, verdicts = run_forensics("--no-leak-forensics-owners")
    assert verdicts["test_it"]["verdict"] == "leak"
    assert verdicts["test_it"]["owners"] == []
    _, _, verdicts = run_forensics()
    assert verdicts["test_it"]["owners"][0]["root"] == "test_mod._KEPT"
    # The old spelling still works for a release, with a deprecation warning.
    result, _, verdicts = run_forensics("--leak-forensics-owners=false")
    assert verdicts["test_it"]["owners"] == []
    result.stdout.fnmatch_lines(["*PytestDeprecationWarning: --leak-forensics-owners=VALUE "
                                 "is deprecated: use --no-leak-forensics-owners*"])
    pytester.makeini("[pytest]\nleak_forensics_owners = false\n")  # a bool ini key
    _, _, verdicts = run_forensics()
    assert verdicts["test_it"]["owners"] == []


def test_holders_are_named_for_objects_the_collector_does_not_track(run_forensics,
                                                                    pytester):
    # Strings, bytes, bytearrays and numbers are what caches usually hold; the collector
    # does not track them, so the reverse index cannot reach them: a forward search from
    # the code's globals and class attributes does.
    pytester.makepyfile(app="""
_SEEN = []
_CACHE = {}

class Store:
    blobs = {}
""", test_app="""
import itertools
import app
_n = itertools.count()

def test_bytearrays():
    app._SEEN.append(bytearray(1000))

def test_keys():
    k = next(_n)
    app._CACHE[f"user-{k}"] = "..."

def test_class_attribute():
    app.Store.blobs[next(_n)] = b"x" * 300 + bytes([next(_n) % 256])
""")
    _, data, verdicts = run_forensics()
    expected = {
        "test_bytearrays": ("app._SEEN", "app._SEEN[...]", "bytearray", "test_app.py:6"),
        "test_keys": ("app._CACHE", "app._CACHE[...]", "str", "test_app.py:10"),
        "test_class_attribute": ("app.Store.blobs", "app.Store.blobs[...]", "bytes",
                                 "test_app.py:13"),
    }
    for name, (root, where, kind, site) in expected.items():
        entry = verdicts[name]
        assert entry["verdict"] == "leak", entry
        owners = [o for o in entry["owners"] if o["type"] == kind]
        assert owners and owners[0]["root"] == root and owners[0]["where"] == where, entry
        assert owners[0]["site"] == site
        # The census cannot count them; the sites that made them can.
        assert {"type": kind, "count_diff": 1} in entry["types"], entry["types"]
    groups = {g["tests"][0].split("::")[1]: g for g in data["leak_groups"]}
    assert all(not g["root"].startswith("no holder found") for g in groups.values()), groups
