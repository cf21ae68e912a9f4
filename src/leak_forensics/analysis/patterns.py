"""Well-known ways to keep objects for good, named in words.

An owner chain says *where* a leak is held; a reader who meets
``cache.data[<weakref>] -> TextIOWrapper`` still has to learn why a weak cache kept
anything. When the container the leak grows in (the holder, at the suspect edge) is one
of these, the report says which, and why it never lets go.
"""

from __future__ import annotations

import functools
import logging
import sys
import weakref

# Each says why the holder never lets go, then what to do about it.
WEAK_KEYS = ("a WeakKeyDictionary whose values hold their keys: an entry leaves only when "
             "its key dies, and its own value keeps the key alive; keep only a weak "
             "reference to the key in the value (weakref.ref), or delete the entry")
WEAK_VALUES = ("a WeakValueDictionary whose values something else keeps alive (often "
               "their own keys or a cycle through the dictionary); find that other "
               "reference in the holders below")
UNBOUNDED_LRU = ("an lru_cache without a size limit (maxsize=None, or functools.cache): "
                 "it keeps every argument and result it has seen; bound it "
                 "(lru_cache(maxsize=N)) or call its cache_clear() in a fixture")
BOUNDED_LRU = ("an lru_cache with a size limit: it keeps each new argument and result until "
               "it holds maxsize of them, then stays that size; not a leak past that")
LOGGING_HANDLERS = ("handlers added to a logger and never removed: each one is called, "
                    "and kept, for the rest of the process; remove it when the test ends "
                    "(logger.removeHandler), or add it in a fixture that does")
SYS_MODULES = ("modules added to sys.modules and never removed: an import system "
               "registry that nothing empties; pop the module when done "
               "(monkeypatch.setitem(sys.modules, ...) does)")
MEMO_BY_VALUE = ("a memo that keeps a result for every new argument it is called with and "
                 "never forgets one; bound it (functools.lru_cache(maxsize=N)) or empty it "
                 "in a fixture")
KEYED_BY_NEW = ("a cache keyed by objects each run creates (a class, a function, an "
                "instance made by the test): every run adds an entry, and nothing removes "
                "it; key it by something stable, or make it a WeakKeyDictionary")


def explain(parent: object | None, holder: object, root: str, path: str,
            key_is_new: bool = False, key_is_value: bool = False) -> str | None:
    """Why ``holder`` (held by ``parent`` on the chain from ``root``) keeps its entries;
    ``key_is_new``: the entry's key was itself made by the leaking runs; ``key_is_value``:
    it is a string, number or tuple (a memo's argument), not an object with an identity."""
    # Their entries live in ``.data``, an implementation detail typeshed leaves out.
    data = getattr(parent, "data", None)
    if isinstance(parent, weakref.WeakKeyDictionary) and holder is data:
        return WEAK_KEYS
    if isinstance(parent, weakref.WeakValueDictionary) and holder is data:
        return WEAK_VALUES
    if isinstance(parent, functools._lru_cache_wrapper):
        return (UNBOUNDED_LRU if parent.cache_parameters().get("maxsize") is None
                else BOUNDED_LRU)
    if isinstance(parent, (logging.Logger, logging.RootLogger)) and holder is parent.handlers:
        return LOGGING_HANDLERS
    if holder is sys.modules or (root == "sys" and path.startswith("sys.modules[")):
        return SYS_MODULES
    if key_is_new and type(holder) is dict:
        return MEMO_BY_VALUE if key_is_value else KEYED_BY_NEW
    return None
