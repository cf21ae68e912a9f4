"""The standard library's memo caches, emptied before each measurement.

The list follows CPython's own refleak hunter, with one rule on top: a step forgets only
what cannot grow without bound on its own, so a leak into a cache stays measurable. Most
caches here are bounded (``re``, ``struct``, ``fnmatch``, ``typing``, ``_strptime``,
``urllib.parse`` and ``importlib.metadata`` cap their size; the ``abc`` caches are weak;
the type cache is fixed-size). ``__warningregistry__`` is reset by the warnings module
whenever the filters change, which pytest does for every test and the plugin for every
repetition, so it never outlives one run. The unbounded ones keep the entries a caller
can add without limit: ``linecache`` keeps source registered with no file behind it,
``encodings`` keeps the names it failed to find, ``inspect`` keeps the files of modules
that left ``sys.modules``. Every step touches only modules that are already imported
(clearing a cache must never import anything) and tolerates a missing private name,
because these are implementation details that move between versions.

Three of CPython's steps reset *state* rather than a memo: ``ctypes._reset_cache()`` makes
``POINTER(T)`` return a new type (argtypes checks against the old one then fail),
``mimetypes`` forgets types the program added, and ``urllib.request.urlcleanup()`` drops
an installed opener and deletes retrieved files. CPython's tests are built for that; a
user's suite is not, so those run only when a project opts in with ``stdlib-unsafe``.
"""

from __future__ import annotations

import abc
import contextlib
import gc
import sys
import weakref
from array import array
from collections.abc import Callable
from itertools import islice, repeat
from typing import Any

from leak_forensics.referents import unsafe_module

from .thread_tables import ThreadTables


def _mod(name: str) -> object | None:
    return sys.modules.get(name)


def _call(module: str, *path: str) -> None:
    obj = _mod(module)
    for attr in path:
        obj = getattr(obj, attr, None)
        if obj is None:
            return
    obj()  # type: ignore[operator]  # a callable found by name


def _warning_registries() -> list[dict[object, object]]:
    """Every module's ``__warningregistry__``.

    A warning can land in any module's registry, so every namespace is looked at (about
    700 under pytest). The namespaces are taken in C, as the modules' referents (a
    module's getattr one by one costs twice as much); none is kept: a module that leaves
    ``sys.modules`` must be free to go, with all it holds (jinja2's template modules do),
    and the owner search must not find a leaked module's namespace held here (kept
    between passes, a module registered per run lost its explanation).
    """
    unsafe = unsafe_module()
    if unsafe is None:
        referents = gc.get_referents(*sys.modules.values())
    else:  # its namespace alone: see ``referents``
        referents = gc.get_referents(*(m for m in sys.modules.values() if m is not unsafe))
        referents.append(vars(unsafe))
    spaces = [space for space in referents if type(space) is dict]
    del referents
    return [registry for registry in filter(None, map(dict.get, spaces, repeat(_REGISTRY)))
            if type(registry) is dict]


_REGISTRY = "__warningregistry__"


class _AbcCaches:
    """Empty the subclass caches of one module's ABCs (``typing``'s protocols).

    Which of its names are ABCs is found once per module object (a walk of a few hundred
    names, 20 us), not on every pass."""

    def __init__(self, module: str) -> None:
        self._module = module
        self._found: tuple[weakref.ref[object], list[Any]] | None = None

    def __call__(self) -> None:
        module = _mod(self._module)
        if module is None:
            return
        if self._found is None or self._found[0]() is not module:
            self._found = (weakref.ref(module), [value for value in list(vars(module).values())
                                                 if isinstance(value, abc.ABCMeta)])
        for cls in self._found[1]:
            _clear_abc(cls)


_typing_abcs = _AbcCaches("typing")


#: The standard library's modules of ABCs that any code checks against.
_ABC_MODULES = ("collections.abc", "numbers")


def _abc_tree() -> list[type]:
    """The ABCs in ``collections.abc`` and ``numbers`` and every class derived from them
    (CPython's refleak hunter empties the caches of the first).

    ``isinstance(x, Mapping)`` asks each of Mapping's subclasses in turn, and every
    one of them that is an ABC (any class deriving from one is) remembers the answer in
    a cache of its own: a test that checks a new type against ``Mapping`` or ``Number``
    grows the caches of classes anywhere in the process (jinja2's ``is mapping`` and
    ``is number`` tests: up to +36 blocks on a first run). The tree is walked each time
    (about 60 classes, 35 us), so a class defined since the last walk is not missed.
    """
    seen: set[type] = set()
    todo: list[type] = []
    for module in filter(None, map(_mod, _ABC_MODULES)):
        todo.extend(value for value in list(vars(module).values())
                    if isinstance(value, abc.ABCMeta))
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.add(cls)
            subclasses: list[type] = type.__subclasses__(cls)
            todo.extend(sub for sub in subclasses if isinstance(sub, abc.ABCMeta))
    return list(seen)


def _abc_caches_clear(cls: type) -> None:
    cls._abc_caches_clear()  # type: ignore[attr-defined]  # private in typeshed


#: What ``_abc_caches_clear`` calls (``abc`` imports it from ``_abc``), without its two
#: Python frames: 60 calls before each test. ``_py_abc`` has only the method.
_clear_abc: Callable[[type], None] = getattr(abc, "_reset_caches", _abc_caches_clear)


class BeforeEachTest:
    """A step too slow for every span's ends, as it is taken before each test.

    Its walk (a few hundred namespaces, or the tree of ABCs: 50-140 us each on jinja2's
    suite, where the CPU's caches are cold) finds the same things test after test. So
    before a test the things found by the last walk are emptied, and the walk is done
    again only when it may find more: when ``sys.modules`` changed (an import brings new
    modules and classes) or when a full pass (``__call__``: after a suspect's run and
    each repetition) found something new. A registry or an ABC made by a test that did
    not become a suspect is found at the next walk; until then it is not emptied before
    a test, and a suspect after it is credited with emptying it (``Probe.finish_screen``):
    only a suspect's screen can be lowered, by those entries.

    What the walk found is kept outside any window (before a test): registries as they
    are (a dict each, let go at the next walk), classes weakly. A full pass runs inside
    a window, so it keeps nothing.
    """

    def __init__(self, find: Callable[[], list[Any]], clear: Callable[[Any], None],
                 weakly: bool) -> None:
        self._find = find
        self._clear = clear
        self._weakly = weakly
        self._known: list[Any] = []
        self._known_ids: frozenset[int] = frozenset()
        self._modules = -1
        self._stale = True

    def __call__(self) -> None:
        """The full pass: everything the walk finds now is emptied."""
        found = self._find()
        for thing in found:
            self._clear(thing)
        if not self._stale and not self._known_ids.issuperset(map(id, found)):
            self._stale = True

    def before_test(self) -> None:
        if self._stale or len(sys.modules) != self._modules:
            found = self._find()
            for thing in found:
                self._clear(thing)
            self._known = [weakref.ref(thing) for thing in found] if self._weakly else found
            self._known_ids = frozenset(map(id, found))
            self._modules = len(sys.modules)
            self._stale = False
            return
        for held in self._known:
            thing = held() if self._weakly else held
            if thing is not None:
                self._clear(thing)


WARNING_REGISTRIES = BeforeEachTest(_warning_registries, dict.clear, weakly=False)
ABC_CACHES = BeforeEachTest(_abc_tree, _clear_abc, weakly=True)


def _clear_typing() -> None:
    typing = _mod("typing")
    if typing is None:
        return
    for cleanup in list(getattr(typing, "_cleanups", ())):
        cleanup()
    _typing_abcs()


def _linecache() -> dict[str, Any] | None:
    cache = getattr(_mod("linecache"), "cache", None)
    return cache if isinstance(cache, dict) else None


def _registered(entry: object) -> bool:
    """A ``linecache`` entry with no file behind it (``mtime`` None): source registered
    by the code that generated it."""
    return isinstance(entry, tuple) and len(entry) == 4 and entry[1] is None


class LinecacheFiles:
    """Forget the source lines of files on disk, which the harness's tracebacks and
    assertion messages read, and lazy loaders; keep entries with no file behind them
    (``mtime`` None: source a library registered itself). Those can only grow if the code
    under test keeps adding them, which is a leak to report, not warm-up to remove.

    After a pass only registered entries are left, and they are never removed but by
    the code that made them; so while the cache has the length a pass left, nothing was
    added and the pass is skipped (a look at 200 entries, attrs registers one per class,
    costs ~25 us, several times a test).
    """

    def __init__(self) -> None:
        # The id and length of the cache a pass left, in place: a pass inside a measured
        # span must leave no new object behind.
        self._left = array("q", [0, -1])

    def __call__(self) -> None:
        cache = _linecache()
        if cache is None:
            return
        left = self._left
        if left[0] == id(cache) and left[1] == len(cache):
            return
        for name, entry in list(cache.items()):
            if not _registered(entry):
                del cache[name]
        left[0], left[1] = id(cache), len(cache)


class RegisteredSource:
    """The screen's view of source registered in ``linecache`` by generated code.

    attrs registers the source of the methods it writes for every class it makes, under
    a name made from the class's qualified name, so a test that defines a class adds an
    entry on its first run and none on the next (the name is the same). The screen sees
    one run: on attrs' own suite that first entry made a third of the tests suspects.
    CPython's refleak hunter (``-R``) empties ``linecache`` between runs for that reason.
    So what a screened span registered is forgotten at its end (``forget_new``; the length
    is noted as the window opens, and dicts keep insertion order, so the new names are
    the last ones). The repetitions keep registered source, as before: a library that
    registers every call's source under a new name leaks, and a suspect's repetitions
    still find it, with its site and ``linecache.cache`` as the owner. What the screen
    gives up is a test whose only growth is such an entry (``--leak-forensics-all``
    repeats every test).
    """

    def __init__(self) -> None:
        self._noted = array("q", [0, -1])  # id and length of the cache as a window opened

    def note(self) -> None:
        cache = _linecache()
        noted = self._noted
        noted[0], noted[1] = (0, -1) if cache is None else (id(cache), len(cache))

    def forget_new(self) -> None:
        cache = _linecache()
        noted = self._noted
        if cache is None or noted[0] != id(cache) or noted[1] < 0:
            return
        added = len(cache) - noted[1]
        if added > 0:
            for name in list(islice(reversed(cache), added)):
                if _registered(cache[name]):
                    del cache[name]


REGISTERED_SOURCE = RegisteredSource()


def _clear_strptime() -> None:
    cache = getattr(_mod("_strptime"), "_regex_cache", None)
    if isinstance(cache, dict):
        cache.clear()


class BackToFirstKeys:
    """An import-system cache back to the keys it had when measuring began.

    ``sys.path_importer_cache`` keeps a finder for every directory or archive ever
    imported from, and ``zipimport`` the table of contents of every archive: a test that
    imports from a fresh temporary path on every run (a template loader, a plugin
    system) grows them by an entry per run, for good. CPython's refleak hunter restores
    both around every run for that reason. Dropping an entry costs only a new lookup at
    the next import from that path.
    """

    def __init__(self, find: Callable[[], object]) -> None:
        self._find = find
        self._kept: frozenset[object] | None = None

    def __call__(self) -> None:
        cache = self._find()
        if not isinstance(cache, dict):
            return
        if self._kept is None:
            self._kept = frozenset(cache)
        elif not self._kept.issuperset(cache):
            for key in [k for k in cache if k not in self._kept]:
                del cache[key]


def _clear_filecmp() -> None:
    cache = getattr(_mod("filecmp"), "_cache", None)
    if isinstance(cache, dict):
        cache.clear()


def _clear_doctest() -> None:
    doctest = _mod("doctest")
    if doctest is not None and hasattr(doctest, "master"):
        doctest.master = None


def _clear_inspect() -> None:
    """``getmodule`` records every module in ``sys.modules`` once: bounded by it, except for
    modules that have left it (code made and dropped per call), whose entries stay."""
    inspect = _mod("inspect")
    by_name = getattr(inspect, "_filesbymodname", None)
    by_file = getattr(inspect, "modulesbyfile", None)
    if isinstance(by_name, dict):
        for name in [n for n in by_name if n in sys.modules]:
            del by_name[name]
    if isinstance(by_file, dict):
        for path in [p for p, n in by_file.items() if n in sys.modules]:
            del by_file[path]


def _clear_importlib_metadata() -> None:
    fast_path = getattr(_mod("importlib.metadata"), "FastPath", None)
    new = getattr(fast_path, "__new__", None)
    if hasattr(new, "cache_clear"):
        new.cache_clear()  # type: ignore[union-attr]  # functools.cache's method


def _clear_encodings() -> None:
    """Codecs found are bounded by the codecs installed; a name not found is cached as None
    for good, so code that looks up names from its input (a charset header) grows it."""
    cache = getattr(_mod("encodings"), "_cache", None)
    if isinstance(cache, dict):
        for name in [n for n, codec in cache.items() if codec is not None]:
            del cache[name]


def _clear_type_cache() -> None:
    clear = getattr(sys, "_clear_internal_caches", None) or sys._clear_type_cache
    clear()


def _flush_standard_streams() -> None:
    # Buffered output keeps its Python objects alive until written.
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        flush = getattr(stream, "flush", None)
        if flush is not None:
            flush()


class WindowPatterns:
    """``re``'s compiled patterns, emptied of what was compiled since a window opened.

    Purged at every span's ends, the cache loses what the test runner compiles between
    them: pytest's junit XML writer escapes every report through a pattern of unicode
    ranges that takes ~6 ms to compile, which doubled the plugin's cost on jinja2's suite
    with ``--junitxml``. So the keys present as a window opens are noted (``note``, just
    before its first count, kept until the next window: never counted) and only the
    others are dropped inside it: the test's patterns go, the runner's stay. Without a
    note, or if ``re`` changed shape, it purges. The caches are emptied and refilled
    rather than deleted from: a dict keeps its grown table after deletions and resizes
    it at some later insertion, a few KiB of C memory that would move in whichever test
    inserts then. (Templates of ``re.sub``, 3.12+, are emptied at both ends.)
    """

    def __init__(self) -> None:
        self._noted: tuple[frozenset[object], ...] | None = None

    @staticmethod
    def _caches() -> list[dict[object, object]]:
        re = _mod("re")
        return [cache for cache in (getattr(re, "_cache", None), getattr(re, "_cache2", None))
                if type(cache) is dict]

    def note(self) -> None:
        self._noted = tuple(frozenset(cache) for cache in self._caches())
        # Emptied here too, outside the window: emptied only inside it, it would free
        # the templates the runner made between windows and hide a leak that size.
        _call("re", "_compile_template", "cache_clear")

    def __call__(self) -> None:
        caches, noted = self._caches(), self._noted
        if noted is None or len(noted) != len(caches):
            _call("re", "purge")
            return
        for cache, kept in zip(caches, noted, strict=True):
            if not kept.issuperset(cache):
                survivors = [(key, value) for key, value in cache.items() if key in kept]
                cache.clear()
                cache.update(survivors)
        _call("re", "_compile_template", "cache_clear")


PATTERNS = WindowPatterns()


class SlotNames:
    """The slot names ``copyreg`` caches on a class the first time one of its instances
    is pickled or copied (``cls.__slotnames__``), forgotten at each span's ends.

    It is a block in the first test to pickle the class and nothing in a repetition (11 of
    attrs' 36 suspects). Which classes get one is seen as it happens: the interpreter
    looks ``copyreg._slotnames`` up on the module at each call, so a wrapper put there
    (``install``) notes each class it caches for. They are noted in a list made
    beforehand, so noting allocates nothing inside a window, and let go as their entries
    are deleted. Past ``size`` classes between two span ends, the rest keep their entry,
    and the test is a suspect, as before.
    """

    def __init__(self, size: int = 64) -> None:
        self._classes: list[type | None] = [None] * size
        self._count = 0
        self._original: Callable[[type], object] | None = None

    def install(self) -> None:
        import copyreg

        if self._original is None:
            self._original = copyreg._slotnames  # type: ignore[attr-defined]  # private, stable since 2.x
            copyreg._slotnames = self._slotnames  # type: ignore[attr-defined]  # see above

    def _slotnames(self, cls: type) -> object:
        assert self._original is not None
        fresh = "__slotnames__" not in cls.__dict__
        names = self._original(cls)
        if fresh and self._count < len(self._classes) and "__slotnames__" in cls.__dict__:
            self._classes[self._count] = cls
            self._count += 1
        return names

    def __call__(self) -> None:
        for index in range(self._count):
            cls, self._classes[index] = self._classes[index], None
            # Gone already, or a class that refuses (a metaclass's __delattr__).
            with contextlib.suppress(AttributeError, TypeError):
                del cls.__slotnames__  # type: ignore[union-attr]  # set by copyreg
        self._count = 0


SLOT_NAMES = SlotNames()

SAFE: dict[str, Callable[[], None]] = {
    "__warningregistry__": WARNING_REGISTRIES,
    "re": PATTERNS,
    "typing": _clear_typing,
    "abc caches": ABC_CACHES,
    "_strptime": _clear_strptime,
    "urllib.parse": lambda: _call("urllib.parse", "clear_cache"),
    "linecache": LinecacheFiles(),
    "filecmp": _clear_filecmp,
    "sys.path_importer_cache": BackToFirstKeys(lambda: sys.path_importer_cache),
    "zipimport": BackToFirstKeys(lambda: getattr(_mod("zipimport"), "_zip_directory_cache",
                                                  None)),
    "struct": lambda: _call("struct", "_clearcache"),
    "doctest.master": _clear_doctest,
    "fractions": lambda: _call("fractions", "_hash_algorithm", "cache_clear"),
    "fnmatch": lambda: _call("fnmatch", "_compile_pattern", "cache_clear"),
    "inspect": _clear_inspect,
    "importlib.metadata": _clear_importlib_metadata,
    "encodings": _clear_encodings,
    "type cache": _clear_type_cache,
    "std streams": _flush_standard_streams,
    "threading": ThreadTables(),
    "copyreg": SLOT_NAMES,
}

#: Steps that every read of the counters does itself (``measure.meter``).
EMPTIED_BY_READS = frozenset({"type cache"})
#: Steps too slow for every span's ends: done before a test and after one that grew.
ONCE_PER_TEST: dict[str, BeforeEachTest] = {"__warningregistry__": WARNING_REGISTRIES,
                                            "abc caches": ABC_CACHES}
#: Steps that forget only what a window added (``WindowPatterns``): left out as one opens.
ONLY_INSIDE_WINDOWS = frozenset({"re"})

UNSAFE: dict[str, Callable[[], None]] = {
    "ctypes": lambda: _call("ctypes", "_reset_cache"),
    "mimetypes": lambda: _call("mimetypes", "_default_mime_types"),
    "urllib.request": lambda: _call("urllib.request", "urlcleanup"),
}
