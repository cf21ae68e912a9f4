"""The plugin's work in a process that runs tests: it takes over each test's protocol so
the engine can screen, repeat and trace it.

The plugin takes over ``pytest_runtest_protocol`` (as pytest-rerunfailures does): the
test's own run happens with reports held back, suspects are repeated, and only then are
the held reports logged, with the verdict attached so the progress line can show it.
The outcome of the test's own run is what pytest reports; repetitions never change it,
and an internal error becomes a warning and a note in the report.
"""

from __future__ import annotations

import os
import time
import types
from collections.abc import Generator

import pytest

from .. import verdict
from ..analysis.attribution import FrameClassifier, Kind
from ..cleanup.sweep import CleanupPass
from ..errors import ConfigError
from ..files import write_atomically
from ..integrations import sqlalchemy
from ..measure import meter
from ..measure import threads as thread_tools
from ..measure.budget import ConfirmBudget
from ..measure.heap import HeapWindow
from ..measure.meter import METRICS
from ..measure.traffic import Traffic
from ..probe import Probe
from ..reporters import terminal
from ..results import TestMemory, TestResult, Verdict
from ..settings import MarkerOverrides, Settings
from ..snapshot import file as snapshot_file
from .isolated import is_isolated
from .relay import ReportRelay
from .reporting import Reporting
from .run import (
    Spans,
    keep_doctest_namespace,
    leaves_parents,
    own_outcome,
    parents_ready,
    prune_stale_finalizers,
    rerun,
    run_screened,
    section_memory,
    set_up_parents,
    tear_down_apart,
)
from .xdist import OUTPUT_KEY, RESULT_ATTRIBUTE, watch_worker_channel


class LeakForensics(Reporting):
    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        super().__init__(config, settings)
        self.worker = hasattr(config, "workerinput")
        #: Which process runs the tests, as the run's memory report names it.
        self.process = str(config.workerinput["workerid"]) if self.worker else "main"  # type: ignore[attr-defined]  # xdist's worker config
        # Asking for every test to be repeated is asking for thoroughness over time.
        self.budget = ConfirmBudget(None if settings.screen_all else settings.budget)
        self.heap = HeapWindow()
        meter.warm_up_allocator()
        plugins = [getattr(p, "__name__", "") for p in config.pluginmanager.get_plugins()
                   if isinstance(p, types.ModuleType)]
        classifier = FrameClassifier(str(config.rootpath), settings.include, settings.exclude,
                                     plugins)
        self.cleanup = CleanupPass(
            self.heap, skip=settings.skip_steps, opt_in=settings.opt_in_steps,
            thread_timeout=settings.thread_timeout,
            hooks=lambda: config.hook.pytest_leak_forensics_cleanup(config=config),
            is_user_file=lambda filename: classifier.kind(filename) is Kind.USER)
        traffic = Traffic()
        if self.worker and not watch_worker_channel(config, traffic):
            self.notes.append("pytest-xdist: this worker's message handling could not be "
                              "watched; its traffic may add noise to a test's counts")
        self.probe = Probe(classifier, self.heap, self.cleanup, self.warn, traffic)
        thread_tools.record_starts(self.probe.stack)
        self.relay = ReportRelay(config, self)
        self._overrides: dict[str, MarkerOverrides] = {}
        self._screening: pytest.Item | None = None
        self._boundary = False
        self._first = True

    # -- configuration per test -----------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        problems = []
        for item in items:
            marker = item.get_closest_marker("leak_forensics")
            if marker is None:
                continue
            try:
                self._overrides[item.nodeid] = MarkerOverrides.parse(marker.args,
                                                                     dict(marker.kwargs))
            except ConfigError as exc:
                problems.append(f"leak-forensics: {item.nodeid}: {exc}")
        if not problems:
            return
        self.usage_errors = problems
        if not self.worker:
            raise pytest.UsageError(*problems)
        # A usage error raised in a worker is an INTERNALERROR in the controller: the
        # worker runs nothing and hands the errors over (``xdist.Controller``).
        items.clear()

    def _settings_for(self, item: pytest.Item) -> Settings:
        settings = self.settings
        overrides = self._overrides.get(item.nodeid)
        if overrides is not None:
            settings = overrides.apply(settings)
        if item.get_closest_marker("memory_intensive") is not None:
            settings = settings.replace(trace=False)
        return settings

    # -- the protocol ---------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None
                                ) -> bool | None:
        skip = item.get_closest_marker("no_leak_check")
        if skip is not None:
            reason = skip.kwargs.get("reason") or (skip.args[0] if skip.args else "")
            self.results.append(TestResult(
                item.nodeid, Verdict.NOT_CHECKED,
                notes=[f"no_leak_check: {reason}" if reason else "no_leak_check"]))
            return None  # pytest's own protocol runs it
        if self.config.getoption("setuponly", False) or self.config.getoption("setupshow", False):
            return None
        if is_isolated(item):
            return None  # run in a child process, which checks it (``adopt``)
        ihook = item.ihook
        wall, rss_start = time.time(), meter.rss()
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        keep_doctest_namespace(item)
        self.probe.begin()
        self._screening, self._boundary = item, False
        kept = len(item._report_sections)
        started = time.perf_counter()
        try:
            try:
                with self.relay.holding(lambda: self.probe.pause(settle=False),
                                        lambda: self.probe.open_span(settle=False)):
                    reports = run_screened(
                        item, nextitem, Spans(self.probe.open_span, self.probe.close_span,
                              self.probe.open_span_apart))
            finally:
                self._screening = None
                run_seconds = time.perf_counter() - started
                self.budget.ran(run_seconds)
            try:
                if self.probe.broken is not None:
                    raise self.probe.broken
                self.probe.finish_screen(section_memory(item._report_sections[kept:]))
                result = self._examine(item, nextitem, reports, run_seconds)
            except Exception as exc:
                result = self._internal_error(item.nodeid, exc)
        finally:
            self.probe.end()
        if not result.outcome:
            result.outcome = own_outcome(reports)
        result.memory = TestMemory(
            self.process, os.getpid(), wall, time.time(),
            sum(report.duration for report in reports), rss_start, meter.rss(),
            meter.peak_rss())
        self.results.append(result)
        if self.worker and reports:  # xdist carries it to the controller
            setattr(reports[-1], RESULT_ATTRIBUTE, result.to_json())
        for report in reports:
            if report.when == "call":
                self.relay.replay(ihook)  # subtests are logged before their test's call
            self._annotate(report, result)
            ihook.pytest_runtest_logreport(report=report)
        self.relay.replay(ihook)
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    def adopt(self, item: pytest.Item, reports: list[pytest.TestReport],
              result: TestResult | None) -> None:
        """An isolated test's verdict, from the child process that checked it."""
        if result is None:
            result = TestResult(item.nodeid, Verdict.NOT_CHECKED, notes=[
                "isolated: its process gave no verdict back (it crashed or timed out)"])
        else:
            result.notes.append("isolated: checked in a process of its own")
            result.fail = self.settings.fail and result.verdict == Verdict.LEAK
        if not result.outcome:
            result.outcome = own_outcome(reports)
        self.results.append(result)
        if self.worker and reports:
            setattr(reports[-1], RESULT_ATTRIBUTE, result.to_json())
        for report in reports:
            self._annotate(report, result)

    def _examine(self, item: pytest.Item, nextitem: pytest.Item | None,
                 reports: list[pytest.TestReport], run_seconds: float) -> TestResult:
        setup = reports[0]
        if setup.skipped:
            return TestResult(item.nodeid, Verdict.SKIPPED)
        if setup.failed:
            return TestResult(item.nodeid, Verdict.ERROR, notes=["set-up failed; not checked"])
        session = item.session
        if session.shouldstop or session.shouldfail:
            return TestResult(item.nodeid, Verdict.NOT_CHECKED, notes=["session stopping"])
        if self.config.getoption("usepdb", False) and any(r.failed for r in reports):
            return TestResult(item.nodeid, Verdict.NOT_CHECKED,
                              notes=["failed under --pdb; repeating it would reopen the debugger"])
        screened = self.probe.screened()
        first, self._first = self._first, False
        if not verdict.needs_confirmation(screened, first=first,
                                          confirm_all=self.settings.screen_all,
                                          inexact=self.relay.inexact or self.probe.noisy):
            result = TestResult(item.nodeid, Verdict.CLEAN, deltas={
                m: [getattr(screened, m)] for m in METRICS}, screen=screened.as_dict())
            if self.settings.gc_debug:  # a session-wide setting: markers leave it alone
                try:
                    self._cyclic_garbage(item, result, self._settings_for(item))
                finally:
                    self._restore_setup_state(item, nextitem)
            return result
        self.suspects += 1
        started = time.perf_counter()
        try:
            settings = self._settings_for(item)
            with self.relay.dropping():
                result = self.probe.investigate(
                    item.nodeid, lambda: rerun(item), settings,
                    extra_warmups=1 if self._boundary else 0,
                    affords=self.budget.for_suspect(run_seconds),
                    outcome=own_outcome(reports))
            result.screen = screened.as_dict()
            if self.probe.saved and (result.verdict == Verdict.LEAK or settings.save_all):
                self._save_snapshots(result, self.probe.saved)
            if settings.gc_debug:
                self._cyclic_garbage(item, result, settings)
            return result
        except Exception as exc:
            return self._internal_error(item.nodeid, exc)
        finally:
            self._restore_setup_state(item, nextitem)
            self.budget.spend(time.perf_counter() - started)

    def _cyclic_garbage(self, item: pytest.Item, result: TestResult, settings: Settings
                        ) -> None:
        """--leak-forensics-gc-debug: information only, so a failure costs only it."""
        try:
            with self.relay.dropping():
                result.cyclic_garbage = self.probe.cyclic_garbage(lambda: rerun(item),
                                                                  settings)
        except Exception as exc:
            message = f"cyclic garbage not examined: internal error: {type(exc).__name__}: {exc}"
            self.warn(f"{item.nodeid}: {message}")
            result.notes.append(message)

    def _save_snapshots(self, result: TestResult, encoded: tuple[bytes, bytes]) -> None:
        directory = self.settings.save_dir
        assert directory is not None
        stem = snapshot_file.safe_stem(result.nodeid)
        try:
            os.makedirs(directory, exist_ok=True)
            for label, data in zip(("before", "after"), encoded, strict=True):
                path = os.path.join(directory, f"{stem}.{label}{snapshot_file.SUFFIX}")
                write_atomically(path, data)
                result.snapshots[label] = path
        except OSError as exc:
            self.warn(f"{result.nodeid}: could not save snapshots in {directory}: "
                       f"{exc.strerror or exc}")

    def _restore_setup_state(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        """Repetitions keep higher-scoped fixtures up; tear them down as the real run did."""
        try:
            item.session._setupstate.teardown_exact(nextitem)
        except Exception as exc:
            self.warn(f"{item.nodeid}: tearing down fixtures after repetitions failed: "
                       f"{type(exc).__name__}: {exc}")

    def _internal_error(self, nodeid: str, exc: BaseException) -> TestResult:
        message = f"{nodeid}: internal error: {type(exc).__name__}: {exc}"
        self.warn(message)
        return TestResult(nodeid, Verdict.ERROR, notes=[message])


    def _annotate(self, report: pytest.TestReport, result: TestResult) -> None:
        if report.when != "call":
            return
        # A plain string: xdist carries reports between processes as builtin types.
        report.leak_verdict = result.verdict.value  # type: ignore[attr-defined]  # ours, read by Reporting
        if result.verdict == Verdict.LEAK and result.fail and report.passed:
            report.outcome = "failed"
            report.longrepr = terminal.failure_text(result)

    # -- measuring the test's own run -----------------------------------------------------

    # Parents (module, class, session) and higher-scoped fixtures are set up and torn
    # down with the counters paused: they outlive the test, and what their tear-down
    # frees would hide what the test kept. Innermost wrappers, so output stays captured.

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        if self._screening is item and not parents_ready(item):
            paused = self.probe.pause()
            try:
                set_up_parents(item)
                # What they made outlives the test: out of the collector's sight, so the
                # run's collections stay as cheap as for any other test.
                self.heap.refreeze()
            finally:
                if paused:
                    self.probe.open_span()
        return (yield)

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None
                                ) -> Generator[None, None, None]:
        if self._screening is not item:
            return (yield)
        error = None
        if leaves_parents(item, nextitem):
            self._boundary = True
            error = tear_down_apart(item, nextitem, self.probe.pause, self.probe.open_span)
        try:
            result = yield
        finally:
            prune_stale_finalizers(item)
        if error is not None:
            raise error
        return result

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.relay.receive(report)  # only reached while a measured run mutes the hook

    # -- reporting ------------------------------------------------------------------------

    def extra_notes(self) -> list[str]:
        return list(self.cleanup.errors)

    def pytest_unconfigure(self) -> None:
        super().pytest_unconfigure()
        self.heap.release()
        thread_tools.record_starts(None)
        sqlalchemy.track_connections(None)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.worker:  # read by the controller (xdist_controller) when the worker ends
            self.config.workeroutput[OUTPUT_KEY] = {  # type: ignore[attr-defined]  # xdist adds workeroutput
                "notes": self.notes + self.extra_notes(), "suspects": self.suspects,
                "usage_errors": self.usage_errors}
            return
        super().pytest_sessionfinish(session)
