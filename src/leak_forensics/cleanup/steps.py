"""The cleanup pass's steps by name: the one list that options, settings and the pass
share, so a name is spelled and checked in one place."""

from __future__ import annotations

USER = "user"
THREADS = "threads"
SQLALCHEMY = "sqlalchemy"
STDLIB = "stdlib"
BOUNDED_CACHES = "bounded-caches"
GC = "gc"
#: Steps that reset state user code may rely on (``stdlib_caches.UNSAFE``): opt-in only.
STDLIB_UNSAFE = "stdlib-unsafe"

#: Steps a project can switch off (``leak_forensics_cleanup_skip``).
STEPS = (USER, THREADS, SQLALCHEMY, STDLIB, BOUNDED_CACHES, GC)
#: Steps a project can switch on with the same option.
OPT_IN = (STDLIB_UNSAFE,)
