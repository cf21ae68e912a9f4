"""Running a pytest item's phases with the counters open everywhere but in report-making.

The test's own run is the screen, and its reports must survive it (they are logged
after the verdict) — so their memory must not count. ``runtestprotocol`` interleaves
report creation with the phases, and measuring from inside hook wrappers also counts
pluggy's per-call lists; both bias every test by a dozen blocks and hide small leaks.
So the phases are driven here with pytest's public pieces (``CallInfo.from_call`` and
the ``pytest_runtest_makereport`` hook), and the counters pause while a report is made.

Repetitions need none of this: their reports are thrown away, so ``runtestprotocol``
under one window is exact.
"""

from __future__ import annotations

import bdb
import sys
import warnings
from collections.abc import Callable

import pytest
from _pytest.runner import runtestprotocol

from .meter import Reading


class Spans:
    """What the caller measures with: open a span, close it (counted or not)."""

    def __init__(self, open_span: Callable[[], None],
                 close_span: Callable[[bool], None]) -> None:
        self.open = open_span
        self.close = close_span


def _interactive(call: pytest.CallInfo[None], report: pytest.TestReport) -> bool:
    if call.excinfo is None or hasattr(report, "wasxfail"):
        return False
    return not call.excinfo.errisinstance((pytest.skip.Exception, bdb.BdbQuit))


def run_screened(item: pytest.Item, nextitem: pytest.Item | None, spans: Spans,
                 teardown_counts: Callable[[], bool]) -> list[pytest.TestReport]:
    """One full run of ``item``; returns its reports, not yet logged.

    ``teardown_counts`` is asked after the tear-down whether that phase should count
    (not when it also tore down a module- or session-scoped fixture).
    """
    ihook = item.ihook
    config = item.config
    if hasattr(item, "_initrequest"):
        # A fresh request now, so the one released at the end was made inside the window.
        item._initrequest()
    reraise: tuple[type[BaseException], ...] = (pytest.exit.Exception,)
    if not config.getoption("usepdb", False):
        reraise += (KeyboardInterrupt,)
    slots: list[pytest.TestReport | None] = [None, None, None]
    spans.open()
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
            call = pytest.CallInfo.from_call(lambda h=hook, k=kwargs: h(item=item, **k),
                                             when=when, reraise=reraise)  # type: ignore[arg-type]
            spans.close(when != "teardown" or teardown_counts())
            report = ihook.pytest_runtest_makereport(item=item, call=call)
            if _interactive(call, report):
                ihook.pytest_exception_interact(node=item, call=call, report=report)
            slots[index] = report
            spans.open()
            del call  # made in the counted span, so freed in one too
    finally:
        if hasattr(item, "_request"):
            item._request = False  # type: ignore[attr-defined]
            item.funcargs = None  # type: ignore[attr-defined]
        spans.close(True)
    return [r for r in slots if r is not None]


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


def rerun(item: pytest.Item) -> str:
    """One silent repetition of the whole test; pytest's per-item records are put back."""
    sections = len(item._report_sections)
    properties = list(item.user_properties)
    with warnings.catch_warnings(record=True):
        reports = runtestprotocol(item, nextitem=item, log=False)
    del item._report_sections[sections:]
    item.user_properties[:] = properties
    if any(r.failed for r in reports):
        return "failed"
    if any(r.skipped for r in reports):
        return "skipped"
    return "passed"
