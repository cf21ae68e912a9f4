"""The bounded memo caches of the code under test, emptied before each measurement.

A cache with a size limit larger than the number of repetitions fills a little on every
run and looks exactly like a leak: a template engine's lexer cache keyed by the
environment's settings gave each test with its own settings 66 blocks on its first run
(jinja2's suite: 25 needless suspects), and a module-level environment's template cache
kept each test's templates (15 more). Emptied at both ends of every span, what a run put
there is gone before it is counted. Unbounded caches (``lru_cache(maxsize=None)``, a
plain dict) are left alone: they are how memos leak.

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
from collections.abc import Callable, Iterator
from typing import Any

from ..harness import is_user_module, user_namespace_values

_LRU_WRAPPER = type(functools.lru_cache(maxsize=1)(len))
_LIMITS = ("maxsize", "capacity")
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

    def clear(self) -> None:
        if len(sys.modules) != self._modules:
            self._modules = len(sys.modules)
            if self._user_module_imported():
                self._found = list(_weakly(self._find()))
        for ref in self._found:
            cache = ref()
            if cache is None:
                continue
            if type(cache) is _LRU_WRAPPER:
                cache.cache_clear()
            elif len(cache):
                cache.clear()

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
