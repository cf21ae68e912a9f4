"""The test runner's own caches that grow with every name a run makes.

pytest's assertion rewriter is asked about every module imported while it is installed,
and remembers each name's answer for good (``_marked_for_rewrite_cache``). Code that
imports modules under a name made per run (jinja2's ``ModuleLoader`` names its package
after the loader's id) grows that dict by an entry per run: two blocks, read as a leak
of the code under test. pytest empties the dict itself whenever it marks a new name;
here it goes back to the names it held when measuring began, as ``sys.path_importer_cache``
does (``stdlib_caches.BackToFirstKeys``). No pytest import: the finder is found on
``sys.meta_path`` by the module that defines it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from .stdlib_caches import BackToFirstKeys

_REWRITER_MODULE = "_pytest.assertion.rewrite"


def _rewrite_cache() -> object:
    for finder in sys.meta_path:
        if type(finder).__module__ == _REWRITER_MODULE:
            return getattr(finder, "_marked_for_rewrite_cache", None)
    return None


RUNNER: dict[str, Callable[[], None]] = {
    "pytest assertion rewriting": BackToFirstKeys(_rewrite_cache),
}
