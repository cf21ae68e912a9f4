"""Under pytest-xdist: the controller's side, which runs no test and writes the one report.

Each worker checks its own tests and attaches each test's result (builtin types, a few
kilobytes at most) to the last report of that test, which xdist already carries to the
controller; snapshots go to files. At the end each worker sends its notes and suspect
count in ``workeroutput``. A worker that dies leaves the results of every test it
finished, and xdist reports the test it was running: that test gets the verdict
``error`` with a note naming the worker.
"""

from __future__ import annotations

import sys

import pytest

from ..measure.traffic import Traffic
from ..results import TestResult, Verdict
from .reporting import Reporting

#: The attribute of a test's last report that carries its result to the controller.
RESULT_ATTRIBUTE = "leak_forensics"
#: The key of a worker's ``workeroutput`` with its notes and suspect count.
OUTPUT_KEY = "leak_forensics"


def is_controller(config: pytest.Config) -> bool:
    return (getattr(config.option, "dist", "no") != "no"
            and not hasattr(config, "workerinput"))


def watch_worker_channel(config: pytest.Config, traffic: Traffic) -> bool:
    """Count the messages this worker's receiving thread handles (``measure.traffic``).

    execnet's receiver holds its gateway's ``_receivelock`` for each message, so that is
    where the count goes. A private name: if a version moves it, windows are simply never
    called noisy, as before, and this returns False.
    """
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ != "WorkerInteractor":
            continue
        gateway = getattr(getattr(plugin, "channel", None), "gateway", None)
        lock = getattr(gateway, "_receivelock", None)
        if lock is not None and hasattr(lock, "__enter__"):
            gateway._receivelock = traffic.counting(lock)  # type: ignore[union-attr]  # execnet's gateway, found by duck typing
            return True
    return False


class Controller(Reporting):
    """Gathers the workers' results as their reports arrive."""

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Bad markers, found by the workers that collected them, end the run as they
        would a serial one: one ``ERROR:`` line each, on stderr, and pytest's usage-error
        status, with no report."""
        for message in self.usage_errors:
            print(f"ERROR: {message}", file=sys.stderr)
        if self.usage_errors:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        super().pytest_sessionfinish(session)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, RESULT_ATTRIBUTE, None)
        if isinstance(data, dict):
            try:
                self.results.append(TestResult.from_json(data))
            except (KeyError, TypeError, ValueError) as exc:
                self.warn(f"{report.nodeid}: a worker's result could not be read: {exc}")
        elif str(report.when) == "???":  # xdist's report for the test a dead worker ran
            worker = getattr(getattr(getattr(report, "node", None), "gateway", None), "id", "?")
            self.results.append(TestResult(report.nodeid, Verdict.ERROR, notes=[
                f"worker {worker} crashed while running this test; not checked"]))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        output = getattr(node, "workeroutput", None) or {}
        mine = output.get(OUTPUT_KEY) if isinstance(output, dict) else None
        if isinstance(mine, dict):
            self.notes += [str(n) for n in mine.get("notes", [])]
            self.suspects += int(mine.get("suspects", 0))
            self.usage_errors += [str(e) for e in mine.get("usage_errors", [])
                                  if str(e) not in self.usage_errors]
        if error:
            worker = getattr(getattr(node, "gateway", None), "id", "?")
            self.notes.append(f"worker {worker} went down ({error}); the results of the "
                              "tests it finished are kept")
