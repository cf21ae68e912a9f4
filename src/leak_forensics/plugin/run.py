"""Running a pytest item's phases with the counters open everywhere but in report-making.

The test's own run is the screen, and its reports must survive it (they are logged
after the verdict) — so their memory must not count. ``runtestprotocol`` interleaves
report creation with the phases, and measuring from inside hook wrappers also counts
pluggy's per-call lists; both bias every test by a dozen blocks and hide small leaks.
So the phases are driven here with pytest's public pieces (``CallInfo.from_call`` and
the ``pytest_runtest_makereport`` hook), and the counters pause while a report is made.

Repetitions need none of this: they make no reports at all (``rerun``), and run under
one window.
"""

from __future__ import annotations

import bdb
import functools
import sys
import types
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from _pytest import timing
from _pytest.fixtures import FixtureDef, TopRequest
from _pytest.nodes import Node
from _pytest.unittest import TestCaseFunction

from ..integrations import hypothesis_examples
from ..measure.meter import Reading
from ..measure.stacks import getframe

_SETTLED = pytest.StashKey[bool]()


def _settle(item: pytest.Item) -> None:
    """Put the item in the state every later run starts from, before the window opens.

    An item's first run differs from the next ones in what collection left on it: its
    stash allocates its table on the first write, and a ``unittest`` item holds the
    ``TestCase`` made at collection until its first tear-down releases it. Either would
    move the screen by a few blocks; repetitions start from the settled state anyway.
    """
    item.stash[_SETTLED] = True
    if isinstance(item, TestCaseFunction) and "_instance" in vars(item):
        # TestCaseFunction.teardown does exactly this; setup makes a new instance.
        item._obj = None
        del item._instance


class Spans:
    """What the caller measures with: ``open(settle, malloc)`` a span,
    ``close(counted, settle, malloc)`` it (``Probe.open_span``, ``Probe.close_span``), and
    ``open_apart()`` one that sees only what is made in it (``Probe.open_span_apart``)."""

    def __init__(self, open_span: Callable[[bool, bool], None],
                 close_span: Callable[[bool, bool, bool], None],
                 open_apart: Callable[[], None]) -> None:
        self.open = open_span
        self.close = close_span
        self.open_apart = open_apart


def _interactive(call: pytest.CallInfo[None], report: pytest.TestReport) -> bool:
    if call.excinfo is None or hasattr(report, "wasxfail"):
        return False
    return not call.excinfo.errisinstance((pytest.skip.Exception, bdb.BdbQuit))


def _materialise_stack() -> None:
    """Give every running frame of the test runner its frame object before a span opens.

    CPython makes a frame's object only when something asks for it (a traceback, a
    warning's ``stacklevel``, ``inspect.stack()``, a template engine's error handling),
    and it lives until that frame returns. Asked for inside a span, the runner's frames
    that return after the screen (this one, the protocol's) read as a block the test kept:
    jinja2's suite had 88 needless suspects from it. Made here, once per phase, they exist
    at both ends of the span.
    """
    frame: types.FrameType | None = getframe()
    while frame is not None:
        frame = frame.f_back


def _open_example(spans: Spans) -> None:
    _materialise_stack()
    spans.open_apart()


def _timed_call(hook: Callable[..., object], item: pytest.Item, when: str,
                kwargs: dict[str, object], reraise: tuple[type[BaseException], ...],
                spans: Spans, first: Callable[[], object] | None = None,
                last: Callable[[], object] | None = None, exact: bool = True,
                exact_end: bool = False, examples: Any | None = None
                ) -> pytest.CallInfo[None]:
    """``CallInfo.from_call`` with only ``first()``, the hook call and ``last()`` in the
    counted span.

    ``exact``: the span opens with the caches settled and the C memory read (the span
    before it ended so). It ends so only after a failure (the report's traceback can be
    kilobytes of C memory and fill caches) or with ``last``; otherwise the next span
    opens without either, and continues this one (``run_screened``).

    ``examples``: a property-based test's hypothesis handle. Then the phase has a span
    for each example instead of one (``integrations.hypothesis_examples``); they open and
    end exactly, so the phases either side must end and open so (``exact_end``).

    The timestamps end up in the report, which outlives the run; made outside the span
    they don't count as the test's memory.
    """
    start = timing.time()
    precise_start = timing.perf_counter()
    excinfo = None
    _materialise_stack()
    whole = examples is None
    if whole:
        spans.open(exact, exact)
    try:
        if first is not None:
            first()
        if whole:
            hook(item=item, **kwargs)
        else:
            with hypothesis_examples.each_example(examples, functools.partial(_open_example, spans),
                                                  functools.partial(spans.close, True, True, True)):
                hook(item=item, **kwargs)
    except BaseException:
        excinfo = pytest.ExceptionInfo.from_current()
        if isinstance(excinfo.value, reraise):
            if whole:
                spans.close(False, True, True)
            raise
    if last is not None:
        last()
    ends_exact = excinfo is not None or last is not None or exact_end
    if whole:
        spans.close(True, ends_exact, ends_exact)
    precise_stop = timing.perf_counter()
    return pytest.CallInfo(None, excinfo, start=start, stop=timing.time(),
                           duration=precise_stop - precise_start, when=when,  # type: ignore[arg-type]  # pytest's Literal phases
                           _ispytest=True)


def run_screened(item: pytest.Item, nextitem: pytest.Item | None,
                 spans: Spans) -> list[pytest.TestReport]:
    """One full run of ``item``; returns its reports, not yet logged."""
    ihook = item.ihook
    _settle(item)
    per_run = _PerRun(item)
    # The request is made again in the set-up span and released at the end of the
    # tear-down span, so both ends of its life count; the one made at collection goes
    # first.
    per_run.drop_request()
    reraise = _reraise(item.config)
    examples = hypothesis_examples.handle(_defined(item))
    slots: list[pytest.TestReport | None] = [None, None, None]
    # The first span opens exactly, and the last ends so: the caches settled (the ones
    # a repetition's cleanup empties) and glibc's figure read. Between two phases that
    # passed, neither is done: each next span continues the last one, the caches that
    # one filled are emptied at the last span's end, and C memory is read there, so the
    # sum is the same. What a passed phase's report makes in between then counts, and it
    # is small objects, which the block count leaves out anyway (it is read at every
    # boundary). That saves three cache settlings (~120 us each on jinja2's suite) and
    # four reads of glibc's figure (~50 us each) per test. After a phase that raised,
    # the report (with its traceback) is kept out exactly, as before.
    exact = True
    try:
        for index, when in enumerate(("setup", "call", "teardown")):
            if when == "call" and not (slots[0] and slots[0].passed):
                continue
            kwargs: dict[str, object] = {}
            if when == "teardown":
                session = item.session
                stopping = session.shouldfail or session.shouldstop
                kwargs["nextitem"] = None if stopping else nextitem
            hook = getattr(ihook, f"pytest_runtest_{when}")
            call = _timed_call(hook, item, when, kwargs, reraise, spans,
                               first=per_run.begin if when == "setup" else None,
                               last=per_run.end if when == "teardown" else None,
                               exact=exact, exact_end=examples is not None,
                               examples=examples if when == "call" else None)
            exact = call.excinfo is not None or (examples is not None and when == "call")
            report = ihook.pytest_runtest_makereport(item=item, call=call)
            if _interactive(call, report):
                ihook.pytest_exception_interact(node=item, call=call, report=report)
            slots[index] = report
            del call, report
    finally:
        per_run.end()  # done already, unless the run was interrupted
    return [r for r in slots if r is not None]


def _defined(item: pytest.Item) -> object:
    """The test's function as defined, read without making anything: a method's
    ``item.obj`` would make an instance of its class (and keep it) if none is made yet."""
    if not isinstance(item, pytest.Function):
        return None
    cls = item.cls
    return getattr(cls, item.originalname, None) if cls is not None else item.obj


def _reraise(config: pytest.Config) -> tuple[type[BaseException], ...]:
    """What a phase lets through, as pytest's own runner decides it."""
    if config.getoption("usepdb", False):
        return (pytest.exit.Exception,)
    return (pytest.exit.Exception, KeyboardInterrupt)


class _PerRun:
    """What pytest makes for one run of an item and drops after it: the fixture request
    (with the fixture values) and, for a test method, the instance (``OwnInstance``)."""

    def __init__(self, item: pytest.Item) -> None:
        self._item = item
        self._renew = hasattr(item, "_initrequest") and hasattr(item, "_request")
        self._instance = OwnInstance.of(item)

    def begin(self) -> None:
        if self._instance is not None:
            self._instance.make()
        if self._renew and not self._item._request:  # type: ignore[attr-defined]  # pytest's private item state
            self._item._initrequest()  # type: ignore[attr-defined]  # pytest's private item state

    def end(self) -> None:
        self.drop_request()
        if self._instance is not None:
            self._instance.restore()

    def drop_request(self) -> None:
        if self._renew:
            self._item._request = False  # type: ignore[attr-defined]  # pytest's private item state
            self._item.funcargs = None  # type: ignore[attr-defined]  # pytest's private item state


class OwnInstance:
    """A fresh instance of the test's class for each run, made and dropped inside it.

    pytest makes a test method's instance once, at collection, and the item keeps it: so
    whatever the test stores on ``self`` outlives the run, as the item's memory, not the
    code's. Counted, it made every class-based test that sets an attribute a suspect
    (one block for the instance's dict, more for what it holds), and reused by the
    repetitions it carried one run's state into the next, which a real run never sees.
    Each run gets its own instance, as pytest promises each test, and the item gets the
    one it had back. (``unittest`` items already make and drop theirs in the run.)
    """

    def __init__(self, item: pytest.Function) -> None:
        self._item = item
        self._saved = (item._instance, item._obj)

    @classmethod
    def of(cls, item: pytest.Item) -> OwnInstance | None:
        if (not isinstance(item, pytest.Function) or isinstance(item, TestCaseFunction)
                or "_instance" not in vars(item) or item._instance is None):
            return None
        return cls(item)

    def make(self) -> None:
        item = self._item
        item._instance = item._getinstance()  # type: ignore[no-untyped-call]  # pytest's own way
        item._obj = item._getobj()  # type: ignore[no-untyped-call]  # pytest's own way

    def restore(self) -> None:
        self._item._instance, self._item._obj = self._saved


def set_up_parents(item: pytest.Item) -> None:
    """Set up the item's parent nodes and its higher-scoped fixtures, nothing else.

    Called inside the set-up phase (output is captured as usual) with the counters
    paused: a module or class fixture lives until its scope ends, and neither it nor
    pytest's bookkeeping for it is the test's memory. A failure is left for the test's
    own set-up to raise: pytest caches it on the node or the fixture.
    """
    try:
        item.session._setupstate.setup(_Sibling(item))  # type: ignore[arg-type]  # _Sibling stands in for an item
        wider = _wider_fixtures(item)
        if not wider:
            return
        request = TopRequest(item, _ispytest=True)  # type: ignore[arg-type]  # any item, as pytest's own
        with warnings.catch_warnings():
            # The item itself is not set up yet, which pytest 9 flags as a late request;
            # where a later pytest refuses, the fixture is set up (and counted) as before.
            warnings.filterwarnings("ignore", "Calling request.getfixturevalue",
                                    pytest.PytestRemovedIn10Warning)
            for name in wider:
                request.getfixturevalue(name)
    except (KeyboardInterrupt, SystemExit, pytest.exit.Exception):
        raise
    except BaseException:
        return


def parents_ready(item: pytest.Item) -> bool:
    """Are the item's parents and higher-scoped fixtures all set up already?"""
    stack = item.session._setupstate.stack
    if any(node not in stack for node in item.listchain()[:-1]):
        return False
    return all(fixturedef.cached_result is not None
               for fixturedef in _wider_fixtures(item).values())


def _wider_fixtures(item: pytest.Item) -> dict[str, pytest.FixtureDef[object]]:
    """The item's fixtures scoped wider than a function, in set-up order, by name."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return {}
    wider = {}
    for name in getattr(item, "fixturenames", ()):
        defs = info.name2fixturedefs.get(name)
        if defs and defs[-1].scope != "function":
            wider[name] = defs[-1]
    return wider


def prune_stale_finalizers(item: pytest.Item) -> None:
    """Drop the spent tear-down callbacks a test left on its wider-scoped fixtures.

    A function-scoped fixture that requests a session fixture (``tmp_path`` requests
    ``tmp_path_factory``) registers ``partial(fixturedef.finish, request=...)`` with it on
    every test, and the session fixture keeps them all until it ends: pytest's memory,
    ten blocks per test, that looks like a leak in every test using ``tmp_path``. Once the
    test is torn down each such callback is a no-op (``finish`` returns at once for a
    fixture with no cached value), so removing it changes nothing but the memory.
    """
    for fixturedef in _wider_fixtures(item).values():
        finalizers = getattr(fixturedef, "_finalizers", None)
        if isinstance(finalizers, list) and finalizers:
            finalizers[:] = [fin for fin in finalizers if not _spent_finish(fin)]


def _spent_finish(fin: object) -> bool:
    if not isinstance(fin, functools.partial):
        return False
    owner = getattr(fin.func, "__self__", None)
    return (isinstance(owner, FixtureDef) and getattr(fin.func, "__name__", "") == "finish"
            and owner.scope == "function" and owner.cached_result is None)


def leaves_parents(item: pytest.Item, nextitem: pytest.Item | None) -> bool:
    """Will tearing down ``item`` before ``nextitem`` also tear down a parent node?"""
    needed = set(nextitem.listchain()) if nextitem is not None else set()
    return any(node not in needed for node in item.listchain()[:-1])


def tear_down_apart(item: pytest.Item, nextitem: pytest.Item | None,
                    pause: Callable[[], bool], resume: Callable[[], None]
                    ) -> BaseException | None:
    """Tear down the item, then, with the counters paused, the parents ``nextitem``
    does not share; returns the first error. pytest's own tear-down then finds
    nothing left to do and runs its bookkeeping inside the counted span as usual."""
    state = item.session._setupstate
    error: BaseException | None = None
    for target, paused_part in ((_Sibling(item), False), (nextitem, True)):
        paused = pause() if paused_part else False
        try:
            state.teardown_exact(target)  # type: ignore[arg-type]  # _Sibling stands in for an item
        except (KeyboardInterrupt, SystemExit, pytest.exit.Exception):
            raise
        except BaseException as exc:
            error = error or exc
        finally:
            if paused:
                resume()
    return error


def section_memory(sections: list[tuple[str, str, str]]) -> Reading:
    """Blocks and bytes pytest keeps for captured-output sections added during a run."""
    blocks = malloc = 0
    for _, _, content in sections:
        blocks += 1  # the (when, key, content) tuple
        if len(content) > 1:  # "" and one-character strings are shared singletons
            size = sys.getsizeof(content)
            if size <= 512:
                blocks += 1
            else:
                malloc += size
    return Reading(blocks, malloc)


class _Sibling:
    """Stands in for the next item so a repetition's tear-down stops above the test.

    pytest tears down every node the next item does not share. Passing the test itself
    would keep its own node — and its function-scoped fixtures — set up; passing this
    keeps only the parents (module, class, session fixtures stay up between runs).
    """

    def __init__(self, item: pytest.Item) -> None:
        self._chain = item.listchain()[:-1]
        self._parent = item.parent

    def listchain(self) -> list[Node]:
        return list(self._chain)

    def __getattr__(self, name: str) -> object:
        return getattr(self._parent, name)


_DOCTEST_NAMESPACE = "_leak_forensics_doctest_globs"


def keep_doctest_namespace(item: pytest.Item) -> None:
    """A doctest's runner clears its namespace after each run; keep a copy to repeat it."""
    globs = getattr(getattr(item, "dtest", None), "globs", None)
    if isinstance(globs, dict):
        setattr(item, _DOCTEST_NAMESPACE, dict(globs))


def rerun(item: pytest.Item) -> str:
    """One silent repetition of the whole test; pytest's per-item records are put back.

    Only the phases run, as ``runtestprotocol`` runs them, but no report is made: other
    plugins act on every report (hypothesis adds a junit-xml property for each, which
    grew the run's property list on every repetition and read as the test's leak), and
    a repetition must be invisible to them. Its outcome is read from the phases' errors.
    """
    namespace = getattr(item, _DOCTEST_NAMESPACE, None)
    if namespace is not None:
        item.dtest.globs.update(namespace)  # type: ignore[attr-defined]  # a DoctestItem's test
    sections = len(item._report_sections)
    properties = list(item.user_properties)
    with warnings.catch_warnings(record=True):
        outcome = _run_phases(item)
    prune_stale_finalizers(item)
    del item._report_sections[sections:]
    item.user_properties[:] = properties
    return outcome


_SKIPPED = (pytest.skip.Exception, pytest.xfail.Exception)


def _run_phases(item: pytest.Item) -> str:
    ihook = item.ihook
    reraise = _reraise(item.config)
    per_run = _PerRun(item)
    per_run.begin()
    outcomes = []
    setup = pytest.CallInfo.from_call(lambda: ihook.pytest_runtest_setup(item=item),
                                      when="setup", reraise=reraise)
    outcomes.append(_outcome(item, setup))
    if setup.excinfo is None:
        call = pytest.CallInfo.from_call(lambda: ihook.pytest_runtest_call(item=item),
                                         when="call", reraise=reraise)
        outcomes.append(_outcome(item, call))
        del call
    teardown = pytest.CallInfo.from_call(
        lambda: ihook.pytest_runtest_teardown(item=item, nextitem=_Sibling(item)),
        when="teardown", reraise=reraise)
    outcomes.append(_outcome(item, teardown))
    per_run.end()
    for outcome in ("failed", "skipped"):
        if outcome in outcomes:
            return outcome
    return "passed"


def own_outcome(reports: list[pytest.TestReport]) -> str:
    """The test's own run in the repetitions' words: failed, skipped or passed."""
    for outcome in ("failed", "skipped"):
        if any(r.outcome == outcome for r in reports):
            return outcome
    return "passed" if reports else ""


def _outcome(item: pytest.Item, call: pytest.CallInfo[None]) -> str:
    """What pytest would report for a phase: a failure under ``xfail`` is "skipped"."""
    if call.excinfo is None:
        return "passed"
    if call.excinfo.errisinstance(_SKIPPED) or (
            call.when == "call" and item.get_closest_marker("xfail") is not None):
        return "skipped"
    return "failed"
