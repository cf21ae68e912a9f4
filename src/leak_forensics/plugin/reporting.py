"""What the serial plugin and the xdist controller share: the results, the progress
letter of a leaking test, and the summary and JSON report at the end."""

from __future__ import annotations

import contextlib
import warnings

import pytest

from ..errors import LeakForensicsWarning
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

    def extra_notes(self) -> list[str]:
        return []

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport
                                 ) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
        if getattr(report, "leak_verdict", None) != Verdict.LEAK or report.when != "call":
            return None
        if report.passed:
            return "passed", "L", ("LEAKED", {"yellow": True})
        if report.failed and report.longrepr and "leak-forensics" in str(report.longrepr):
            return "failed", "L", ("LEAKED", {"red": True})
        return None

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminal.write_summary(terminalreporter, self.results, self.notes, self.suspects,
                               self.extra_notes())

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        path = self.settings.json_path
        if path is None or hasattr(self.config, "workerinput"):
            return
        run = Run(self.results, self.notes + self.extra_notes(), self.suspects, self.settings)
        try:
            render_report(JsonReporter(), run, path)
        except OSError as exc:
            self.warn(f"could not write the JSON report to {path}: {exc.strerror or exc}")

    def warn(self, message: str) -> None:
        self.notes.append(message)
        # -W error must not turn our trouble into the user's failure.
        with contextlib.suppress(Warning):
            warnings.warn(LeakForensicsWarning(message), stacklevel=2)
