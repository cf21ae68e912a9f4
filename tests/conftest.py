import json
from pathlib import Path

import pytest


@pytest.fixture
def run_forensics(pytester: pytest.Pytester):
    """Run pytest with leak forensics in a subprocess (tracemalloc is process-global)."""

    def run(*args: str, xdist: bool = False):
        """``xdist``: leave pytest-xdist loaded, for runs with ``-n``."""
        report = pytester.path / "leak-report.json"
        report.unlink(missing_ok=True)  # a run that writes none must not read the last one
        result = pytester.runpytest_subprocess(
            "--leak-forensics", f"--leak-forensics-json={report}", "-p", "no:cacheprovider",
            *(() if xdist else ("-p", "no:xdist")), *args)
        data = json.loads(report.read_text()) if report.exists() else None
        verdicts = {t["nodeid"].split("::")[-1]: t for t in data["tests"]} if data else {}
        return result, data, verdicts

    return run


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
