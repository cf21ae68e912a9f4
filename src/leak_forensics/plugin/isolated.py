"""``@pytest.mark.isolated(timeout=None)``: the test runs in a fresh interpreter, and its
reports come back as if it had run in place.

For tests that make many resources or much memory: what the child allocates never
touches the parent's heap. The child is a new ``python -m pytest`` for the one node id
(spawned, not forked, so it behaves the same on every platform and inherits no state),
with the same rootdir and ini file; its fixtures set up there. It hands its reports back
through pytest's own serialisation hooks (as pytest-xdist does), in a file named by an
environment variable that also tells its plugin not to isolate the test again. Under
``--leak-forensics`` the child checks the test with the same rules and its verdict joins
the parent's report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..errors import ConfigError
from ..units import size_text
from . import options

if TYPE_CHECKING:
    from ..results import TestResult

MARKER = "isolated"
#: Set in the child: where it writes its reports.
CHILD_ENV = "LEAK_FORENSICS_ISOLATED_REPORTS"
CHILD_PLUGIN = "leak_forensics_isolated_child"


def marker_timeout(marker: pytest.Mark) -> float | None:
    """The marker's ``timeout`` (seconds), or a one-line ``ConfigError``."""
    if marker.args or set(marker.kwargs) - {"timeout"}:
        raise ConfigError("isolated marker takes one keyword argument, timeout (seconds)")
    timeout = marker.kwargs.get("timeout")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"isolated(timeout=...) must be a positive number of seconds, "
                          f"got {timeout!r}")
    return float(timeout)


def is_isolated(item: pytest.Item) -> bool:
    """Whether this process runs the test in a child (not: is itself that child)."""
    return (item.get_closest_marker(MARKER) is not None
            and not item.config.pluginmanager.has_plugin(CHILD_PLUGIN))


# Hooks of the parent: this module is registered as a plugin of its own
# (``configure``), beside the plugin module's hooks of the same names.

@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems = []
    for item in items:
        marker = item.get_closest_marker(MARKER)
        if marker is not None:
            try:
                marker_timeout(marker)
            except ConfigError as exc:
                problems.append(f"leak-forensics: {item.nodeid}: {exc}")
    if problems and not hasattr(config, "workerinput"):
        raise pytest.UsageError(*problems)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    if not is_isolated(item):
        return None
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    try:
        timeout = marker_timeout(item.get_closest_marker(MARKER))  # type: ignore[arg-type]  # is_isolated
    except ConfigError as exc:  # in an xdist worker: the test errors with the one line
        reports = [_failed(item, "setup", f"leak-forensics: {exc}")]
        result = None
    else:
        reports, result = _run_in_child(item, timeout)
    session = item.config.pluginmanager.get_plugin("leak_forensics_session")
    if session is not None and hasattr(session, "adopt"):
        session.adopt(item, reports, result)
    for report in reports:
        ihook.pytest_runtest_logreport(report=report)
    # What the parent set up for the items before (a module's fixtures) and the next
    # one does not need ends here, as pytest's own protocol would end it.
    item.session._setupstate.teardown_exact(nextitem)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _child_args(config: pytest.Config, nodeid: str, directory: Path) -> list[str]:
    args = [sys.executable, "-m", "pytest", nodeid, "-p", "no:cacheprovider",
            "-p", "no:xdist", "--rootdir", str(config.rootpath), "-q"]
    if config.inipath is not None:
        args += ["-c", str(config.inipath)]
    if options.enabled(config):
        args += ["--leak-forensics", f"--leak-forensics-json={directory / 'leaks.json'}",
                 "--leak-forensics-history=off"]
    return args


def _run_in_child(item: pytest.Item, timeout: float | None
                  ) -> tuple[list[pytest.TestReport], TestResult | None]:
    config = item.config
    with tempfile.TemporaryDirectory(prefix="leak-forensics-isolated-") as name:
        directory = Path(name)
        out = directory / "reports.json"
        env = {**os.environ, CHILD_ENV: str(out)}
        try:
            done = subprocess.run(_child_args(config, item.nodeid, directory),
                                  cwd=config.invocation_params.dir, env=env,
                                  stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as expired:
            return [_failed(item, "call", f"isolated: the test's process did not finish "
                            f"within {timeout:g} s and was killed",
                            _text(expired.stdout))], None
        data = _read(out)
        reports = [config.hook.pytest_report_from_serializable(config=config, data=r)
                   for r in data.get("reports", [])]
        if not any(r.when == "call" or r.failed or r.skipped for r in reports):
            status = (f"signal {-done.returncode}" if done.returncode < 0
                      else f"status {done.returncode}")
            return [_failed(item, "call", f"isolated: the test's process exited with "
                            f"{status} before the test finished",
                            _text(done.stdout) + _text(done.stderr))], None
        peak = data.get("peak_rss")
        if isinstance(peak, int):
            # On the call's report, whose sections a summary shows (setup's, if it
            # never got that far).
            shown = next((r for r in reports if r.when == "call"), reports[-1])
            shown.sections.append(("isolated", f"peak RSS of the test's process: "
                                   f"{size_text(peak)}"))
            shown.user_properties.append(("isolated_peak_rss", peak))
        return reports, _verdict(directory / "leaks.json")


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _verdict(path: Path) -> TestResult | None:
    from ..results import TestResult  # every pytest run imports this module; few isolate

    tests = _read(path).get("tests")
    if not isinstance(tests, list) or len(tests) != 1:
        return None
    try:
        return TestResult.from_json(tests[0])
    except (KeyError, TypeError, ValueError):
        return None


def _text(output: bytes | str | None) -> str:
    if output is None:
        return ""
    return output.decode(errors="replace") if isinstance(output, bytes) else output


def _failed(item: pytest.Item, when: str, message: str, output: str = ""
            ) -> pytest.TestReport:
    sections = [("Captured output of the isolated process", output)] if output else []
    return pytest.TestReport(item.nodeid, item.location, {}, "failed", message,
                             when, sections)  # type: ignore[arg-type]  # a plain keyword dict


# -- in the child ------------------------------------------------------------------------

class ChildReports:
    """Registered in the child: keeps the one test's reports and writes them at the end."""

    def __init__(self, config: pytest.Config, path: str) -> None:
        self.config = config
        self.path = path
        self.reports: list[object] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.append(self.config.hook.pytest_report_to_serializable(
            config=self.config, report=report))

    def pytest_sessionfinish(self) -> None:
        from ..measure import meter

        Path(self.path).write_text(json.dumps({"reports": self.reports,
                                               "peak_rss": meter.peak_rss()}))


def configure(config: pytest.Config) -> None:
    path = os.environ.get(CHILD_ENV)
    if path is not None:
        # The child's own children (a test that runs pytest) are not isolated children.
        del os.environ[CHILD_ENV]
        config.pluginmanager.register(ChildReports(config, path), CHILD_PLUGIN)
    else:
        config.pluginmanager.register(sys.modules[__name__], "leak_forensics_isolated")
