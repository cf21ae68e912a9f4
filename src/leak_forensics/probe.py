"""Screen every run cheaply; repeat only the suspects; trace only the confirmed leaks.

Tracing every test costs 10× on a real suite, so the work is staged:

1. **Screen** — the test's own run, measured with two counters that cost nanoseconds
   (pymalloc blocks, C-allocator bytes) plus the threads it left running. Anything that
   did not grow is clean, which is most tests.
2. **Confirm** — a suspect is run again, untraced, after W warm-ups (its own run is the
   first). It leaks only if a counter grows on *every* one of N runs (CPython's rule);
   the first run that does not grow ends the check, so warm-up effects cost one re-run.
3. **Pinpoint** — a confirmed leak is run N more times under tracemalloc, with a census
   of the objects each run left behind, and the growth that recurs on every run is
   charged to allocation sites and types.

The caller supplies ``run_once``: one complete run of the test (set-up, body, tear-down)
that returns its outcome. Nothing here knows about pytest.
"""

from __future__ import annotations

import gc
import threading
import tracemalloc
from collections import Counter
from collections.abc import Callable

from . import verdict
from .analysis import growth, known_leaks, libraries, owners, samples, shared, signatures
from .analysis.attribution import FrameClassifier, Kind
from .cleanup.sweep import CleanupPass
from .harness import user_roots
from .integrations import sqlalchemy
from .measure import census, meter, resources, stacks
from .measure import threads as thread_tools
from .measure.heap import HeapWindow
from .measure.meter import METRICS, ZERO, Reading
from .measure.traffic import Traffic
from .results import CollectedGarbage, Resource, TestResult, TypeGrowth, Verdict
from .settings import Settings
from .types import Frames
from .units import size_text

RunOnce = Callable[[], str]
#: What a repetition left running: threads, and other resources.
Leftovers = tuple[list[threading.Thread], list[resources.Left]]
_COROUTINE_ORIGIN_DEPTH = 32
#: Times a repetition is run again because the worker's receiving thread handled a
#: message while it was measured (``measure.traffic``); the controller sends nothing in
#: answer to a repetition, so a second try is almost always quiet.
NOISY_RETRIES = 3

#: Asked before each confirming repetition whether its cost fits the confirmation budget.
Affords = Callable[[], bool]


class Probe:
    def __init__(self, classifier: FrameClassifier, heap: HeapWindow,
                 cleanup: CleanupPass, warn: Callable[[str], None],
                 traffic: Traffic | None = None) -> None:
        self.classifier = classifier
        #: Reports an internal error that the verdict survives (it also goes in its notes).
        self.warn = warn
        self.heap = heap
        self.cleanup = cleanup
        self._screen = ZERO
        self._gauge = meter.Gauge()
        self._traffic = traffic or Traffic()
        #: A harness thread handled a message during one of this test's windows, or a
        #: bounded cache lost an entry it had as one opened: the reading is not exact.
        self.noisy = False
        #: An error in measuring the test's own run; the test is then not checked.
        self.broken: Exception | None = None
        self._span_open = False
        #: Part of the test's own run was measured in spans apart (``open_span_apart``).
        self._apart = False
        self._thread_base: frozenset[int] = frozenset()
        self._starts_base = 0
        self._alive: list[threading.Thread] = []
        self._handle_base = resources.baseline()
        self._left: list[resources.Left] = []
        #: Reads the caller's stack up to the test harness (thread starts, check-outs).
        self.stack = stacks.make_reader(lambda filename: classifier.kind(filename) is Kind.HARNESS)
        #: Encoded before/after snapshots of the last traced runs (--leak-forensics-save).
        self.saved: tuple[bytes, bytes] | None = None
        self.sample: samples.Sample | str | None = None
        #: Leaks analysed in full so far, that later tests are checked against.
        self.known: list[shared.KnownLeak] = []

    # -- stage 1: the test's own run ------------------------------------------------------

    def begin(self) -> None:
        self.heap.start()
        self.cleanup.forget_once_per_test(before=True)  # the rest: finish_screen
        self.cleanup.take_stopped()  # runners a repetition of the last test left
        sqlalchemy.track_connections(self.stack)  # once SQLAlchemy is imported
        self._thread_base = thread_tools.snapshot()
        self._starts_base = thread_tools.starts()
        self._handle_base = resources.baseline()
        self._screen = ZERO
        self.noisy = False
        self.broken = None
        self._span_open = False
        self._apart = False
        self._alive = []
        self._left = []

    # A full collection empties CPython's free lists; anything freed after it (even a
    # cleanup step's locals) sits on a free list as an allocated block until the next
    # one. So every read comes right after a collection, with nothing run in between.

    def _mark(self, malloc: bool = True) -> None:
        """``malloc=False``: the window continues the last one (``open_span``): the caches'
        entries are noted at the first one's start only."""
        if malloc:
            self.cleanup.note_window()
        self._traffic.mark()
        self.heap.collect()
        self._gauge.mark(malloc)

    def _since_mark(self, malloc: bool = True) -> Reading:
        self.heap.collect()
        reading = self._gauge.since_mark(malloc)
        if not self._traffic.quiet_since_mark() or self.cleanup.take_disturbed():
            self.noisy = True
        return reading

    # Each end of a span forgets the caches the repetitions' cleanup forgets, so that
    # the screen sees what a repetition would (``CleanupPass.forget_caches``). A pause
    # that only keeps bytes aside (a held report) needs no settling: whatever the span
    # cached before it is still there after it, and is forgotten at the span's end.

    # A span's ends run inside the test's own run, between its phases: an error there
    # must not change the test's outcome, so it is kept (``broken``) and the test is
    # reported unchecked. A wrapper around these would itself allocate inside the span.

    # ``settle=False, malloc=False`` at a span's end leaves the caches to be settled and
    # the C memory read at a later end: the next span must then open with both False,
    # and continues this one (for the caches, and the C memory between them counts).
    # The runner does that between phases that passed (``plugin.run.run_screened``).

    def open_span(self, settle: bool = True, malloc: bool = True) -> None:
        if self.broken is not None:
            return
        try:
            self._span_open = True
            if settle:
                self.cleanup.forget_caches(opening=True)
            self._mark(malloc)
        except Exception as exc:
            self.broken = exc

    def open_span_apart(self) -> None:
        """Open a span whose collections see only what is made from now on: a property-
        based test's example. Its engine keeps thousands of objects between examples,
        and every collection in the test's window would walk them again (~1 ms each).
        The engine's garbage goes first: frozen, it would hold what it refers to (the
        test's instance) until the next full collection, and the tear-down would read
        that as kept."""
        if self.broken is not None:
            return
        try:
            self.heap.collect()
            self.heap.refreeze()
        except Exception as exc:  # inside the test's run: never its outcome
            self.broken = exc
            return
        self._apart = True
        self.open_span()

    def close_span(self, counted: bool = True, settle: bool = True,
                   malloc: bool = True) -> None:
        if not self._span_open or self.broken is not None:
            return
        try:
            if settle:
                self.cleanup.forget_caches()
            delta = self._since_mark(malloc)
        except Exception as exc:
            self.broken = exc
            return
        self._span_open = False
        if counted:
            self._screen = self._screen + delta

    def pause(self, settle: bool = True) -> bool:
        """Stop counting mid-span (for work the test runner does); False if not counting."""
        if not self._span_open:
            return False
        self.close_span(settle=settle)
        return True

    def finish_screen(self, discount: Reading = ZERO) -> None:
        """After the test's own run: wait for the threads it started.

        ``discount`` is memory the test runner itself kept for the run (captured output).
        The caches were settled as the spans ran (``open_span``), but for two kinds too
        slow for every span's ends (``stdlib_caches.ONCE_PER_TEST``): the modules'
        warning registries (finding them means looking into every module, ~120 us with
        700 modules) and the caches of every ABC (a walk of the class tree). They are
        emptied before the test (``begin``), so what they hold now is the test's, and
        only a suspect's screen pays for emptying them, in a span of its own whose
        (negative) reading counts.
        """
        self._screen = self._screen - discount
        started = thread_tools.starts() - self._starts_base
        self._screen = Reading(self._screen.blocks, self._screen.malloc, started=started)
        if thread_tools.started_since(self._thread_base):
            self.open_span()
            self._alive = self.cleanup.run(self._thread_base, caches=False)
            self.close_span()
        if verdict.is_suspect(self._screen):
            # Between spans apart the engine that ran them filled these caches unseen;
            # emptying them must not count either (a property test that kept 40 blocks read
            # -196). What the spans themselves added then stays counted.
            self.open_span(settle=False)
            self.cleanup.forget_once_per_test()
            self.close_span(counted=not self._apart, settle=False)
        self._left = self.cleanup.take_stopped() + resources.settle(self._handle_base,
                                                                     self.heap.collect)

    def screened(self) -> Reading:
        return Reading(self._screen.blocks, self._screen.malloc, len(self._alive),
                       len(self._left), self._screen.started)

    def end(self) -> None:
        self.heap.stop()
        self.heap.maybe_full_collect()

    # -- stages 2 and 3: repetitions ------------------------------------------------------

    def investigate(self, nodeid: str, run_once: RunOnce, settings: Settings,
                    affords: Affords, extra_warmups: int = 0, outcome: str = "") -> TestResult:
        """``outcome``: the test's own run's, which the repetitions' are compared with."""
        result = TestResult(nodeid, Verdict.CLEAN, repeat=str(settings.repeat),
                            outcome=outcome)
        # Every key exists before the first run: a first insertion would grow the dict
        # inside the measured run.
        outcomes: Counter[str] = Counter(passed=0, failed=0, skipped=0)

        def run() -> Leftovers:
            """One repetition and the cleanup after it; returns what it left running."""
            threads, handles = thread_tools.snapshot(), resources.baseline()
            outcomes[run_once()] += 1
            result.runs += 1
            alive = self.cleanup.run(threads)
            return alive, self.cleanup.take_stopped() + resources.settle(handles,
                                                                         self.heap.collect)

        self.cleanup.run(thread_tools.snapshot())
        self.cleanup.take_stopped()
        self.saved = None
        garbage_before = len(gc.garbage)
        # Coroutines made by the repetitions remember where (for a task left pending).
        origins = resources.track_coroutine_origins(_COROUTINE_ORIGIN_DEPTH)
        waits_before = self.cleanup.full_waits
        try:
            return self._repeat(result, run, outcomes, settings, extra_warmups, affords)
        finally:
            resources.track_coroutine_origins(origins)
            result.garbage = census.garbage_types(gc.garbage[garbage_before:])
            waits = self.cleanup.full_waits - waits_before
            if waits:
                result.notes.append(
                    f"{waits} of its repetitions waited the whole thread timeout "
                    f"({self.cleanup.thread_timeout:g} s, --leak-forensics-thread-timeout) "
                    "for threads that never ended: that wait is most of this test's time")

    def _repeat(self, result: TestResult, run: Callable[[], Leftovers], outcomes: Counter[str],
                settings: Settings, extra_warmups: int, affords: Affords) -> TestResult:
        for _ in range(settings.repeat.warmups - 1 + extra_warmups):
            if not affords():
                return self._unconfirmed(result)
            run()

        watch = bool(self.known) and settings.trace and settings.owners
        deltas, (alive, left), observed = self._confirm(run, settings.repeat.measured,
                                                        affords, watch)
        result.deltas = {m: [getattr(d, m) for d in deltas] for m in METRICS}
        seen = {o: n for o, n in outcomes.items() if n}
        if len(seen) > 1 or (result.outcome and seen and set(seen) != {result.outcome}):
            own = f"its own run {result.outcome}; " if result.outcome else ""
            result.notes.append(f"the outcome changed when repeated: {own}repetitions "
                                + ", ".join(f"{n} {o}" for o, n in sorted(seen.items())))
        settled = verdict.confirmed(deltas, settings.repeat.measured)
        if settled == Verdict.UNCONFIRMED:
            return self._unconfirmed(result)
        if settled == Verdict.CLEAN:
            if settings.save_all and settings.trace:
                self._traced_runs(run, settings, result.nodeid)
            return result

        grown = verdict.growing(deltas)
        threads: list[tuple[str, str]] = []
        if "threads" in grown:
            threads = [(t.name, thread_tools.describe(t, self._site)) for t in alive]
            result.resources = [Resource("thread", detail) for _, detail in threads]
        if "handles" in grown:
            result.resources += [Resource(h.kind, h.describe(self._site)) for h in left]
        memory = verdict.memory_grew(deltas)
        # A confirmed leak is always traced: the budget limits which suspects are
        # confirmed, never what a confirmed leak's report says.
        traced = settings.trace and memory
        match = shared.same_leak(self.known, deltas, observed) if traced else None
        if match is not None:
            self._take_over(result, match, observed, settings.top)
        elif traced:
            self._pinpoint(run, settings, result, deltas)
        elif memory:
            result.notes.append("allocation sites not traced for this test")
        result.owners = signatures.fold_into_threads(result.owners, threads)
        result.verdict = verdict.explained(
            traced=traced, memory=memory, found=bool(result.sites or result.types),
            resources=bool(result.resources), size=result.size_per_run,
            threshold=settings.threshold)
        if verdict.under_threshold(traced=traced, memory=memory, size=result.size_per_run,
                                   threshold=settings.threshold):
            self._under_threshold(result, settings.threshold)
            if result.verdict == Verdict.CLEAN:
                return result
        if result.verdict == Verdict.INCONCLUSIVE:
            result.notes.append(
                "memory grew on every untraced repetition but no allocation site or "
                "type grew on every traced one (allocations outside Python's allocator?)"
                if not (result.sites or result.types) else
                "objects piled up on every traced repetition, but the traced memory did "
                "not grow on every one: something else shrank as they grew")
            return result
        result.fail = settings.fail
        rule = known_leaks.match(result, (*settings.allow, *known_leaks.BUILT_IN))
        known = rule.known() if rule is not None else (
            None if settings.fail_library else libraries.library_leak(result, self._is_user)
            or libraries.library_cache(result, self._is_user))
        result.verdict = verdict.known(result.verdict, known is not None)
        if known is not None:
            result.fail, result.known = False, known
        return result

    @staticmethod
    def _under_threshold(result: TestResult, threshold: int) -> None:
        """Memory kept under the threshold is not a leak: said, and the figures dropped."""
        where = (f" at {result.sites[0].filename}:{result.sites[0].lineno}"
                 if result.sites else "")
        result.notes.append(
            f"kept {size_text(result.size_per_run)} per run (traced{where}), under the "
            f"threshold of {size_text(threshold)}: not counted as a leak of memory")
        result.sites, result.types, result.owners = [], [], []
        result.size_per_run = result.count_per_run = 0
        result.same_leak_as = None

    def _unconfirmed(self, result: TestResult) -> TestResult:
        screen = self.screened()
        result.verdict = Verdict.UNCONFIRMED
        result.notes.append(
            f"its own run kept {screen.blocks} blocks and {screen.malloc} bytes of C memory; "
            "repeating it would exceed the confirmation budget "
            "(--leak-forensics-budget=none confirms every suspect)")
        return result

    def _confirm(self, run: Callable[[], Leftovers], measured: int, affords: Affords,
                 watch: bool = False
                 ) -> tuple[list[Reading], Leftovers, list[shared.Observed]]:
        """Measured runs until one does not grow; stops early (still growing) if the
        budget runs out. Returns what the last run left running and, with ``watch``,
        what each run added to the types and the known leaks' holders (``shared``)."""
        deltas: list[Reading] = []
        left: Leftovers = ([], [])
        observed: list[shared.Observed] = []
        for _ in range(measured):
            if not affords():
                break
            for _attempt in range(1 + NOISY_RETRIES):
                self.noisy = False
                # Taken outside the window, and kept across it: it does not count.
                before = self._observe() if watch else None
                starts = thread_tools.starts()
                self._mark()
                left = run()
                delta = self._since_mark()
                if not self.noisy:
                    break
            if before is not None:
                observed.append((before, self._observe()))
            deltas.append(Reading(delta.blocks, delta.malloc, len(left[0]), len(left[1]),
                                  thread_tools.starts() - starts))
            if not verdict.growing(deltas):
                break
        return deltas, left, observed

    def _observe(self) -> shared.Observation:
        objects = [] if self.heap.thawed else self.heap.visible_objects()
        found = shared.Observation(census.census(objects), shared.lengths(self.known))
        del objects
        return found

    def _take_over(self, result: TestResult, match: shared.Match,
                   observed: list[shared.Observed], top: int) -> None:
        """Report a test as the known leak it repeats, without tracing it again."""
        leak, times = match.leak, match.times
        result.sites = shared.scaled_sites(leak.sites, times)[:top]
        result.size_per_run = leak.size_per_run * times
        result.count_per_run = leak.count_per_run * times
        types = shared.run_growth(observed)
        result.types = sorted((TypeGrowth(t, n) for t, n in types.items()),
                              key=lambda t: (-t.count_diff, t.type))[:top]
        result.owners = list(leak.owners)
        result.same_leak_as = leak.nodeid
        per_run = f", {times} times per run" if times > 1 else ""
        result.notes.append(
            f"the same leak as {leak.nodeid}{per_run}: its holder grew on every run, with "
            "the same types and no other growth, so it was not traced again; the sites and "
            "owners are that test's")

    def _traced_runs(self, run: Callable[[], Leftovers], settings: Settings, nodeid: str,
                     sample: bool = False
                     ) -> tuple[list[growth.TraceTotals], list[dict[str, int] | None], int]:
        """The measured runs again under tracemalloc, with a census after each.

        Returns the traces and censuses before the first run and after each, and RSS
        growth per run. With ``--leak-forensics-save``, the first and last are also kept
        as encoded snapshot files in ``self.saved``: bytes, which the collector does not
        track, so keeping them does not show in the next census. With ``sample``, objects
        of the types that grew on every run are picked while tracing still knows where
        they were allocated (``self.sample``), for the owner chains.
        """
        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start(settings.frames)
        # Everything alive now is frozen once: each census then counts what the
        # repetitions created and kept, and consecutive censuses give net growth.
        snapshots: list[growth.TraceTotals] = []
        censuses: list[dict[str, int] | None] = []
        saved: list[bytes] = []
        # Read before the freeze: psutil keeps a little state from its first use, which
        # would otherwise be the first census's and make its first interval shrink.
        rss_before = meter.rss()
        self.heap.refreeze()
        try:
            for index in range(settings.repeat.measured + 1):
                if snapshots:
                    run()
                self.cleanup.note_window()  # the next run's window opens here
                censuses.append(None if self.heap.thawed
                                else census.census(self.heap.visible_objects()))
                traced = tracemalloc.take_snapshot()
                snapshots.append(growth.group_traces(
                    traced.traces._traces, self.classifier))  # type: ignore[attr-defined]  # the raw tuples, no copies
                if settings.save_dir is not None and index in (0, settings.repeat.measured):
                    saved.append(self._encode(traced, censuses[-1], nodeid,
                                              "before" if index == 0 else "after"))
                del traced
            if sample:
                self.sample = self._sample(censuses, nodeid)
        finally:
            if started:
                tracemalloc.stop()
        self.saved = (saved[0], saved[1]) if len(saved) == 2 else None
        # Pages, not objects: coarse, and tracing adds its own; shown for scale only.
        rss_per_run = (meter.rss() - rss_before) // settings.repeat.measured
        return snapshots, censuses, rss_per_run

    def _encode(self, traced: tracemalloc.Snapshot, types: dict[str, int] | None,
                nodeid: str, label: str) -> bytes:
        """A saved snapshot of the test's blocks: ours (this toolkit's) are left out."""
        from .snapshot import model
        is_own = self.classifier.is_own
        raw = traced.traces._traces  # type: ignore[attr-defined]  # the raw tuples, no copies
        kept = model.Snapshot.from_traces(
            (t for t in raw if not is_own(t[2])), traced.traceback_limit,
            meta={"test": nodeid, "label": label}, census=types,
            garbage=model.garbage_summary())
        return kept.encode()

    def _pinpoint(self, run: Callable[[], Leftovers], settings: Settings,
                  result: TestResult, deltas: list[Reading]) -> None:
        snapshots, censuses, result.rss_per_run = self._traced_runs(
            run, settings, result.nodeid, sample=settings.owners)
        sites, size, count = growth.recurring_sites(snapshots, self.classifier)
        result.sites = sites[: settings.top]
        result.size_per_run, result.count_per_run = size, count
        result.types = growth.recurring_types(censuses)[: settings.top]
        sample, self.sample = self.sample, None
        if not verdict.over_threshold(size, settings.threshold):
            return  # not a leak of memory (verdict.explained): nobody to look for
        whole = [c for c in censuses if c is not None]
        least = shared.recurring_counts(whole) if len(whole) == len(censuses) else {}
        match = shared.same_sites(self.known, sites, least)
        if match is not None and isinstance(sample, samples.Sample):
            result.owners = list(match.leak.owners)
            result.same_leak_as = match.leak.nodeid
            result.notes.append(f"owners not searched again: the same sites and types as "
                                f"{match.leak.nodeid}, whose owners these are")
            return
        holders: list[object] = []
        if isinstance(sample, samples.Sample):
            counted = {t.type for t in result.types}
            result.types = (result.types + sorted(
                (TypeGrowth(t, n) for t, n in sample.untracked_growth(
                    settings.repeat.measured).items() if t not in counted),
                key=lambda t: (-t.count_diff, t.type)))[: settings.top]
            try:
                result.owners, holders = sample.owners(
                    self.heap, settings.repeat.measured, ignore=[k.holders for k in self.known])
            except Exception as exc:
                sample = self._owner_error(result.nodeid, exc)
        if isinstance(sample, str):
            result.notes.append(sample)
        sized = shared.sized_holders(holders)
        del holders
        if result.owners and least and len(self.known) < shared.MAX_KNOWN:
            self.known.append(shared.KnownLeak(
                result.nodeid, result.owners, sites, size, count, least,
                blocks=min(d.blocks for d in deltas), malloc=min(d.malloc for d in deltas),
                holders=sized))

    def _sample(self, censuses: list[dict[str, int] | None],
                nodeid: str) -> samples.Sample | str | None:
        """Leaked objects for the owner chains; a string says why there are none."""
        if self.heap.thawed:
            return ("owner chains not searched: the test collects the whole heap itself "
                    "(gc.collect), so what it created cannot be told from what was there")
        grown = [t.type for t in growth.recurring_types(censuses)[:samples.TYPES]]
        try:
            return samples.Sample.take(self.heap.visible_objects(), grown, self.classifier,
                                       self._site, user_roots(self._is_user))
        except Exception as exc:
            return self._owner_error(nodeid, exc)

    def cyclic_garbage(self, run_once: RunOnce, settings: Settings) -> list[CollectedGarbage]:
        """One more run of the test, traced, with the collector keeping what it frees
        (``DEBUG_SAVEALL``): what the run left for the cyclic collector, by type and
        allocation site. Information for ``--leak-forensics-gc-debug``, not a leak.

        Run apart from the measured runs, because kept garbage would count as kept
        memory there. Inside the heap window the collector sees only what this run
        made; what it saved is taken back out of ``gc.garbage`` and freed.
        """
        self.cleanup.run(thread_tools.snapshot())
        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start(settings.frames)
        debug, first = gc.get_debug(), len(gc.garbage)
        try:
            gc.set_debug(debug | gc.DEBUG_SAVEALL)
            try:
                run_once()
                self.heap.collect()
            finally:
                gc.set_debug(debug)
            saved = gc.garbage[first:]
            del gc.garbage[first:]
            found = growth.collected_by_site(saved, self._object_site)[: settings.top]
            del saved
        finally:
            if started:
                tracemalloc.stop()
        self.heap.collect()
        return found

    def _object_site(self, obj: object) -> str | None:
        frames = owners.creation_traceback(obj)
        return self._site(frames) if frames else None

    def _site(self, frames: Frames) -> str | None:
        """The line a stack (innermost first) is charged to, as sites are."""
        charged = self.classifier.charge(frames)
        if charged is None:
            return None
        (filename, lineno), _ = charged
        return f"{self.classifier.display(filename)}:{lineno}"

    def _is_user(self, filename: str) -> bool:
        return self.classifier.kind(filename) is Kind.USER

    def _owner_error(self, nodeid: str, exc: Exception) -> str:
        """Owners are the last step: a failure there costs them, not the verdict."""
        message = f"owner chains not found: internal error: {type(exc).__name__}: {exc}"
        self.warn(f"{nodeid}: {message}")
        return message
