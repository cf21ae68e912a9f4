"""Owner chains: who holds an object, named as the user would write it in code."""

import atexit
import gc
import sys
import threading
import tracemalloc
import types

import pytest

from leak_forensics.analysis import owners
from leak_forensics.analysis.owners import creation_traceback, owner_chains


class Entry:
    def __init__(self, key):
        self.key = key
        self.payload = [key]


class Slotted:
    __slots__ = ("value",)

    def __init__(self):
        self.value = 1


def _imported(name):
    """A module registered as imported modules are, for the length of a test."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    yield module
    del sys.modules[name]


@pytest.fixture
def app():
    """A module of the code under test."""
    yield from _imported("myapp_cache")


def chain_of(obj, new=()):
    created = {id(o) for o in new}
    del new  # a list holding the object would be its nearest owner
    return owner_chains([obj], lambda o: id(o) in created)[0]


def test_module_global_with_readable_keys(app):
    app._MEMO = {}
    entry = app._MEMO[("user", 7)] = Entry(7)
    chain = chain_of(entry, new=[entry])
    assert chain.root == "myapp_cache._MEMO"
    assert chain.path == "myapp_cache._MEMO[('user', 7)] -> Entry"
    assert chain.type == f"{__name__}.Entry"
    # _MEMO existed before; the entry is new: the leak begins at the key.
    assert chain.suspect == "myapp_cache._MEMO[('user', 7)]"
    assert chain.pattern == "myapp_cache._MEMO[...] -> Entry"


def test_long_and_unprintable_keys_are_abbreviated(app):
    class Opaque:
        def __repr__(self):
            raise RuntimeError("no repr")

    first, second = Entry(1), Entry(2)
    app.BY_TEXT = {"x" * 100: first}
    app.BY_OBJECT = {Opaque(): second}
    assert chain_of(first).path == f"myapp_cache.BY_TEXT['{'x' * 20}...] -> Entry"
    assert chain_of(second).path == "myapp_cache.BY_OBJECT[<Opaque>] -> Entry"


def test_instance_attributes_and_list_positions(app):
    class Service:
        def __init__(self):
            self.handlers = [{}, {}]

    app.SERVICE = Service()
    entry = Entry("k")
    app.SERVICE.handlers[1]["k"] = entry
    chain = chain_of(entry, new=[entry])
    assert chain.root == "myapp_cache.SERVICE"
    assert chain.path == "myapp_cache.SERVICE.handlers[1]['k'] -> Entry"


def test_class_attribute_root():
    class Registry:
        items = []

    Registry.__module__ = "myapp_registry"
    entry = Entry(1)
    Registry.items.append(entry)
    chain = chain_of(entry, new=[entry])
    assert chain.root == f"myapp_registry.{Registry.__qualname__}.items"
    assert chain.path.endswith(".items[0] -> Entry")


def test_a_live_threads_frame_local():
    stop = threading.Event()
    entry = Entry("held")

    def poll(item):
        stop.wait()

    worker = threading.Thread(target=poll, args=(entry,), name="Worker-1", daemon=True)
    worker.start()
    worker._args = ()  # only the running frame holds it now
    try:
        chain = chain_of(entry)
    finally:
        stop.set()
        worker.join()
    assert chain.root.startswith("thread Worker-1, frame poll() at ")
    assert chain.root.endswith(", local 'item'")


def test_closure_held_only_from_c():
    cache = {}

    def lookup():
        return cache

    entry = cache["k"] = Entry("k")
    atexit.register(lookup)  # the callback list lives in C: no gc-visible holder
    try:
        chain = chain_of(entry, new=[entry])
    finally:
        atexit.unregister(lookup)
    assert chain.root == f"{lookup.__module__}.{lookup.__qualname__}"
    assert chain.path == f"{chain.root} closure 'cache'['k'] -> Entry"


def test_nothing_the_collector_sees_holds_it():
    entry = Entry("orphan")
    chain = chain_of(entry)
    # Only this test's frame holds it, and the analysis leaves its callers' frames out.
    assert chain.root == "held outside Python"
    assert chain.suspect is None


def test_the_shortest_of_two_paths_wins(app):
    entry = Entry(1)
    app.DEEP = {"a": {"b": {"c": entry}}}
    app.NEAR = [entry]
    assert chain_of(entry).path == "myapp_cache.NEAR[0] -> Entry"


@pytest.fixture
def tracing():
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start(5)
    gc.collect()  # empties free lists: objects reused from them have no allocation trace
    yield
    if started:
        tracemalloc.stop()


def test_creation_site_of_plain_instances_and_slots(tracing):
    # Again here, with nothing run between it and the constructions: the test runner's
    # steps after the fixture can free a list made before tracing began onto the free
    # list, and Entry's payload would then come from it, with no trace.
    gc.collect()
    line = sys._getframe().f_lineno + 1
    plain, slotted = Entry("x"), Slotted()
    for obj in (plain, slotted):
        frames = creation_traceback(obj)
        assert frames is not None
        # Innermost first; for a plain instance (which 3.11 cannot look up), the frames
        # inside Entry.__init__ are dropped, so both start at the constructing line.
        assert frames[0] == (__file__, line), frames


def test_analysis_leaves_no_index_behind(app):
    app._MEMO = {"k": Entry("k")}
    gc.collect()
    before = len(gc.get_objects())
    chain_of(app._MEMO["k"])
    gc.collect()
    assert len(gc.get_objects()) - before < 50


def test_an_instances_attribute_dict_is_held_by_the_instance(app):
    # On 3.13 the collector sees an instance's attribute values, not its __dict__.
    app.KEPT = [Entry("k")]
    attributes = vars(app.KEPT[0])
    chain = chain_of(attributes)
    assert chain.root == "myapp_cache.KEPT", chain
    assert "outside" not in chain.root


class _RunnerState:
    """Stands for an object of the test harness (pytest's config, a plugin)."""


_RunnerState.__module__ = "_pytest.stand_in"


class _UserState:
    pass


@pytest.mark.parametrize(("holder_type", "searched"), [(_UserState, True), (_RunnerState, False)],
                         ids=["user object", "harness object"])
def test_the_forward_search_for_untracked_leaks_does_not_enter_the_harness(holder_type,
                                                                          searched):
    """A user module's ``__loader__`` is pytest's rewriter, whose config leads to every
    plugin and to what this toolkit keeps: never a holder of the code's leaks."""
    leaked = "".join(["kept by ", "a memo"])  # made here: untracked, and "new"
    holder = holder_type()
    holder.memo = {"key": leaked}
    found = owners.untracked_leaks([("userpkg.mod", {"state": holder})], set(),
                                   lambda obj: "userpkg/mod.py:3" if obj is leaked else None)
    assert [nodes[-1] is leaked for _, nodes, _ in found.found] == ([True] if searched else [])


def test_an_untracked_value_each_run_replaces_is_not_a_leak():
    """A class counter (``cls_counter += 1``) holds one new int after any number of runs;
    a memo that keeps a string per run holds one per run: only the memo recurs."""
    runs = 3
    counter = int("1" * 30)  # made here (not a cached small int): new, like the last run's
    memo = ["".join(["run ", str(n)]) for n in range(runs)]
    sites = {id(counter): "userpkg/mod.py:5"} | {id(s): "userpkg/mod.py:9" for s in memo}
    found = owners.untracked_leaks([("userpkg.mod", {"counter": counter, "memo": memo})],
                                   set(), lambda obj: sites.get(id(obj)))
    assert {site for _, _, site in found.found} == {"userpkg/mod.py:5", "userpkg/mod.py:9"}
    assert {site for _, _, site in found.recurring(runs).found} == {"userpkg/mod.py:9"}


@pytest.fixture
def harness_module():
    """A module of the test harness (pytest's own), holding state as pytest's do."""
    yield from _imported("_pytest.leak_forensics_probe")


def test_a_path_through_the_harness_is_no_owner_when_the_code_under_test_holds_it(
        app, harness_module):
    # pytest keeps the running item in _pytest.assertion.util._reprcompare's closure: a
    # shorter way to the leak than the user's global, but not one the user can act on.
    entry = Entry(1)
    harness_module.current = entry
    app.REGISTRY = {"kept": [entry]}
    chain = chain_of(entry, new=[entry])
    assert chain.root == "myapp_cache.REGISTRY"
    assert "_pytest" not in chain.path


def test_the_harness_alone_holding_an_object_never_names_it_as_owner(harness_module):
    entry = Entry(2)
    harness_module.hook = (lambda item: lambda: item)(entry)
    chain = chain_of(entry, new=[entry])
    assert not chain.root.startswith("_pytest")
    assert "_pytest" not in chain.path
