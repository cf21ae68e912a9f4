"""A library cache that grows with objects each run makes (pympler's ``asizeof`` keeps a
record per class it has sized) is named as such and listed apart; the same cache in the
project's own code is the user's leak, with the same words for why it grows."""

import pytest

SIZER = """
_TYPEDEFS = {}


def size_of(obj):
    kind = type(obj)
    _TYPEDEFS.setdefault(kind, [kind.__name__] * 8)
    return 1
"""

TESTS = """
from {module} import size_of


def test_sizes_a_class_it_defines():
    class Point:
        pass

    assert size_of(Point()) == 1
"""

#: The same, with a second record of what it sized (pympler keeps its largest in a list).
SIZER_WITH_RANKS = SIZER + """
_RANKS = []


def size_and_rank(obj):
    _RANKS.append(type(obj))
    return size_of(obj)
"""

WHY = "a cache keyed by objects each run creates"


@pytest.fixture(params=["one record", "two records"])
def installed(request, pytester, install_library):
    """``sizer`` 0.3.0, installed outside the rootdir; the test sizes through it."""
    two = request.param == "two records"
    install_library("sizer", "0.3.0", SIZER_WITH_RANKS if two else SIZER)
    pytester.makepyfile(test_app=TESTS.format(module="sizer").replace(
        "size_of", "size_and_rank" if two else "size_of"))
    return pytester


def test_a_library_cache_keyed_by_each_runs_objects_is_not_the_users_leak(run_forensics,
                                                                            installed):
    result, _, verdicts = run_forensics("--leak-forensics-fail")
    entry = verdicts["test_sizes_a_class_it_defines"]
    assert entry["verdict"] == "known-leak", entry["owners"]
    assert entry["known"]["rule"] == "library:sizer==0.3.0"
    assert WHY in entry["known"]["reason"]
    assert any(o["root"] == "sizer._TYPEDEFS" and WHY in (o["why"] or "")
               for o in entry["owners"])
    assert result.ret == 0  # listed apart, so --leak-forensics-fail does not fail on it


def test_the_same_cache_in_the_projects_code_is_a_leak_saying_why(run_forensics, pytester):
    pytester.makepyfile(mysizer=SIZER, test_app=TESTS.format(module="mysizer"))
    _, _, verdicts = run_forensics()
    entry = verdicts["test_sizes_a_class_it_defines"]
    assert entry["verdict"] == "leak", entry
    assert any(o["root"] == "mysizer._TYPEDEFS" and WHY in (o["why"] or "")
               for o in entry["owners"])
