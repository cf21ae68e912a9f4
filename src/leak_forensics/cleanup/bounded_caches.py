"""The bounded memo caches of the code under test, settled before each measurement.

A cache with a size limit larger than the number of repetitions fills a little on every
run and looks exactly like a leak: a template engine's lexer cache keyed by the
environment's settings gave each test with its own settings 66 blocks on its first run
(jinja2's suite: 25 needless suspects), and a module-level environment's template cache
kept each test's templates (15 more). So what a run put there is gone before it is
counted. Unbounded caches (``lru_cache(maxsize=None)``, a plain dict) are left alone:
they are how memos leak.

A cache that can be read and written by key (jinja2's ``LRUCache``, cachetools) loses
only the entries a window added, and only until the same key has been dropped
``KEEP_AFTER`` times: from then on the entry is kept, and the test that made it last is
charged for it once (a suspect, confirmed clean). Only a key made of values counts as
the same key again (``_by_value``): an entry keyed by an object of the run always goes.
Emptied at every span's ends instead, jinja2's lexer for the default settings was built
again by 773 of its 909 tests, about a quarter of the plugin's cost there. Keys are
remembered by hash only, so nothing a test made is kept alive by this. A window in
which an entry that was there as it opened disappeared (a full cache evicted it, or the
test emptied it) freed memory that could hide a leak as large: it is reported
(``take_disturbed``), and the run is confirmed by repetition rather than trusted. An
``lru_cache`` cannot drop one entry: it is emptied at both ends of every span.

What counts as a bounded cache: a ``functools.lru_cache`` with a ``maxsize``, or an
object whose type has ``clear`` and ``__len__`` and which has a positive integer
``maxsize`` (cachetools) or ``capacity`` (jinja2's ``LRUCache``). Where: a module global
or a class attribute of the code under test, or an attribute of an object held there
(``env.cache`` of a module-level ``env``). The test runner's, the standard library's
(``stdlib_caches``, by name) and other libraries' caches are not touched: emptying them
would only make them slower.

Finding them walks every user module and class (3-7 ms on a mid-sized package) and is
needed several times per test, so the list is kept until a module of the code under test
is imported (or imported again): a cache made later, on an object made at run time, is
found at the next such import. Other imports do not count: jinja2's suite imports 25
times while its tests run (template modules, lazily imported standard modules), and
walking again on each cost 0.18 s, 6 % of the plugin's time there. The list holds them
weakly, so a module that leaves ``sys.modules`` takes its caches with it; a cache that
cannot be referred to weakly is left alone.
"""

from __future__ import annotations

import functools
import sys
import weakref
from array import array
from collections.abc import Callable, Iterator
from typing import Any

from ..harness import is_user_module, user_namespace_values

_LRU_WRAPPER = type(functools.lru_cache(maxsize=1)(len))
_LIMITS = ("maxsize", "capacity")
#: Times a key's entry is dropped before it is kept (``KEEP_AFTER`` rebuilds paid for).
KEEP_AFTER = 3
#: Keys dropped in one window that are remembered (the rest are simply dropped again).
_PENDING = 64
#: The methods a cache needs to lose single entries.
_KEYED = ("keys", "__getitem__", "__setitem__")
#: Values that are neither a cache nor hold one as an attribute: code and plain data.
_PLAIN = frozenset({type(len), type(lambda: 0), str, bytes, int, float, bool, tuple, list,
                    dict, set, frozenset, type(None)})
#: Namespaces, walked on their own (``user_namespace_values``).
_NAMESPACES = (type, type(sys))


def _plain(kind: type) -> bool:
    return kind in _PLAIN or issubclass(kind, _NAMESPACES)


class BoundedCaches:
    def __init__(self, is_user_file: Callable[[str], bool]) -> None:
        self._is_user_file = is_user_file
        self._found: list[weakref.ref[Any]] = []
        self._modules = -1
        #: The sum of the ids of the user modules in ``sys.modules`` at the last look: one
        #: number, so keeping it costs no memory that moves with the imports (a table of
        #: modules kept here grew by a block for each template module jinja2 made).
        self._signature = -1
        #: The hashes of each keyed cache's keys as the last window opened, by the cache's
        #: id. Not the keys: a key object held here would outlive its replacement (jinja2's
        #: ``LRUCache`` swaps in the caller's equal key on each hit), a block every test.
        self._noted: dict[int, frozenset[int]] = {}
        #: How often each key's entry was dropped, by the key's hash.
        self._drops: dict[int, int] = {}
        #: Hashes of the keys dropped since the last ``note``, slot 0 their number: a
        #: window's end must not allocate, so they are counted at the next ``note``.
        self._pending = array("q", bytes(8 * (_PENDING + 1)))
        self._disturbed = False

    def note(self) -> None:
        """A window opens: count the drops of the last one, and note each keyed cache's
        keys (what the window adds is what it may have to drop)."""
        pending, drops = self._pending, self._drops
        for index in range(1, pending[0] + 1):
            drops[pending[index]] = drops.get(pending[index], 0) + 1
        pending[0] = 0
        self._disturbed = False
        self._find_new()
        self._noted = {id(cache): frozenset(map(_hash, cache.keys()))
                       for cache in self._keyed_caches()}

    def clear(self, opening: bool = False, find: bool = True) -> None:
        """Settle the caches at a span's end, or as one opens (``opening``: what was
        added since the last window, outside any window, goes; nothing is judged).

        ``find=False`` (at a span's end): only the caches found already. Modules come and
        go inside a test (jinja2's module loader registers one per template), and looking
        for new caches each time cost 1-6 ms; a test that imports a module of its own is
        a suspect for the import anyway, and the caches are looked for as the next window
        opens."""
        if find:
            self._find_new()
        for ref in self._found:
            cache = ref()
            if cache is None:
                continue
            if type(cache) is _LRU_WRAPPER:
                cache.cache_clear()
            elif _keyed(cache):
                self._settle(cache, opening)
            elif len(cache):
                cache.clear()

    def _find_new(self) -> None:
        if len(sys.modules) != self._modules:
            self._modules = len(sys.modules)
            if self._user_module_imported():
                self._found = list(_weakly(self._find()))

    def take_disturbed(self) -> bool:
        """Did an entry noted as a window opened disappear in it (since the last call)?"""
        disturbed, self._disturbed = self._disturbed, False
        return disturbed

    def _keyed_caches(self) -> Iterator[Any]:
        for ref in self._found:
            cache = ref()
            if cache is not None and type(cache) is not _LRU_WRAPPER and _keyed(cache):
                yield cache

    def _settle(self, cache: Any, opening: bool) -> None:
        """Drop the entries added since the window opened whose key has not been dropped
        ``KEEP_AFTER`` times yet, one by one where the cache allows: emptied and refilled,
        jinja2's ``LRUCache`` would hold each key once where it held two equal keys
        (its queue keeps the latest key object, its dict the first), and the next test
        to use an entry would make the difference, a block (jinja2's suite: 50 suspects
        instead of 44)."""
        noted = self._noted.get(id(cache), frozenset())
        keys = list(cache.keys())
        added = [(key, hashed) for key in keys if (hashed := _hash(key)) not in noted]
        if not opening and len(keys) - len(added) < len(noted):
            self._disturbed = True
        drops, pending = self._drops, self._pending
        dropped = []
        for key, hashed in added:
            if drops.get(hashed, 0) < KEEP_AFTER:
                dropped.append(key)
                if pending[0] < _PENDING and _by_value(key):
                    pending[0] += 1
                    pending[pending[0]] = hashed
        if not dropped:
            return
        if len(dropped) == len(keys):
            cache.clear()  # and with it the table that a deletion would leave allocated
            return
        if callable(getattr(type(cache), "__delitem__", None)):
            for key in dropped:
                del cache[key]
            return
        kept = [(key, cache[key]) for key in reversed(keys) if key not in dropped]
        cache.clear()
        for key, value in kept:
            cache[key] = value

    def _user_module_imported(self) -> bool:
        """Has a module of the code under test come into ``sys.modules`` (under a new
        name, or as a new object under an old one) since the last look?"""
        signature = sum(id(module) for module in list(sys.modules.values())
                        if is_user_module(module, self._is_user_file))
        changed = signature != self._signature
        self._signature = signature
        return changed

    def _find(self) -> Iterator[Any]:
        seen: set[int] = set()
        for candidate in user_namespace_values(self._is_user_file):
            for value in (candidate, *_attributes(candidate)):
                if type(value) in (staticmethod, classmethod):
                    value = value.__func__  # type: ignore[attr-defined]  # checked just above
                if id(value) not in seen and _bounded(value):
                    seen.add(id(value))
                    yield value


def _weakly(caches: Iterator[Any]) -> Iterator[weakref.ref[Any]]:
    for cache in caches:
        try:
            yield weakref.ref(cache)
        except TypeError:
            continue


def _hash(key: object) -> int:
    """A key's hash; -1 (which no hash is) for one that has none any more: a weak
    reference whose referent died before it was ever hashed."""
    try:
        return hash(key)
    except TypeError:
        return -1


#: Types whose hash comes from their value.
_VALUES = frozenset({str, bytes, int, float, complex, bool, type(None)})
_NESTING = 4


def _by_value(key: object, depth: int = 0) -> bool:
    """Is the key the same key whenever its hash is (made of strings, numbers, and
    objects whose type hashes them by value)? An object hashed by identity, or a weak
    reference to one (jinja2's template cache keys on its loader's), is a new key on
    every run, and its hash comes back only when the address does: counted by hash, such
    an entry would be kept or not by where the allocator put the object, and two
    identical runs could differ. Such entries are always dropped."""
    kind = type(key)
    if kind in _VALUES:
        return True
    if kind is tuple or kind is frozenset:
        return depth < _NESTING and all(_by_value(part, depth + 1) for part in key)  # type: ignore[attr-defined]  # checked just above
    if issubclass(kind, (type, weakref.ref)):
        return False
    return kind.__hash__ is not object.__hash__


def _keyed(cache: object) -> bool:
    kind = type(cache)
    return all(callable(getattr(kind, name, None)) for name in _KEYED)


def _attributes(value: object) -> list[object]:
    """The attributes of an object held in a namespace (none for a namespace, code or
    plain data). Read from the instance's own dict, so no property or ``__getattr__`` of
    the object runs."""
    kind = type(value)
    if _plain(kind):
        return []
    try:
        namespace = object.__getattribute__(value, "__dict__")
    except Exception:  # no dict, or a descriptor of its own that refuses
        return []
    return list(namespace.values()) if type(namespace) is dict else []


def _bounded(value: object) -> bool:
    """Is this a cache with a size limit (see the module's docstring)?"""
    kind = type(value)  # type() first: isinstance asks a dead weak proxy, which raises
    if kind is _LRU_WRAPPER:
        return bool(value.cache_parameters()["maxsize"])  # type: ignore[attr-defined]  # an lru_cache
    if _plain(kind) or not (callable(getattr(kind, "clear", None))
                            and hasattr(kind, "__len__")):
        return False
    for name in _LIMITS:
        try:
            limit = getattr(value, name, None)
        except Exception:
            continue
        if type(limit) is int and limit > 0:
            return True
    return False
