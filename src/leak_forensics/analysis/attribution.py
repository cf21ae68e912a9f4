"""Which frames belong to the code under test, and which line a leak is charged to.

A leak through ``logging.getLogger(name)`` allocates inside the standard library; the
user needs the line of *their* code that called it. So each allocation traceback is
charged to its innermost frame in the code under test: under the rootdir, outside the
standard library, virtual environments, site-packages, pytest and this toolkit — with
include patterns to claim more and exclude patterns to give some back.
"""

from __future__ import annotations

import contextlib
import enum
import fnmatch
import os
import site
import sys
import sysconfig
from collections.abc import Callable, Iterable

from ..harness import HARNESS_PACKAGES, is_own_file
from ..types import Frame, Frames


class Kind(enum.IntEnum):
    USER = 0
    LIBRARY = 1  # third-party or otherwise outside the rootdir
    STDLIB = 2
    HARNESS = 3  # pytest, pluggy, xdist, this toolkit: never the user's leak



def _dir(path: str) -> str:
    return os.path.join(os.path.normcase(os.path.realpath(path)), "")


def _package_paths(names: Iterable[str]) -> list[str]:
    """Path prefixes of imported packages: a package's directory, or a single-file
    module's own file (its directory is site-packages, every library's)."""
    paths = []
    for name in names:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if not file:
            continue
        if os.path.splitext(os.path.basename(file))[0] == "__init__":
            paths.append(_dir(os.path.dirname(file)))
        else:
            paths.append(os.path.normcase(os.path.realpath(file)))
    return paths


def _library_dirs() -> list[str]:
    paths = set()
    for key in ("purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    getters: tuple[Callable[[], list[str]], ...] = (
        site.getsitepackages, lambda: [site.getusersitepackages()])
    for getter in getters:
        with contextlib.suppress(Exception):  # some embedded interpreters lack these
            paths.update(getter())
    paths.update({sys.prefix, sys.exec_prefix})
    return sorted({_dir(p) for p in paths if p}, key=len, reverse=True)


def _stdlib_dirs() -> list[str]:
    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
    return sorted({_dir(p) for p in paths if p}, key=len, reverse=True)


class FrameClassifier:
    def __init__(self, rootdir: str, include: Iterable[str] = (),
                 exclude: Iterable[str] = (), plugins: Iterable[str] = ()) -> None:
        """``plugins``: names of modules pytest loaded as plugins. Those outside the
        rootdir (hypothesis', pytest-cov's, ...) run as part of the test harness, so
        their whole top-level package counts as harness; conftest files stay yours."""
        self.rootdir = _dir(rootdir)
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self._harness = _package_paths(HARNESS_PACKAGES)
        self._harness += [p for p in _package_paths({n.partition(".")[0] for n in plugins})
                          if not p.startswith(self.rootdir) and p not in self._harness]
        self._libraries = _library_dirs()
        self._stdlib = _stdlib_dirs()
        self._cache: dict[str, Kind] = {}

    def kind(self, filename: str) -> Kind:
        kind = self._cache.get(filename)
        if kind is None:
            kind = self._cache[filename] = self._classify(filename)
        return kind

    def _matches(self, patterns: tuple[str, ...], path: str) -> bool:
        if not patterns:
            return False
        rel = self.display(path)
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(rel, p) for p in patterns)

    def _classify(self, filename: str) -> Kind:
        if filename.startswith("<doctest "):  # a doctest's examples are the user's code
            return Kind.USER
        if filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>
            return Kind.STDLIB
        path = os.path.normcase(os.path.realpath(filename))
        if any(path.startswith(d) for d in self._harness):
            return Kind.HARNESS
        if self._matches(self.exclude, path):
            return Kind.LIBRARY
        if self._matches(self.include, path):
            return Kind.USER
        in_library = any(path.startswith(d) for d in self._libraries)
        if path.startswith(self.rootdir) and not in_library and not _in_venv(path):
            return Kind.USER
        if in_library:
            return Kind.LIBRARY
        if any(path.startswith(d) for d in self._stdlib):
            return Kind.STDLIB
        return Kind.LIBRARY

    def display(self, filename: str) -> str:
        """A path relative to the rootdir when under it, else as recorded."""
        path = os.path.normcase(os.path.realpath(filename))
        if path.startswith(self.rootdir):
            return os.path.relpath(path, self.rootdir)
        return filename

    def charge(self, frames: Frames) -> tuple[Frame, Kind] | None:
        """The frame a traceback (innermost first) is charged to, or None for harness noise.

        Innermost user frame first; failing that the innermost library frame (the
        traceback may be cut before it reaches user code); tracebacks made only of the
        standard library and the test harness are the harness's own allocations.
        """
        library: Frame | None = None
        for frame in frames:
            kind = self.kind(frame[0])
            if kind is Kind.USER:
                return frame, kind
            if kind is Kind.LIBRARY and library is None:
                library = frame
        if library is not None:
            return library, Kind.LIBRARY
        return None

    def is_own(self, frames: Frames) -> bool:
        """True for this toolkit's own allocations (snapshots, census), never reported.

        Decided by whichever comes first from the innermost frame: one of ours, or one of
        the code under test. Repetitions run the test from our code, so our frames sit at
        the bottom of every traceback; what the libraries we call allocate (psutil,
        objgraph, zlib) has ours above it and no user frame in between.
        """
        for filename, _ in frames:
            if is_own_file(filename):
                return True
            if self.kind(filename) is Kind.USER:
                return False
        return False


def _in_venv(path: str) -> bool:
    # A virtual environment under the rootdir (.venv, .tox/py311, …) holds libraries.
    parts = path.split(os.sep)
    return any(p in ("site-packages", "dist-packages") for p in parts) or any(
        os.path.exists(os.path.join(os.sep.join(parts[:i]), "pyvenv.cfg"))
        for i in range(2, len(parts)))
