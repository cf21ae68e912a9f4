"""The verdict rule as a table: CPython's refleak examples, the noise floor, resources,
the first test, the budget, tracing, the threshold and known leaks."""

import pytest

from leak_forensics import verdict
from leak_forensics.measure.meter import Reading
from leak_forensics.results import Verdict
from leak_forensics.verdict import MALLOC_NOISE


def blocks(*values: int) -> list[Reading]:
    return [Reading(v, 0) for v in values]


@pytest.mark.parametrize(("deltas", "expected"), [
    (blocks(5, 5, 6), None),            # CPython: a leak (to be explained)
    (blocks(3, 0, 0), Verdict.CLEAN),   # warm-up
    (blocks(8, -8, 1), Verdict.CLEAN),  # noise
    (blocks(1, 1, 1), None),            # one block a run is a leak
    (blocks(0), Verdict.CLEAN),         # settled on the first measured run
    ([Reading(0, MALLOC_NOISE)] * 3, Verdict.CLEAN),        # at the noise floor
    ([Reading(0, MALLOC_NOISE + 1)] * 3, None),             # above it
    ([Reading(0, 0, threads=1)] * 3, None),                 # a thread left each run
    ([Reading(0, 0, handles=1)] * 3, None),                 # a file left each run
    ([Reading(0, 0, handles=1), Reading(0, 0)], Verdict.CLEAN),
    (blocks(4, 4), Verdict.UNCONFIRMED),  # the budget stopped it, still growing
    ([], Verdict.UNCONFIRMED),            # the budget stopped it before it began
])
def test_confirmation(deltas, expected):
    assert verdict.confirmed(deltas, measured=3) == expected


@pytest.mark.parametrize(("screen", "first", "confirm_all", "inexact", "expected"), [
    (Reading(0, 0), False, False, False, False),        # a clean screen is exactly zero
    (Reading(1, 0), False, False, False, True),
    (Reading(-3, 0), False, False, False, False),       # freed more than it made
    (Reading(0, MALLOC_NOISE), False, False, False, False),
    (Reading(0, MALLOC_NOISE + 1), False, False, False, True),
    (Reading(0, 0, threads=1), False, False, False, True),
    (Reading(0, 0, handles=1), False, False, False, True),
    (Reading(0, 0), True, False, False, True),          # the session's first test
    (Reading(0, 0), False, True, False, True),          # --leak-forensics-all
    (Reading(0, 0), False, False, True, True),          # a report held inexactly
])
def test_screen(screen, first, confirm_all, inexact, expected):
    assert verdict.needs_confirmation(screen, first=first, confirm_all=confirm_all,
                                      inexact=inexact) is expected


@pytest.mark.parametrize(("traced", "memory", "found", "resources", "size", "expected"), [
    (True, True, True, False, 300, Verdict.LEAK),
    (True, True, False, False, 0, Verdict.INCONCLUSIVE),  # grew untraced, nothing recurs
    (True, True, True, False, 0, Verdict.INCONCLUSIVE),   # types piled up, bytes did not
    (False, True, False, False, 0, Verdict.LEAK),         # memory_intensive: not traced
    (False, False, False, True, 0, Verdict.LEAK),         # resources only: nothing to trace
    (True, True, False, True, 0, Verdict.LEAK),           # a thread, memory unexplained
])
def test_explained(traced, memory, found, resources, size, expected):
    assert verdict.explained(traced=traced, memory=memory, found=found, resources=resources,
                             size=size) == expected


@pytest.mark.parametrize(("size", "threshold", "resources", "expected"), [
    (300, 1, False, Verdict.LEAK),
    (300, 300, False, Verdict.LEAK),          # at the threshold counts
    (300, 10_000, False, Verdict.CLEAN),      # under it: not a leak, types or not
    (300, 10_000, True, Verdict.LEAK),        # a leaked thread counts whatever its size
])
def test_the_threshold_applies_once_to_the_traced_bytes_per_run(size, threshold, resources,
                                                                 expected):
    assert verdict.explained(traced=True, memory=True, found=True, resources=resources,
                             size=size, threshold=threshold) == expected


def test_memory_grew_tells_memory_from_resources():
    assert verdict.memory_grew(blocks(2, 2, 2))
    assert not verdict.memory_grew([Reading(0, 0, threads=1)] * 3)
    assert verdict.memory_grew([Reading(0, MALLOC_NOISE + 1, threads=1)] * 3)


@pytest.mark.parametrize(("before", "covered", "expected"), [
    (Verdict.LEAK, True, Verdict.KNOWN),
    (Verdict.LEAK, False, Verdict.LEAK),
    (Verdict.INCONCLUSIVE, True, Verdict.INCONCLUSIVE),  # only a leak can be known
    (Verdict.CLEAN, True, Verdict.CLEAN),
])
def test_known(before, covered, expected):
    assert verdict.known(before, covered) == expected


def test_verdict_strings_are_the_reports():
    assert [v.value for v in Verdict] == ["leak", "known-leak", "clean", "inconclusive",
                                          "unconfirmed", "skipped", "not-checked", "error"]
    assert f"{Verdict.KNOWN}" == "known-leak" and type(str(Verdict.LEAK)) is str


@pytest.mark.parametrize(("malloc", "started", "grew"), [
    (MALLOC_NOISE + 1, 0, True),                     # one thread: the plain floor
    (MALLOC_NOISE + 1, 1, False),                    # one more thread: one floor more
    (2 * MALLOC_NOISE + 1, 1, True),
    (17 * MALLOC_NOISE, 100, False),                 # capped at glibc's arenas
    (17 * MALLOC_NOISE + 1, 100, True),
])
def test_threads_raise_the_c_memory_floor_not_the_blocks(malloc, started, grew):
    assert verdict.grew(Reading(0, malloc, started=started), "malloc") is grew
    assert verdict.is_suspect(Reading(1, 0, started=started))
    assert verdict.growing([Reading(0, malloc, started=started)] * 3) == (
        {"malloc"} if grew else frozenset())
