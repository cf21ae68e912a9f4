"""One leak that many tests share: searched for once, recognised after that.

A helper that every test goes through (a test client, a fixture factory) leaking a
little on each call makes every test a leak, and each one's full analysis (traced runs,
then a reverse-reference index of the whole heap for the owner chains) costs about a
second. Each test still gets its verdict by the same rule, from its own repetitions;
what is shared is the analysis.

Once a test's leak has been analysed, its *profile* is kept: the containers its leak grows
in (the holders at the suspect edges, kept for this purpose only), the types that grew on
every run and the untraced growth per run. A later confirmed leak is **certainly the same
leak** when, on its own measured repetitions (no tracing):

* every holder of the known leak grew on every run;
* the types that grew on every run are exactly the known leak's, each ``m`` times as
  many (``m`` >= 1: the test went through the helper ``m`` times per run);
* nothing else grew on every run: the blocks beyond ``m`` times the known leak's are not
  positive on every run (an extra string would be), nor the C bytes beyond it by more
  than pymalloc's limit (an extra buffer would be: a Python object above 512 bytes is
  the C allocator's, a smaller one shows in blocks). glibc's per-thread caches move a
  few dozen bytes a run with nothing kept, so C bytes that differ from the known leak's
  by less than that are not another leak.

Then it is reported as the same leak, with that test's sites and owners (scaled by ``m``)
and no traced runs. Otherwise it is traced as usual; if its sites and types then match a
known leak's (``m`` times), the owner search is skipped and the owners are taken over.
Failing both, the full analysis runs, and a different leak hiding behind a shared one is
found by it.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from dataclasses import dataclass, field

from ..measure.meter import Reading
from ..results import Owner, Site
from . import growth

#: Known leaks kept per process; each keeps its holders alive.
MAX_KNOWN = 16

#: The largest request pymalloc serves; bigger objects are the C allocator's.
PYMALLOC_LIMIT = 512


@dataclass
class KnownLeak:
    nodeid: str
    owners: list[Owner]
    sites: list[Site]
    size_per_run: int
    count_per_run: int
    #: Types that grew on every traced run, by the least they grew.
    types: dict[str, int]
    #: The least untraced growth per measured run.
    blocks: int
    malloc: int
    #: The sized containers at the suspect edges of its owner chains.
    holders: list[Sized] = field(default_factory=list)


@dataclass(frozen=True)
class Observation:
    """Just before or just after a measured run: live types created since the window
    opened, and the length of each known leak's holders."""

    census: dict[str, int]
    lengths: tuple[tuple[int, ...], ...]


#: One measured run, observed before and after (a noisy run that was run again is
#: observed around its last try only).
Observed = tuple[Observation, Observation]


@dataclass(frozen=True)
class Match:
    leak: KnownLeak
    times: int


def sized_holders(holders: Sequence[object]) -> list[Sized]:
    """The holders whose growth can be read cheaply: builtin containers, by identity."""
    found: list[Sized] = []
    for holder in holders:
        if isinstance(holder, (dict, list, set)) and not any(h is holder for h in found):
            found.append(holder)
    return found


def recurring_counts(censuses: Sequence[dict[str, int]]) -> dict[str, int]:
    """Types whose count grew between every pair of consecutive censuses, by the least."""
    return _least([(a, b) for a, b in zip(censuses, censuses[1:], strict=False)])


def run_growth(runs: Sequence[Observed]) -> dict[str, int]:
    """Types whose count grew in every observed run, by the least."""
    return _least([(before.census, after.census) for before, after in runs])


def _least(pairs: Sequence[tuple[dict[str, int], dict[str, int]]]) -> dict[str, int]:
    return {name: min(counts) for name, counts in growth.grown_in_every(pairs).items()}


def multiple(growth: dict[str, int], known: dict[str, int]) -> int | None:
    """``m`` if ``growth`` is exactly ``m`` times ``known`` type by type, else None."""
    if not known or set(growth) != set(known):
        return None
    first = next(iter(known))
    times, rest = divmod(growth[first], known[first])
    if times < 1 or rest:
        return None
    return times if all(growth[t] == times * n for t, n in known.items()) else None


def _nothing_else(extra: Sequence[int], floor: int = 0) -> bool:
    """The CPython rule, on what is left after the known leak: not grown on every run."""
    return not extra or not all(e > floor for e in extra)


def same_leak(known: Sequence[KnownLeak], deltas: Sequence[Reading],
              runs: Sequence[Observed]) -> Match | None:
    """The known leak these measured runs certainly repeat, if one (module docstring)."""
    if len(runs) != len(deltas) or len(deltas) < 2:
        return None
    types = run_growth(runs)
    for index, leak in enumerate(known):
        if not leak.holders:
            continue
        grew = all(after.lengths[index][h] > before.lengths[index][h]
                   for before, after in runs for h in range(len(leak.holders)))
        times = multiple(types, leak.types) if grew else None
        if times is None:
            continue
        blocks = [d.blocks - times * leak.blocks for d in deltas]
        malloc = [d.malloc - times * leak.malloc for d in deltas]
        if _nothing_else(blocks) and _nothing_else(malloc, PYMALLOC_LIMIT):
            return Match(leak, times)
    return None


def same_sites(known: Sequence[KnownLeak], sites: Sequence[Site],
               growth: dict[str, int]) -> Match | None:
    """The known leak whose traced sites and types (``recurring_counts``) these are
    (``m`` times), if one."""
    places = {(s.filename, s.lineno): s.count_diff for s in sites}
    for leak in known:
        if set(places) != {(s.filename, s.lineno) for s in leak.sites}:
            continue
        times = multiple(growth, leak.types)
        if times is not None and all(places[(s.filename, s.lineno)] == times * s.count_diff
                                     for s in leak.sites):
            return Match(leak, times)
    return None


def lengths(known: Sequence[KnownLeak]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(len(h) for h in leak.holders) for leak in known)


def scaled_sites(sites: Sequence[Site], times: int) -> list[Site]:
    return [Site(s.filename, s.lineno, s.size_diff * times, s.count_diff * times, s.traceback,
                 s.source, s.in_user_code) for s in sites]
