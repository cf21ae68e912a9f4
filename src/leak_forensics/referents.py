"""``gc.get_referents`` without the double free of CPython 3.12.0 to 3.12.5.

On those interpreters the ``_asyncio`` module's traverse function visits its free list of
future iterators, which are freed memory: ``gc.get_referents(_asyncio)`` hands them out
with a new reference, and dropping that reference frees them a second time, after which
the free list loops and the next ``gc.get_referents`` of the module grows a list until
the machine runs out of memory (CPython gh-122695, fixed in 3.12.6; a suite that awaited
anything and then ran the cleanup pass was killed at 24 GiB). Every walk of references in
this toolkit that may meet a module asks here first, and on those interpreters takes that
module's namespace instead of its referents.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

#: The interpreters whose ``_asyncio`` traverse visits freed objects.
_FREELIST_TRAVERSED = (3, 12, 0) <= sys.version_info[:3] < (3, 12, 6)


def unsafe_module() -> object | None:
    """The module whose referents must not be asked for on this interpreter, if loaded."""
    return sys.modules.get("_asyncio") if _FREELIST_TRAVERSED else None


def referents(obj: object) -> list[Any]:
    """What ``obj`` refers to; for the unsafe module, only its namespace."""
    if _FREELIST_TRAVERSED and obj is sys.modules.get("_asyncio"):
        return [vars(obj)]
    return gc.get_referents(obj)
