"""Well-known holders are named in words: why a weak cache, an lru_cache, a logger or
sys.modules keeps what a test left there."""

from leak_forensics.analysis import patterns

SUITE = """
import functools, itertools, logging, sys, types, weakref

_calls = itertools.count()


class Stream:
    pass


class Wrapper:
    def __init__(self, stream):
        self.stream = stream


_WRAPPERS = weakref.WeakKeyDictionary()


def test_weak_cache_whose_values_hold_their_keys():
    stream = Stream()
    _WRAPPERS[stream] = Wrapper(stream)


@functools.lru_cache(maxsize=None)
def rows_for(key):
    return [key, [key]]


def test_unbounded_lru_cache():
    assert rows_for(next(_calls))


class Collect(logging.Handler):
    def emit(self, record):
        pass


def test_handler_added_per_run():
    logging.getLogger("app.audit").addHandler(Collect())


def test_module_registered_per_run():
    name = f"generated_{next(_calls)}"
    sys.modules[name] = types.ModuleType(name)
"""


def test_each_well_known_holder_is_explained(run_forensics, pytester):
    pytester.makepyfile(test_patterns=SUITE)
    _, report, verdicts = run_forensics()
    whys = {name: {o["why"] for o in test["owners"]} - {None} for name, test in verdicts.items()}
    assert whys == {
        "test_weak_cache_whose_values_hold_their_keys": {patterns.WEAK_KEYS},
        "test_unbounded_lru_cache": {patterns.UNBOUNDED_LRU},
        "test_handler_added_per_run": {patterns.LOGGING_HANDLERS},
        "test_module_registered_per_run": {patterns.SYS_MODULES},
    }
    assert {g["why"] for g in report["leak_groups"]} >= set().union(*whys.values())
