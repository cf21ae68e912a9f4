"""When a test leaks: the whole rule, as pure functions over measured deltas.

1. **Screen.** The test's own run is measured with cheap counters. It is a *suspect* when
   it kept anything: a pymalloc block, a thread, another resource (file descriptor,
   process, task, connection), or C-allocator memory beyond ``MALLOC_NOISE`` (more for a
   run that started threads: ``malloc_noise``). The
   session's first test is always a suspect (it pays pytest's first-use costs), and so
   is every test when the user asks for all to be confirmed, or when the count was not
   the test's alone: a report logged during the run could not be held out of it, or an
   xdist worker's receiving thread handled a message while it was taken
   (``measure.traffic``; a repetition measured that way is run again).
2. **Confirm.** A suspect is run again: warm-ups, then N measured runs. A metric counts
   only if it grew on **every** measured run (CPython's refleak rule: ``[5, 5, 6]`` is a
   leak; ``[3, 0, 0]`` and ``[8, -8, 1]`` are warm-up and noise). The first run on which
   nothing grows settles the test as ``clean``. A suspect whose measured runs the
   opt-in confirmation budget cut short while it was still growing is ``unconfirmed``,
   never clean; without one (the default) every suspect is confirmed, so no verdict
   depends on timing.
3. **Explain.** A confirmed leak of memory is traced: if no allocation site and no type
   grew on every traced run either, or the traced memory did not grow on every one, the
   growth is ``inconclusive``. Otherwise it keeps a size per run (the bytes of the
   allocation sites that grew on every traced run; without such a site, the least total
   growth of a traced run), and **the threshold applies to that size, once, here**: at
   or over it (default 1 byte) the test is a ``leak``; under it, ``clean``, with a note
   saying what it kept. Growth of resources (threads, files, tasks, connections) needs
   no tracing and no size to be a leak.
4. **Known.** A leak that the project's allowlist or a built-in rule covers whole is a
   ``known-leak``: reported apart, never failing a test.
"""

from __future__ import annotations

from collections.abc import Sequence

from .measure.meter import METRICS, RESOURCE_METRICS, Reading
from .results import Verdict

#: glibc counts chunks parked in other threads' caches (up to 7 per size class below
#: 1 KiB; the main thread's are taken out, ``meter.malloc_bytes``) as in use, creates an
#: arena the first time threads contend, and pymalloc grows its arena table when the
#: process reaches a new peak: one run's C-allocator figure moves by a few kilobytes with
#: nothing kept. Growth below this is noise, for the screen and
#: for the repetitions alike; a smaller leak made of Python objects still shows in blocks.
MALLOC_NOISE = 4096
#: Each other thread that runs allocates from an arena of glibc's own and leaves it in a
#: slightly different state: a run that started one thread read -3.6 to +3.6 KiB of C
#: memory with nothing kept, a hundred up to +16 KiB (more-itertools' concurrent tee
#: test became a suspect that cost two re-runs of 3.6 s), while the same work on one
#: thread reads exactly 0. So the floor grows by ``MALLOC_NOISE`` per thread started, up
#: to this many (glibc's arena limit on a 2-core machine). Blocks are exact whatever the
#: threads do, so a leak of Python objects is still seen; a leak of C memory made by
#: threads must exceed the floor to make the screen a suspect.
MAX_NOISY_THREADS = 16


def malloc_noise(started: int) -> int:
    """The C-allocator noise floor of a run that started ``started`` threads."""
    return MALLOC_NOISE * (1 + min(max(started, 0), MAX_NOISY_THREADS))


def grew(delta: Reading, metric: str) -> bool:
    """Did ``metric`` grow in one run, beyond its noise floor?"""
    value: int = getattr(delta, metric)
    return value > (malloc_noise(delta.started) if metric == "malloc" else 0)


def is_suspect(screen: Reading) -> bool:
    """Did the test's own run keep anything?"""
    return any(grew(screen, metric) for metric in METRICS)


def needs_confirmation(screen: Reading, *, first: bool, confirm_all: bool,
                       inexact: bool) -> bool:
    """Is the test repeated? (stage 1)"""
    return first or confirm_all or inexact or is_suspect(screen)


def growing(deltas: Sequence[Reading]) -> frozenset[str]:
    """The metrics that grew on every one of ``deltas`` (none if there are none)."""
    if not deltas:
        return frozenset()
    return frozenset(m for m in METRICS if all(grew(d, m) for d in deltas))


def confirmed(deltas: Sequence[Reading], measured: int) -> Verdict | None:
    """After the measured runs (stage 2): ``clean``, ``unconfirmed``, or None when the
    test grew on all ``measured`` runs and its growth is to be explained. Fewer deltas
    than ``measured`` means the budget stopped the runs: still growing (or not begun),
    that is ``unconfirmed``."""
    if deltas and not growing(deltas):
        return Verdict.CLEAN
    if len(deltas) < measured:
        return Verdict.UNCONFIRMED
    return None


def memory_grew(deltas: Sequence[Reading]) -> bool:
    """Did memory (not only resources) grow on every run? Only that needs tracing."""
    return bool(growing(deltas) - RESOURCE_METRICS)


def explained(*, traced: bool, memory: bool, found: bool, resources: bool = False,
              size: int = 0, threshold: int = 1) -> Verdict:
    """A confirmed test's verdict after tracing (stage 3). ``traced``: its repetitions
    were traced; ``memory``: memory grew on every untraced run; ``found``: a site or a
    type grew on every traced run; ``resources``: a resource grew on every run;
    ``size``: the traced bytes kept per run."""
    if resources or not (traced and memory):
        return Verdict.LEAK
    if not found or size <= 0:
        return Verdict.INCONCLUSIVE
    return Verdict.CLEAN if under_threshold(traced=traced, memory=memory, size=size,
                                            threshold=threshold) else Verdict.LEAK


def under_threshold(*, traced: bool, memory: bool, size: int, threshold: int) -> bool:
    """Did the traced memory grow, but by less per run than the threshold? Then it is not
    a leak of memory (a leaked resource beside it still is one)."""
    return traced and memory and size > 0 and not over_threshold(size, threshold)


def over_threshold(size_per_run: int, threshold: int) -> bool:
    """Does a leak keep enough traced bytes per run to count?"""
    return size_per_run >= threshold


def known(verdict: Verdict, covered: bool) -> Verdict:
    """A leak the allowlist or a built-in rule covers whole is known (stage 4)."""
    return Verdict.KNOWN if verdict == Verdict.LEAK and covered else verdict
