"""Cleanup steps, each on its own: what they empty, and that a broken step never stops
the pass."""

import contextlib
import functools
import gc
import re
import sys
import types
import weakref

from leak_forensics.cleanup import bounded_caches, stdlib_caches
from leak_forensics.cleanup.bounded_caches import BoundedCaches
from leak_forensics.cleanup.sweep import CleanupPass
from leak_forensics.measure.heap import HeapWindow


def test_stdlib_steps_empty_their_caches():
    re.compile("leak-forensics-cleanup-step-[0-9]+")
    stdlib_caches.PATTERNS._noted = None  # no window has opened: the whole cache goes
    stdlib_caches.SAFE["re"]()
    assert not getattr(re, "_cache", {})
    registry = {"warning": 1}
    module = types.ModuleType("lf_fake_module")
    module.__warningregistry__ = registry
    sys.modules["lf_fake_module"] = module
    try:
        stdlib_caches.SAFE["__warningregistry__"]()
    finally:
        del sys.modules["lf_fake_module"]
    assert registry == {}


def test_a_registry_made_after_a_pass_is_emptied_by_the_next():
    """The namespaces are found again only when sys.modules changes; a registry that a
    warning creates later, in a module already known, is still found."""
    module = types.ModuleType("lf_fake_module_late")
    sys.modules["lf_fake_module_late"] = module
    step = stdlib_caches.SAFE["__warningregistry__"]
    try:
        step()
        module.__warningregistry__ = registry = {"warning": 1}
        step()
    finally:
        del sys.modules["lf_fake_module_late"]
    assert registry == {}


def test_a_module_that_left_sys_modules_is_let_go_at_the_next_pass():
    """With all its namespace holds (the step keeps namespaces, not modules)."""
    module = types.ModuleType("lf_fake_module_leaving")
    module.held = held = contextlib.ExitStack()  # any object a weak reference can watch
    sys.modules["lf_fake_module_leaving"] = module
    step = stdlib_caches.SAFE["__warningregistry__"]
    step()
    gone = weakref.ref(held)
    del sys.modules["lf_fake_module_leaving"], module, held
    step()
    gc.collect()
    assert gone() is None


def test_patterns_compiled_before_a_window_stay_and_the_windows_own_go():
    runner = re.compile("leak-forensics-runner-[0-9]+")
    stdlib_caches.PATTERNS.note()
    re.compile("leak-forensics-test-[0-9]+")
    stdlib_caches.SAFE["re"]()
    cached = [key[1] for cache in stdlib_caches.PATTERNS._caches() for key in cache]
    assert runner.pattern in cached
    assert "leak-forensics-test-[0-9]+" not in cached


def test_the_abc_step_empties_the_caches_of_classes_derived_from_the_stdlibs_abcs():
    """``isinstance(x, Mapping)`` fills the cache of every ABC below Mapping, wherever
    it was defined; the step finds them by walking the class tree down."""
    import abc
    import collections.abc
    import numbers

    class Table(collections.abc.Mapping):  # defined outside collections.abc
        __getitem__ = __iter__ = __len__ = None  # type: ignore[assignment]

    class Amount(numbers.Number):
        pass

    class Unseen:
        pass

    assert not isinstance(Unseen(), collections.abc.Mapping)
    assert not isinstance(Unseen(), numbers.Number)

    def cached(cls: type) -> bool:  # is Unseen in a positive or negative cache?
        _, cache, negative, _ = abc._get_dump(cls)  # type: ignore[attr-defined]
        return any(ref() is Unseen for ref in (*cache, *negative))

    assert cached(Table) and cached(Amount)
    stdlib_caches.SAFE["abc caches"]()
    assert not cached(Table) and not cached(Amount)
    assert not cached(collections.abc.Mapping) and not cached(numbers.Number)


def test_before_a_test_the_registries_found_last_time_are_emptied_and_new_ones_found():
    """Before a test only what the last walk found is emptied; the walk is done again
    when sys.modules changed, or when a full pass (after a suspect) found something the
    last walk had not."""
    step = stdlib_caches.BeforeEachTest(stdlib_caches._warning_registries, dict.clear,
                                        weakly=False)
    known = types.ModuleType("lf_fake_known")
    known.__warningregistry__ = first = {"warning": 1}
    sys.modules["lf_fake_known"] = known
    try:
        step.before_test()  # the first walk
        assert first == {}
        first["again"] = 1
        step.before_test()  # no walk: what it found last time
        assert first == {}

        later = {"made": 1}
        vars(known)["__warningregistry__"] = later  # as a warning's first landing does
        step.before_test()  # not looked for yet: nothing changed that a walk would see
        assert later == {"made": 1}
        step()  # a suspect's full pass finds and empties it...
        assert later == {}
        later["made"] = 1
        step.before_test()  # ... and the next test starts without it
        assert later == {}

        new = types.ModuleType("lf_fake_new")
        new.__warningregistry__ = newest = {"warning": 1}
        sys.modules["lf_fake_new"] = new  # an import
        step.before_test()
        assert newest == {}
    finally:
        sys.modules.pop("lf_fake_known", None)
        sys.modules.pop("lf_fake_new", None)


def test_before_a_test_the_abcs_found_last_time_are_emptied_and_held_weakly():
    import abc
    import collections.abc

    class Table(collections.abc.Mapping):
        __getitem__ = __iter__ = __len__ = None  # type: ignore[assignment]

    class Unseen:
        pass

    def cached(cls: type) -> bool:
        _, cache, negative, _ = abc._get_dump(cls)  # type: ignore[attr-defined]
        return any(ref() is Unseen for ref in (*cache, *negative))

    step = stdlib_caches.BeforeEachTest(stdlib_caches._abc_tree, stdlib_caches._clear_abc,
                                        weakly=True)
    step.before_test()
    assert not isinstance(Unseen(), Table)
    assert cached(Table)
    step.before_test()  # from what the last walk found
    assert not cached(Table)
    gone = weakref.ref(Table)
    del Table
    gc.collect()
    assert gone() is None  # the step held it weakly
    step.before_test()


def test_every_stdlib_step_runs_on_this_interpreter():
    for step in stdlib_caches.SAFE.values():
        step()


def test_bounded_lru_caches_of_user_code_are_emptied_unbounded_kept(tmp_path):
    module = types.ModuleType("lf_user_module")
    module.__file__ = str(tmp_path / "user.py")

    @functools.lru_cache(maxsize=8)
    def bounded(n):
        return [n]

    @functools.cache
    def memo(n):
        return [n]

    class Holder:
        cached = staticmethod(functools.lru_cache(maxsize=4)(lambda n: [n]))

    module.bounded, module.memo, module.Holder = bounded, memo, Holder
    for f in (bounded, memo, Holder.cached):
        f(1)
    sys.modules["lf_user_module"] = module
    try:
        BoundedCaches(lambda filename: filename == module.__file__).clear()
    finally:
        del sys.modules["lf_user_module"]
    assert bounded.cache_info().currsize == 0
    assert Holder.cached.cache_info().currsize == 0
    assert memo.cache_info().currsize == 1  # how memos leak: left measurable


def test_bounded_caches_by_capacity_or_maxsize_are_emptied_unbounded_kept(tmp_path):
    """Caches with a size limit, at module level or on an object held there; a dict, a
    cache without a limit and one that cannot be referred to weakly are left alone."""

    class LRUCache:
        def __init__(self, capacity):
            self.capacity, self.data = capacity, {}

        def __len__(self):
            return len(self.data)

        def clear(self):
            self.data.clear()

    class Cache(LRUCache):  # cachetools' spelling of the limit
        @property
        def maxsize(self):
            return self.capacity

    class SlotCache:
        __slots__ = ("capacity", "data")

        def __init__(self):
            self.capacity, self.data = 5, {1: 1}

        def __len__(self):
            return len(self.data)

        def clear(self):
            self.data.clear()

    class Environment:
        def __init__(self):
            self.cache, self.unbounded = LRUCache(400), LRUCache(0)

    module = types.ModuleType("lf_cache_module")
    module.__file__ = str(tmp_path / "caches.py")
    module.lexers, module.env, module.ttl = LRUCache(50), Environment(), Cache(8)
    module.plain, module.slots = {1: [1]}, SlotCache()
    for cache in (module.lexers, module.env.cache, module.env.unbounded, module.ttl):
        cache.data["key"] = [1]
    sys.modules["lf_cache_module"] = module
    try:
        BoundedCaches(lambda filename: filename == module.__file__).clear()
    finally:
        del sys.modules["lf_cache_module"]
    assert (len(module.lexers), len(module.env.cache), len(module.ttl)) == (0, 0, 0)
    assert len(module.env.unbounded) == 1
    assert module.plain == {1: [1]}
    assert len(module.slots) == 1  # held strongly it would outlive its module: not held


def test_a_failing_step_is_noted_once_with_its_count_and_the_pass_goes_on():
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError("boom")

    cleanup = CleanupPass(HeapWindow(), skip=frozenset({"threads"}), hooks=broken)
    for _ in range(2):
        cleanup.run(frozenset())
    assert calls == [1, 1]
    assert cleanup.errors == [
        "pytest_leak_forensics_cleanup hook failed: RuntimeError: boom (2 times)"]


def test_skipped_steps_do_not_run():
    calls = []
    cleanup = CleanupPass(HeapWindow(), skip=frozenset({"user"}),
                          hooks=lambda: calls.append(1))
    cleanup.run(frozenset())
    assert calls == []


def test_linecache_step_forgets_files_and_keeps_registered_source():
    import linecache
    linecache.getline(functools.__file__, 1)
    linecache.cache["<registered>"] = (2, None, ["x\n"], "<registered>")
    try:
        stdlib_caches.SAFE["linecache"]()
        assert functools.__file__ not in linecache.cache
        assert "<registered>" in linecache.cache
        # The next pass is skipped only while nothing was added since this one.
        linecache.getline(functools.__file__, 1)
        stdlib_caches.SAFE["linecache"]()
        assert functools.__file__ not in linecache.cache
    finally:
        linecache.cache.pop("<registered>", None)


def test_a_warning_registry_never_outlives_a_change_of_filters():
    """Why emptying ``__warningregistry__`` hides no leak: the warnings module resets a
    registry whenever the filters change, and pytest changes them for every test (the
    plugin for every repetition), so a registry holds at most one run's warnings."""
    import warnings

    module = types.ModuleType("lf_warning_module")
    exec("import warnings\ndef warn(n):\n    warnings.warn(f'value {n}', UserWarning)\n",
         module.__dict__)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("default")
        for n in range(50):
            module.warn(n)
        assert len(module.__warningregistry__) > 50 - 1
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("default")
        module.warn(0)
        assert len(module.__warningregistry__) <= 2  # this run's warning and the version


def test_unbounded_stdlib_caches_keep_what_a_caller_can_add_without_limit():
    import codecs
    import encodings
    import inspect

    codecs.lookup("latin-1")
    with contextlib.suppress(LookupError):
        codecs.lookup("lf-no-such-charset")
    stdlib_caches.SAFE["encodings"]()
    assert "lf_no_such_charset" in encodings._cache
    assert all(codec is None for codec in encodings._cache.values())

    gone = types.ModuleType("lf_gone_module")
    gone.__file__ = "/nowhere/lf_gone_module.py"
    sys.modules["lf_gone_module"] = gone
    inspect.getmodule(compile("1", "/nowhere/elsewhere.py", "eval"))
    del sys.modules["lf_gone_module"]
    stdlib_caches.SAFE["inspect"]()
    assert set(inspect._filesbymodname) == {"lf_gone_module"}
    assert set(inspect.modulesbyfile.values()) == {"lf_gone_module"}


def test_bounded_lru_caches_are_looked_for_again_after_an_import(tmp_path):
    """The list of caches is kept between passes; a module imported later is found."""
    caches = BoundedCaches(lambda filename: filename.startswith(str(tmp_path)))
    caches.clear()  # nothing of ours yet
    module = _cached_module(tmp_path, "lf_late_module")
    sys.modules["lf_late_module"] = module
    try:
        caches.clear()
    finally:
        del sys.modules["lf_late_module"]
    assert module.g.cache_info().currsize == 0


def test_at_a_spans_end_only_the_caches_found_already_are_emptied(tmp_path):
    """Looking for new caches at every span's end cost milliseconds where modules come
    and go inside a test; they are looked for as the next window opens."""
    caches = BoundedCaches(lambda filename: filename.startswith(str(tmp_path)))
    caches.clear()
    module = _cached_module(tmp_path, "lf_span_module")
    sys.modules["lf_span_module"] = module
    try:
        caches.clear(find=False)  # a span's end
        assert module.g.cache_info().currsize == 1
        caches.note()  # the next window opens
        caches.clear(find=False)
    finally:
        del sys.modules["lf_span_module"]
    assert module.g.cache_info().currsize == 0


def _user_module(tmp_path, name, source="import functools\n"):
    module = types.ModuleType(name)
    module.__file__ = str(tmp_path / f"{name}.py")
    exec(source, module.__dict__)
    return module


def _cached_module(tmp_path, name):
    """A module of the code under test with a bounded cache that holds one entry."""
    module = _user_module(tmp_path, name, "import functools\n"
                          "@functools.lru_cache(maxsize=8)\ndef g(x):\n    return x")
    module.g(1)
    return module


def test_only_an_import_of_user_code_makes_the_caches_be_looked_for_again(tmp_path):
    """A cache made at run time is found at the next import of the code under test;
    other imports (a template module, a lazily imported standard module) cost no walk."""
    caches = BoundedCaches(lambda filename: filename.startswith(str(tmp_path)))
    old = _user_module(tmp_path, "lf_old_module")
    other = types.ModuleType("lf_library_module")
    other.__file__ = "/elsewhere/lib.py"
    new = _user_module(tmp_path, "lf_new_module")
    sys.modules["lf_old_module"] = old
    try:
        caches.clear()
        exec("@functools.lru_cache(maxsize=8)\ndef g(x):\n    return x", old.__dict__)
        old.g(1)
        sys.modules["lf_library_module"] = other
        caches.clear()
        assert old.g.cache_info().currsize == 1  # not looked for again
        sys.modules["lf_new_module"] = new
        caches.clear()
        assert old.g.cache_info().currsize == 0
    finally:
        for name in ("lf_old_module", "lf_library_module", "lf_new_module"):
            sys.modules.pop(name, None)


def test_a_user_module_imported_again_is_looked_at_again(tmp_path):
    source = "import functools\n@functools.lru_cache(maxsize=8)\ndef g(x):\n    return x"
    caches = BoundedCaches(lambda filename: filename.startswith(str(tmp_path)))
    sys.modules["lf_again_module"] = _user_module(tmp_path, "lf_again_module", source)
    try:
        caches.clear()
        again = _user_module(tmp_path, "lf_again_module", source)
        again.g(1)
        sys.modules["lf_again_module"] = again  # same name, a new module object
        sys.modules["lf_other_module"] = types.ModuleType("lf_other_module")
        caches.clear()
        assert again.g.cache_info().currsize == 0
    finally:
        sys.modules.pop("lf_again_module", None)
        sys.modules.pop("lf_other_module", None)


def test_path_importer_cache_goes_back_to_its_first_entries():
    """One finder per fresh temporary path a test imports from would grow it for good."""
    step = stdlib_caches.BackToFirstKeys(lambda: sys.path_importer_cache)
    step()  # what is there now stays
    before = dict(sys.path_importer_cache)
    sys.path_importer_cache["/tmp/lf-fresh-path-of-one-run"] = None
    step()
    assert "/tmp/lf-fresh-path-of-one-run" not in sys.path_importer_cache
    assert sys.path_importer_cache == before


def test_the_list_of_bounded_caches_keeps_no_module_alive(tmp_path):
    """A module a test imports and drops (a template engine's per-loader module) must be
    free to go; held by the cleanup, it was a leak of every test that made one."""
    import gc
    import weakref

    caches = BoundedCaches(lambda filename: filename.startswith(str(tmp_path)))
    module = types.ModuleType("lf_dropped_module")
    module.__file__ = str(tmp_path / "dropped.py")
    exec("import functools\n@functools.lru_cache(maxsize=8)\ndef g(x):\n    return x",
         module.__dict__)
    sys.modules["lf_dropped_module"] = module
    caches.clear()  # found, and remembered
    gone = weakref.ref(module.g)
    del sys.modules["lf_dropped_module"], module
    gc.collect()
    assert gone() is None


class _KeyedCache:
    """As jinja2's ``LRUCache``: a mapping with a capacity, read and written by key."""

    def __init__(self, capacity):
        self.capacity, self.data = capacity, {}

    def __len__(self):
        return len(self.data)

    def keys(self):
        return list(self.data)

    def __getitem__(self, key):
        return self.data[key]

    def __setitem__(self, key, value):
        if key not in self.data and len(self.data) >= self.capacity:
            del self.data[next(iter(self.data))]
        self.data[key] = value

    def __delitem__(self, key):
        del self.data[key]

    def clear(self):
        self.data.clear()


def _window(caches, body):
    """What a measured span does with the caches: settle, note, run, settle."""
    caches.clear(opening=True)
    caches.note()
    body()
    caches.clear()


def test_a_keyed_cache_loses_what_a_window_added_until_the_same_key_comes_back(tmp_path):
    """Each window's new entries go, but an entry built again and again (jinja2's lexer
    for the default settings, built by most of its tests) is kept once it has been
    dropped ``KEEP_AFTER`` times; what was there as the window opened stays."""
    module = _user_module(tmp_path, "lf_keyed_module")
    module.lexers = lexers = _KeyedCache(50)
    sys.modules["lf_keyed_module"] = module
    caches = BoundedCaches(lambda filename: filename == module.__file__)
    try:
        caches.clear(opening=True)
        caches.note()
        lexers["before"] = "kept: there as the window opened"
        caches.note()
        for run in range(bounded_caches.KEEP_AFTER):
            def build(run=run):
                lexers[("default",)] = run
                lexers[("unique", run)] = run
            _window(caches, build)
            assert lexers.keys() == ["before"]
        _window(caches, lambda: lexers.__setitem__(("default",), "kept"))
        assert sorted(map(str, lexers.keys())) == ["('default',)", "before"]
        assert lexers[("default",)] == "kept"
        assert not caches.take_disturbed()
    finally:
        del sys.modules["lf_keyed_module"]


def test_a_window_in_which_a_keyed_cache_lost_an_entry_is_not_trusted(tmp_path):
    """An entry there as the window opened and gone at its end (evicted from a full
    cache, or emptied by the test) freed memory that could hide a leak as large."""
    module = _user_module(tmp_path, "lf_evicting_module")
    module.templates = templates = _KeyedCache(2)
    sys.modules["lf_evicting_module"] = module
    caches = BoundedCaches(lambda filename: filename == module.__file__)
    try:
        for _ in range(bounded_caches.KEEP_AFTER + 1):
            _window(caches, lambda: templates.__setitem__("layout", [0] * 100))
        assert templates.keys() == ["layout"]
        _window(caches, lambda: templates.__setitem__("page", 1))  # room for it
        assert not caches.take_disturbed()
        for name in ("a", "b"):  # the second one evicts "layout"
            templates[name] = 1
        caches.clear()
        assert caches.take_disturbed()
        assert not caches.take_disturbed()  # taken
    finally:
        del sys.modules["lf_evicting_module"]


def test_noting_a_keyed_cache_keeps_none_of_its_keys_alive(tmp_path):
    """jinja2's ``LRUCache`` puts the caller's key object in its queue on every hit;
    were the old one held by the note, each test that hits would keep a block."""

    class Key:
        def __init__(self, name):
            self.name = name

        def __hash__(self):
            return hash(self.name)

        def __eq__(self, other):
            return isinstance(other, Key) and other.name == self.name

    module = _user_module(tmp_path, "lf_key_module")
    module.cache = cache = _KeyedCache(8)
    sys.modules["lf_key_module"] = module
    caches = BoundedCaches(lambda filename: filename == module.__file__)
    try:
        caches.clear(opening=True)
        first = Key("default")
        cache[first] = 1
        caches.note()
        gone = weakref.ref(first)
        del cache[first], first
        gc.collect()
        assert gone() is None
    finally:
        del sys.modules["lf_key_module"]


def test_an_entry_keyed_by_an_object_of_the_run_is_never_kept(tmp_path):
    """A key that hashes by identity (a loader, a weak reference to one) is a new key on
    every run even when an address comes back with the same hash: always dropped."""

    class Loader:
        pass

    module = _user_module(tmp_path, "lf_identity_module")
    module.templates = templates = _KeyedCache(50)
    sys.modules["lf_identity_module"] = module
    caches = BoundedCaches(lambda filename: filename == module.__file__)
    loader = Loader()  # one object: its hash comes back on every run
    try:
        for key in [(weakref.ref(loader), "page"), (loader, "page"), Loader]:
            for _ in range(bounded_caches.KEEP_AFTER + 2):
                _window(caches, lambda key=key: templates.__setitem__(key, [0] * 10))
                assert len(templates) == 0, key
    finally:
        del sys.modules["lf_identity_module"]
