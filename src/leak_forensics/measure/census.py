"""The type census: live objects by qualified type name, and what the collector could not
free. It answers *what* piles up (tracemalloc answers *where*), and it is what a snapshot
records beside its traces.

Returned as plain dicts of str to int, which the collector does not track, so holding a
census between runs does not show in the next one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import objgraph

from ..harness import HARNESS_TYPE_PREFIXES
from ..results import TypeGrowth


def type_name(obj: object) -> str:
    """The qualified name the census uses (objgraph's: module + ``__name__``; builtins
    bare)."""
    kind = type(obj)
    module = getattr(kind, "__module__", None)
    if not module or module == "builtins":
        return kind.__name__
    return f"{module}.{kind.__name__}"


def census(objects: Sequence[object]) -> dict[str, int]:
    """Live objects by qualified type name (``package.module.Class``; builtins bare),
    the harness's own types left out."""
    stats = objgraph.typestats(objects=objects, shortnames=False)
    return {_builtin(name): n for name, n in stats.items()
            if not name.startswith(HARNESS_TYPE_PREFIXES)}


def garbage_types(objects: Sequence[object]) -> list[TypeGrowth]:
    """What the collector found unreachable but could not free (``gc.garbage``), by type.

    Only ever read: the list is the user's to inspect, so nothing is removed from it.
    """
    counts = Counter(objgraph.typestats(objects=objects, shortnames=False))
    return [TypeGrowth(_builtin(name), n) for name, n in counts.most_common()]


def _builtin(name: str) -> str:
    return name.removeprefix("builtins.")
