"""What counts as the test harness rather than the code under test: one list for every stage.

Allocation sites, owner roots and the type census all leave the harness out: pytest, its
plugin machinery, pytest-xdist's transport, this toolkit and the libraries it calls while
measuring. A leak is never charged to them.
"""

from __future__ import annotations

import functools
import gc
import os
import sys
from collections.abc import Callable, Iterator

#: Top-level packages (and single-file modules) of the harness.
HARNESS_PACKAGES = ("_pytest", "pytest", "pluggy", "xdist", "execnet", "leak_forensics",
                    "objgraph")
#: Modules whose types the census leaves out: the harness, and tracemalloc's own
#: snapshot objects, which only exist because we measure.
HARNESS_TYPE_PREFIXES = tuple(f"{name}." for name in (*HARNESS_PACKAGES, "tracemalloc"))

_OWN_DIR = os.path.join(os.path.normcase(os.path.realpath(os.path.dirname(__file__))), "")


def _user_modules(is_user_file: Callable[[str], bool]
                  ) -> Iterator[tuple[str, dict[str, object]]]:
    """Name and namespace of each module of the code under test (whose file
    ``is_user_file``). Any object may sit in ``sys.modules`` (a dead weak proxy raises on
    every attribute), so what cannot be read is passed over."""
    for name, module in sys.modules.copy().items():
        if is_user_module(module, is_user_file):
            yield name, module.__dict__


def is_user_module(module: object, is_user_file: Callable[[str], bool]) -> bool:
    """Is this a module of the code under test, with a namespace to read?"""
    try:
        filename = getattr(module, "__file__", None)
        namespace = getattr(module, "__dict__", None)
    except Exception:
        return False
    return (isinstance(filename, str) and isinstance(namespace, dict)
            and is_user_file(filename))


def user_namespace_values(is_user_file: Callable[[str], bool]) -> Iterator[object]:
    """Every module global and class attribute of the code under test. Read through
    ``sys.modules``, because the collector cannot see who refers to what in a frozen
    heap."""
    for _, namespace in _user_modules(is_user_file):
        for value in list(namespace.values()):
            if issubclass(type(value), type):  # not isinstance: a dead proxy raises
                yield from list(vars(value).values())
            else:
                yield value


def user_roots(is_user_file: Callable[[str], bool]) -> list[tuple[str, dict[str, object]]]:
    """The namespaces a reader can name in the code under test: each user module's
    globals (``pkg.mod``) and each of its classes' attributes (``pkg.mod.Class``)."""
    roots: list[tuple[str, dict[str, object]]] = []
    for name, namespace in _user_modules(is_user_file):
        roots.append((name, namespace))
        for value in list(namespace.values()):
            # type() first: isinstance asks a dead weak proxy, which raises
            if (issubclass(type(value), type) and isinstance(value, type)
                    and value.__module__ == name):
                attributes = next((d for d in gc.get_referents(value)
                                   if type(d) is dict), None)  # the class's own dict
                if attributes is not None:
                    roots.append((f"{name}.{value.__qualname__}", attributes))
    return roots


def is_harness_name(dotted: str) -> bool:
    """Whether a dotted name (a module, an owner's root) lies in the harness."""
    return dotted.partition(".")[0] in HARNESS_PACKAGES


def is_harness_type(kind: type) -> bool:
    """Whether the harness defines this type (pytest's config, a plugin, this toolkit)."""
    module = getattr(kind, "__module__", None)
    return isinstance(module, str) and is_harness_name(module)


@functools.cache  # a process has few files, and realpath costs system calls
def is_own_file(filename: str) -> bool:
    """Whether ``filename`` is part of this toolkit (symlinked installs included)."""
    return os.path.normcase(os.path.realpath(filename)).startswith(_OWN_DIR)
