import json
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from postgres import new_database, postgresql_server  # noqa: F401  # a fixture

# The runs the tests start are other projects' suites: they need neither this suite's
# PostgreSQL fixtures nor hypothesis's plugin, which would import psycopg and hypothesis
# in each of them (0.45 s a run; the test of property-based suites turns it back on).
OTHER_PLUGINS_OFF = "-p no:postgresql -p no:hypothesispytest"
os.environ["PYTEST_ADDOPTS"] = f"{os.environ.get('PYTEST_ADDOPTS', '')} {OTHER_PLUGINS_OFF}"


@pytest.fixture(params=["sqlite", "postgresql"])
def history_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty history store's URL: a SQLite file, or a fresh database on a real
    PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/history.db"
    return new_database(request.getfixturevalue("postgresql_server"))


@pytest.fixture
def run_forensics(pytester: pytest.Pytester):
    """Run pytest with leak forensics in a subprocess (tracemalloc is process-global)."""

    def run(*args: str, xdist: bool = False):
        """``xdist``: leave pytest-xdist loaded, for runs with ``-n``. The run history is
        off unless ``args`` turn it on (its own tests do): recording it imports
        SQLAlchemy, 0.45 s a run."""
        report = pytester.path / "leak-report.json"
        report.unlink(missing_ok=True)  # a run that writes none must not read the last one
        result = pytester.runpytest_subprocess(
            "--leak-forensics", f"--leak-forensics-json={report}", "-p", "no:cacheprovider",
            "--leak-forensics-history=off",
            *(() if xdist else ("-p", "no:xdist")), *args)
        data = json.loads(report.read_text()) if report.exists() else None
        verdicts = {t["nodeid"].split("::")[-1]: t for t in data["tests"]} if data else {}
        return result, data, verdicts

    return run


def kept_by_lines_of(filename: str, action: Callable[[], object]) -> list[str]:
    """What the lines of ``filename`` allocated or freed for good while ``action`` ran,
    traced: a process-wide counter would also see other threads (an xdist worker's
    receiving thread allocates whenever a message arrives)."""
    tracemalloc.start(1)
    try:
        before = tracemalloc.take_snapshot()
        action()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    mine = [tracemalloc.Filter(True, filename)]
    return [str(d) for d in after.filter_traces(mine).compare_to(before.filter_traces(mine),
                                                                 "lineno") if d.count_diff]


def user_sites(entry) -> list[str]:
    return [f"{Path(s['filename']).name}:{s['lineno']}" for s in entry["sites"]]


@pytest.fixture
def install_library(tmp_path_factory, monkeypatch):
    """Install a one-module package outside the rootdir, with its own dist-info, on the
    PYTHONPATH of the runs that follow: ``install_library("name", "1.0", source)``."""

    def install(name: str, version: str, source: str) -> None:
        site = tmp_path_factory.mktemp("site")
        (site / name).mkdir()
        (site / name / "__init__.py").write_text(source)
        info = site / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "top_level.txt").write_text(f"{name}\n")
        monkeypatch.setenv("PYTHONPATH", str(site))

    return install
