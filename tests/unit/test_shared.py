"""When a confirmed leak is certainly one already analysed: the rule as a table."""

import pytest

from leak_forensics.analysis import shared
from leak_forensics.measure.meter import Reading
from leak_forensics.results import Site

TYPES = {"_io.BytesIO": 1, "_io.TextIOWrapper": 1}


def known(holders: list | None = None) -> shared.KnownLeak:
    return shared.KnownLeak("t.py::test_first", [], [Site("helper.py", 11, 80, 1)], 80, 1,
                            dict(TYPES), blocks=12, malloc=0,
                            holders=[{}] if holders is None else holders)


def runs(types: dict[str, int], grew: int = 1, count: int = 3) -> list[shared.Observed]:
    """``count`` runs, each adding ``types`` and ``grew`` entries to the one holder."""
    observed = []
    census: dict[str, int] = {"dict": 7}
    length = 0
    for _ in range(count):
        before = shared.Observation(dict(census), ((length,),))
        for name, n in types.items():
            census[name] = census.get(name, 0) + n
        length += grew
        observed.append((before, shared.Observation(dict(census), ((length,),))))
    return observed


@pytest.mark.parametrize(("blocks", "malloc", "types", "grew", "expected"), [
    ([12, 12, 12], [0, 0, 0], TYPES, 1, 1),                      # the same leak
    ([24, 24, 24], [0, 0, 0], {k: 2 * n for k, n in TYPES.items()}, 2, 2),  # twice a run
    ([12, 12, 12], [0, 4096, 0], TYPES, 1, 1),                   # an arena once: noise
    ([13, 13, 13], [0, 0, 0], TYPES, 1, None),                   # and a string each run
    ([12, 12, 12], [600, 600, 600], TYPES, 1, None),             # and a buffer each run
    ([12, 12, 12], [64, 64, 32], TYPES, 1, 1),                   # glibc's caches: noise
    ([13, 12, 13], [0, 0, 0], TYPES, 1, 1),                      # not every run: no leak
    ([14, 14, 14], [0, 0, 0], {**TYPES, "dict": 1}, 1, None),    # and a dict elsewhere
    ([6, 6, 6], [0, 0, 0], {"_io.BytesIO": 1}, 1, None),         # part of it: not it
    ([12, 12, 12], [0, 0, 0], TYPES, 0, None),                   # its holder did not grow
])
def test_same_leak(blocks, malloc, types, grew, expected):
    deltas = [Reading(b, m) for b, m in zip(blocks, malloc, strict=True)]
    match = shared.same_leak([known()], deltas, runs(types, grew))
    assert (match.times if match else None) == expected


def test_a_leak_without_a_holder_to_watch_is_never_matched_untraced():
    deltas = [Reading(12, 0)] * 3
    assert shared.same_leak([known(holders=[])], deltas, runs(TYPES)) is None


def test_one_run_is_not_enough_to_tell():
    assert shared.same_leak([known()], [Reading(12, 0)], runs(TYPES, count=1)) is None


def test_traced_sites_and_types_match_a_multiple():
    leak = known()
    twice = {t: 2 * n for t, n in TYPES.items()}
    assert shared.same_sites([leak], [Site("helper.py", 11, 160, 2)], twice).times == 2
    assert shared.same_sites([leak], [Site("helper.py", 11, 160, 2), Site("app.py", 3, 50, 1)],
                             twice) is None
    assert shared.same_sites([leak], [Site("helper.py", 12, 160, 2)], twice) is None


def test_only_builtin_containers_are_watched_once_each():
    kept: dict = {}
    assert shared.sized_holders([kept, kept, [], object(), "text"]) == [kept, []]
