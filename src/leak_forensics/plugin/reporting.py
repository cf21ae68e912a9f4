"""What the serial plugin and the xdist controller share: the results, the progress
letter of a leaking test, and the summary and JSON report at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import warnings
from datetime import UTC, datetime
from types import FrameType

import pytest

from ..analysis.alerts import EXIT_ALERT
from ..errors import BadInput, LeakForensicsWarning
from ..reporters import terminal
from ..reporters.json_report import JsonReporter
from ..reporters.run import Run, render_report
from ..results import TestResult, Verdict
from ..settings import Settings


class Reporting:
    """What the serial plugin and the controller share: the results, and their summary
    and JSON report."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.results: list[TestResult] = []
        self.notes: list[str] = []
        self.suspects = 0
        #: Bad markers, one line each: the run is a usage error, with no report.
        self.usage_errors: list[str] = []
        self.started = datetime.now(UTC)
        #: (run id, store) once this run is in the history.
        self.recorded: tuple[int, str] | None = None
        #: The comparison with an earlier run, as text, and the alerts that held.
        self.compared: str | None = None
        self.compared_with: int | None = None
        self.alerts: list[str] = []
        self._previous_sigterm: object = None
        self._catch_sigterm()

    def extra_notes(self) -> list[str]:
        return []

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport
                                 ) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
        if getattr(report, "leak_verdict", None) != Verdict.LEAK or report.when != "call":
            return None
        if report.passed:
            return "passed", "L", ("LEAKED (reported)", {"yellow": True})
        if report.failed and report.longrepr and "leak-forensics" in str(report.longrepr):
            return "failed", "L", ("LEAKED (failed)", {"red": True})
        return None

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.usage_errors:
            return
        terminal.write_summary(terminalreporter, self.results, self.notes, self.suspects,
                               self.extra_notes(), self.settings)
        if self.recorded is not None:
            terminalreporter.write_line(
                f"leak-forensics: recorded as run {self.recorded[0]} in {self.recorded[1]}")
        if self.compared is not None:
            terminalreporter.write_sep("-", "leak-forensics: compared with an earlier run")
            terminalreporter.write_line(self.compared)
        for alert in self.alerts:
            terminalreporter.write_line(f"leak-forensics: ALERT {alert}", red=True, bold=True)
        if self.alerts:
            terminalreporter.write_line(f"leak-forensics: exit status {EXIT_ALERT}: a "
                                        "--leak-forensics-compare-fail condition held")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._record_history(session)
        if self.recorded is not None and self.settings.compare:
            self._compare(self.recorded[0])
        if self.alerts and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = EXIT_ALERT
        if not self._write_report() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def _record_history(self, session: pytest.Session) -> None:
        """One row per run, by the process that reports (never an xdist worker). A store
        that cannot be used costs the history, never the run: a warning and a note."""
        url = self.settings.history
        if url is None or self.usage_errors or hasattr(self.config, "workerinput"):
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        stats = getattr(reporter, "stats", {})
        outcomes = {key: len(stats[key]) for key in
                    ("passed", "failed", "skipped", "error", "xfailed", "xpassed")
                    if stats.get(key)}
        try:
            from ..history.run_info import record

            self.recorded = record(
                url, rootdir=self.config.rootpath, started=self.started,
                finished=datetime.now(UTC), exit_status=int(session.exitstatus),
                outcomes=outcomes, options=list(self.config.invocation_params.args),
                tags=dict(self.settings.tags), results=self.results)
        except BadInput as exc:
            self.warn(f"this run was not recorded in the history: {exc}")
        except Exception as exc:  # noqa: BLE001  # never the run's failure
            self.warn(f"this run was not recorded in the history: internal error "
                      f"{type(exc).__name__}: {exc}")

    def _compare(self, run_id: int) -> None:
        """This run against the chosen base, and the alerts that hold on the change. No
        base yet is a note: the first run of a project has nothing to be worse than."""
        url = self.settings.history
        assert url is not None  # recorded
        try:
            from ..history.comparing import alerts, compare_stored
            from ..history.store import HistoryStore
            from ..reporters.compare_text import comparison_text

            store = HistoryStore(url)
            try:
                run = store.run(run_id)
                base_id = self.settings.compare_base
                if base_id is None:
                    branch = run.get("git_branch")
                    base_id = store.baseline(run_id, str(branch) if branch else None)
                if base_id is None:
                    self.notes.append("no earlier run in the history to compare with: the "
                                      "alerts were not checked")
                    return
                comparison = compare_stored(store, base_id, run_id)
                self.compared_with = base_id
                outcomes = alerts(self.settings.compare_fail, comparison)
                self.compared = comparison_text(comparison, store.run(base_id), run,
                                                outcomes)
                if any(o.holds for o in outcomes) and run["exit_status"] == 0:
                    store.set_exit_status(run_id, EXIT_ALERT)
            finally:
                store.close()
        except BadInput as exc:
            self.warn(f"this run was not compared with an earlier one: {exc}")
            return
        except Exception as exc:  # noqa: BLE001  # never the run's failure
            self.warn(f"this run was not compared with an earlier one: internal error "
                      f"{type(exc).__name__}: {exc}")
            return
        self.alerts = [f"{o.rule.text}: {o.message}" for o in outcomes if o.holds]

    def _write_report(self) -> bool:
        """The JSON report, if one was asked for; False if it could not be written."""
        path = self.settings.json_path
        if path is None or self.usage_errors or hasattr(self.config, "workerinput"):
            return True
        history = None if self.recorded is None else {
            "run": self.recorded[0], "store": self.recorded[1],
            "compared_with": self.compared_with, "alerts": list(self.alerts)}
        run = Run(self.results, self.notes + self.extra_notes(), self.suspects, self.settings,
                  history)
        try:
            render_report(JsonReporter(), run, path)
        except OSError as exc:
            # CI relies on the file: a run that cannot write it does not pass quietly.
            print(f"ERROR: leak-forensics: could not write the JSON report to {path}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return False
        return True

    # CI systems end a job that runs over its time with SIGTERM, which Python does not
    # turn into an exception: without this, the tests that finished leave no report.

    def _catch_sigterm(self) -> None:
        if (self.settings.json_path is None or hasattr(self.config, "workerinput")
                or threading.current_thread() is not threading.main_thread()):
            return
        previous = signal.getsignal(signal.SIGTERM)
        if previous is signal.SIG_IGN:
            return  # the process was told to ignore it; so do we
        self._previous_sigterm = previous
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.notes.append(f"the run was stopped by SIGTERM after {len(self.results)} "
                          "checked tests; the report holds those")
        self._write_report()
        previous = self._release_sigterm()
        if callable(previous):
            previous(signum, frame)
        else:  # end the process as the signal would have
            os.kill(os.getpid(), signal.SIGTERM)

    def _release_sigterm(self) -> object:
        previous, self._previous_sigterm = self._previous_sigterm, None
        if previous is not None and signal.getsignal(signal.SIGTERM) == self._on_sigterm:
            signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]  # getsignal's own result
        return previous

    def pytest_unconfigure(self) -> None:
        self._release_sigterm()

    def warn(self, message: str) -> None:
        self.notes.append(message)
        # -W error must not turn our trouble into the user's failure.
        with contextlib.suppress(Warning):
            warnings.warn(LeakForensicsWarning(message), stacklevel=2)
