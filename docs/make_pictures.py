"""Draw the README's pictures from a real run of the bundled example: run it twice with
``leak-forensics run`` (the second time with one more leaking test), then save each kind of
picture the notebook API draws into docs/images/. Run ``make pictures`` after changing how
a picture looks; the PNGs are committed so that the README shows them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from leak_forensics.notebook import (
    load_history,
    load_report,
    plot_retained,
    plot_sites,
    plot_timeline,
    plot_trend,
    plot_types,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"
NEW_LEAK = """
_KEPT = []

def test_keeps_a_buffer_per_call():
    _KEPT.append(bytearray(64 * 1024))
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "demo"
        shutil.copytree(ROOT / "examples" / "demo", work,
                        ignore=shutil.ignore_patterns("*.json", "__pycache__", ".leak-forensics"))
        history = f"sqlite:///{scratch}/history.db"
        run = [sys.executable, "-m", "leak_forensics", "run", "--sample-interval", "0.1",
               "--history", history]
        subprocess.run(run, cwd=work, check=True, capture_output=True)
        # The bars come from the first run: the second run's 64 KiB leak would flatten them.
        report = load_report(work / ".leak-forensics" / "report.json")
        (work / "tests" / "test_new_leak.py").write_text(NEW_LEAK)
        subprocess.run(run, cwd=work, check=True, capture_output=True)
        leaking = set(load_report(work / ".leak-forensics" / "report.json").leaking())
        runs = load_history(history)
        last = int(runs.runs.id.max())
        OUT.mkdir(parents=True, exist_ok=True)
        figures = {
            "retained.png": plot_retained(report),
            "sites.png": plot_sites(report),
            "types.png": plot_types(report),
            "timeline.png": plot_timeline(runs.samples[runs.samples.run_id == last],
                                          leaking),
            "trend.png": plot_trend(runs),
        }
        for name, figure in figures.items():
            figure.savefig(OUT / name, dpi=80)
            print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
