"""Which holders are named as a well-known pattern, and which are not."""

import functools
import logging
import sys
import weakref

from leak_forensics.analysis import patterns


def test_weak_dictionaries_by_their_entries():
    keys, values = weakref.WeakKeyDictionary(), weakref.WeakValueDictionary()
    assert patterns.explain(keys, keys.data, "m", "m.C") == patterns.WEAK_KEYS
    assert patterns.explain(values, values.data, "m", "m.C") == patterns.WEAK_VALUES
    assert patterns.explain(keys, {}, "m", "m.C") is None


def test_an_lru_cache_with_and_without_a_limit():
    @functools.cache
    def unbounded(x):
        return x

    @functools.lru_cache(maxsize=8)
    def bounded(x):
        return x

    assert patterns.explain(unbounded, {}, "m", "m.f") == patterns.UNBOUNDED_LRU
    # Bounded, it stops growing at its limit: said so, not called a leak that never ends.
    assert patterns.explain(bounded, {}, "m", "m.f") == patterns.BOUNDED_LRU


def test_a_loggers_handlers_and_sys_modules():
    logger = logging.getLogger("lf.test.patterns")
    assert patterns.explain(logger, logger.handlers, "logging", "x") == patterns.LOGGING_HANDLERS
    assert patterns.explain(None, sys.modules, "sys", "sys.modules") == patterns.SYS_MODULES
    assert patterns.explain(None, [], "app", "app._CACHE") is None
