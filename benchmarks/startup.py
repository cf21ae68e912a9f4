"""Start-up of the command line: ``leak-forensics --help`` and a ``diff`` of two small files.

The command runs once per call, so its cost is interpreter start plus imports plus the
work. Each command runs ``--rounds`` times in a fresh process, bytecode caches warm (one
untimed run first, with bytecode writing allowed), and the median wall time is compared
with the issue's bounds (``--help`` <= 50 ms, ``diff`` <= 80 ms on the reference 2-core
machine) and, as a ratio, with ``python -c pass`` measured in the same run, which is what
no command can go under. ``--help`` is also compared with the ``-h`` of an empty argparse
parser, the floor of any command line built on argparse (argparse imports ``re``,
``gettext`` and, to format help, ``shutil``): what is over it is this tool's own. The two
snapshot files (~27 thousand blocks each) are taken in a temporary directory.
Usage: ``python benchmarks/startup.py [--rounds 21]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

ARGPARSE_HELP = "import argparse; argparse.ArgumentParser(description='x').parse_args(['-h'])"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
MAKE_SNAPSHOTS = """
import sys, tracemalloc
tracemalloc.start(5)
import leak_forensics
leak_forensics.take_snapshot().save(sys.argv[1])
grown = [bytes(100) for _ in range(1000)]
leak_forensics.take_snapshot().save(sys.argv[2])
"""


def median_ms(command: list[str], rounds: int, cwd: Path) -> float:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV, cwd=cwd)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV, cwd=cwd)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    # The console script, as users run it (``python -m`` adds runpy's imports, ~8 ms).
    script = Path(sys.executable).parent / "leak-forensics"
    tool = [str(script)] if script.exists() else [sys.executable, "-m", "leak_forensics"]
    with tempfile.TemporaryDirectory() as where:
        here = Path(where)
        subprocess.run([sys.executable, "-c", MAKE_SNAPSHOTS, "old.lfsnap", "new.lfsnap"],
                       check=True, env=ENV, cwd=here)
        python = median_ms([sys.executable, "-c", "pass"], args.rounds, here)
        argparse_help = median_ms([sys.executable, "-c", ARGPARSE_HELP], args.rounds, here)
        rows = []
        met = True
        for label, command, bound in (
                ("leak-forensics --help", [*tool, "--help"], 50.0),
                ("leak-forensics diff (2 small files)", [*tool, "diff", "old.lfsnap",
                                                         "new.lfsnap"], 80.0),
                ("leak-forensics show (1 small file)", [*tool, "show", "new.lfsnap"], None)):
            ms = median_ms(command, args.rounds, here)
            ok = bound is None or ms <= bound
            met = met and ok
            rows.append((label, f"{ms:.1f}", f"{ms / python:.1f}x",
                         "-" if bound is None else f"{bound:.0f}",
                         "-" if bound is None else ("met" if ok else "NOT met")))
    print(f"median of {args.rounds} fresh processes; python -c pass: {python:.1f} ms; "
          f"-h of an empty argparse parser: {argparse_help:.1f} ms "
          f"(leak-forensics --help is {float(rows[0][1]) - argparse_help:+.1f} ms over it)")
    print(tabulate(rows, headers=["command", "ms", "vs python -c pass", "bound ms", ""],
                   disable_numparse=True))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
