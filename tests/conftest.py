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
