"""Leaks that lie wholly inside an installed library: the library's to fix, listed apart.

A leak whose every allocation site is in one installed distribution's files, and whose
named holders are that distribution's modules, cannot be fixed in the code under test; the
team needs the package and version to report it upstream or to allow it in one line. Code
under the rootdir is never a library: a leak there is the user's, as before. A leak that
also leaks resources (threads, connections) is left to the user, who usually started them.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from ..results import Known, TestResult
from . import patterns
from .signatures import ANONYMOUS_ROOTS

#: The ``Known.source`` of a library leak.
SOURCE = "library"


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    """Top-level module name -> the distributions that provide it (read once)."""
    return importlib.metadata.packages_distributions()


def _path_entries() -> list[str]:
    """``sys.path`` resolved, longest first (a package dir before the dir it is in)."""
    return sorted({os.path.realpath(p) for p in sys.path if p}, key=len, reverse=True)


def top_level_module(filename: str, entries: Sequence[str]) -> str | None:
    """The top-level module a file under one of ``entries`` belongs to (``click`` for
    ``.../site-packages/click/_compat.py``)."""
    path = os.path.realpath(filename)
    for entry in entries:
        if path.startswith(entry + os.sep):
            first = path[len(entry) + 1:].split(os.sep, 1)[0]
            return first.removesuffix(".py") if first else None
    return None


def distribution_of(module: str) -> tuple[str, str] | None:
    """(name, version) of the one installed distribution providing ``module``."""
    names = _distributions().get(module, [])
    if len(set(names)) != 1:
        return None
    try:
        return names[0], importlib.metadata.version(names[0])
    except importlib.metadata.PackageNotFoundError:
        return None


def _library_of_site(frames: Sequence[tuple[str, int]], is_user: Callable[[str], bool],
                     entries: Sequence[str]) -> tuple[str, str, str] | None:
    """(module, name, version) of the library that allocated, innermost frame first:
    None when code under test allocated it first, or no installed library did."""
    for filename, _ in frames:
        if is_user(filename):
            return None
        module = top_level_module(filename, entries)
        found = distribution_of(module) if module else None
        if module and found:
            return (module, *found)
    return None


def library_cache(result: TestResult, is_user: Callable[[str], bool]) -> Known | None:
    """A library's cache that grows with objects the test makes on every run (pympler's
    ``asizeof`` keeps a record per class it has sized; a test that defines a class and
    sizes it adds one per run), as a known-leak record: the growth is real, but it is the
    library's way of caching, not a leak of the code under test.

    Every named owner that reaches an older holder must be rooted in one installed
    library whose files are not under the rootdir, and one of them at least must be
    ``patterns.KEYED_BY_NEW`` (the library's other records of the same objects, such as
    pympler's list of the largest sized, are the same caching)."""
    # Only chains that reach an older holder say who keeps the leak; the others run
    # inside the new objects (the new class's own __dict__).
    holding = [owner for owner in result.owners
               if owner.suspect is not None and not owner.root.startswith(ANONYMOUS_ROOTS)
               and not owner.root.startswith("thread ")]
    roots = {owner.root.split(".", 1)[0] for owner in holding}
    if (len(roots) != 1 or result.resources
            or all(owner.why != patterns.KEYED_BY_NEW for owner in holding)):
        return None
    (module,) = roots
    loaded = sys.modules.get(module)
    filename = getattr(loaded, "__file__", None)
    found = distribution_of(module)
    if not isinstance(filename, str) or is_user(filename) or found is None:
        return None
    name, version = found
    return Known(f"library:{name}=={version}", SOURCE,
                 f"held in {name} {version}: {patterns.KEYED_BY_NEW}; the library's way "
                 f"of caching, not a leak of the code under test (allow it with "
                 f"--leak-forensics-allow='root:{module}.*')")


def library_leak(result: TestResult, is_user: Callable[[str], bool]) -> Known | None:
    """The library a leaking test's leak lies wholly inside, as a known-leak record.

    Sites are charged to the test's own line that called into the library; where the
    memory was allocated is the innermost frame of each site's traceback."""
    if not result.sites or result.resources:
        return None
    entries = _path_entries()
    libraries = {_library_of_site(s.traceback, is_user, entries) for s in result.sites}
    if len(libraries) != 1 or None in libraries:
        return None
    ((module, name, version),) = libraries  # type: ignore[misc]  # None was ruled out
    for owner in result.owners:
        if owner.root.startswith(ANONYMOUS_ROOTS) or owner.root.startswith("thread "):
            continue
        if owner.root.split(".", 1)[0] != module:
            return None
    return Known(f"library:{name}=={version}", SOURCE,
                 f"allocated and held inside {name} {version}: report it upstream, or allow "
                 f"it with --leak-forensics-allow='root:{module}.*'")
