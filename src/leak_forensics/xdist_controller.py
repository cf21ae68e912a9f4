"""Under pytest-xdist: the controller's side, which runs no test and writes the one report.

Each worker checks its own tests and attaches each test's result (builtin types, a few
kilobytes at most) to the last report of that test, which xdist already carries to the
controller; snapshots go to files. At the end each worker sends its notes and suspect
count in ``workeroutput``. A worker that dies leaves the results of every test it
finished, and xdist reports the test it was running: that test gets the verdict
``error`` with a note naming the worker.
"""

from __future__ import annotations

import contextlib
import warnings

import pytest

from . import report_json, report_terminal
from .errors import LeakForensicsWarning
from .results import ERROR, LEAK, TestResult
from .settings import Settings

#: The attribute of a test's last report that carries its result to the controller.
RESULT_ATTRIBUTE = "leak_forensics"
#: The key of a worker's ``workeroutput`` with its notes and suspect count.
OUTPUT_KEY = "leak_forensics"


def is_controller(config: pytest.Config) -> bool:
    return (getattr(config.option, "dist", "no") != "no"
            and not hasattr(config, "workerinput"))


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
        if getattr(report, "leak_verdict", None) != LEAK or report.when != "call":
            return None
        if report.passed:
            return "passed", "L", ("LEAKED", {"yellow": True})
        if report.failed and report.longrepr and "leak-forensics" in str(report.longrepr):
            return "failed", "L", ("LEAKED", {"red": True})
        return None

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        report_terminal.write_summary(terminalreporter, self.results, self.notes,
                                      self.suspects, self.extra_notes())

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        path = self.settings.json_path
        if path is None or hasattr(self.config, "workerinput"):
            return
        try:
            report_json.write(path, self.results, self.settings,
                              self.notes + self.extra_notes(), self.suspects)
        except OSError as exc:
            self.warn(f"could not write the JSON report to {path}: {exc.strerror or exc}")

    def warn(self, message: str) -> None:
        self.notes.append(message)
        # -W error must not turn our trouble into the user's failure.
        with contextlib.suppress(Warning):
            warnings.warn(LeakForensicsWarning(message), stacklevel=2)


class Controller(Reporting):
    """Gathers the workers' results as their reports arrive."""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, RESULT_ATTRIBUTE, None)
        if isinstance(data, dict):
            try:
                self.results.append(TestResult.from_json(data))
            except (KeyError, TypeError, ValueError) as exc:
                self.warn(f"{report.nodeid}: a worker's result could not be read: {exc}")
        elif report.when == "???":  # xdist's report for the test a dead worker was running
            worker = getattr(getattr(getattr(report, "node", None), "gateway", None), "id", "?")
            self.results.append(TestResult(report.nodeid, ERROR, notes=[
                f"worker {worker} crashed while running this test; not checked"]))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        output = getattr(node, "workeroutput", None) or {}
        mine = output.get(OUTPUT_KEY) if isinstance(output, dict) else None
        if isinstance(mine, dict):
            self.notes += [str(n) for n in mine.get("notes", [])]
            self.suspects += int(mine.get("suspects", 0))
        if error:
            worker = getattr(getattr(node, "gateway", None), "id", "?")
            self.notes.append(f"worker {worker} went down ({error}); the results of the "
                              "tests it finished are kept")
