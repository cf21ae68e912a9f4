"""The ``leak-forensics`` command line (also ``python -m leak_forensics``).

A thin front over the core: each subcommand reads files, calls the same functions the
pytest plugin uses, and prints. Bad input is one line on stderr and exit status 2.

Exit status: 0 success; 1 when a ``--fail-*`` condition holds (for CI); 2 usage or bad
input.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence

from . import __version__, report_json, report_terminal
from .results import LEAK

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class _PlainWriter:
    """What ``report_terminal`` writes to, for a terminal that isn't pytest's."""

    def __init__(self) -> None:
        self.width = min(shutil.get_terminal_size((80, 24)).columns, 120)

    def write_sep(self, sep: str, title: str, **markup: bool) -> None:
        side = max((self.width - len(title) - 2) // (2 * len(sep)), 1)
        print(f"{sep * side} {title} {sep * side}")

    def write_line(self, line: str, **markup: bool) -> None:
        print(line)


def _report(args: argparse.Namespace) -> int:
    saved = report_json.read(args.path)
    report_terminal.write_summary(_PlainWriter(), saved.results, saved.notes, saved.suspects)
    if args.fail_on_leak and any(r.verdict == LEAK for r in saved.results):
        return EXIT_FAILED
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="leak-forensics",
        description="Read what pytest --leak-forensics found. Exit status: 0 success, "
                    "1 a --fail-* condition held, 2 usage error or bad input.")
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = commands.add_parser(
        "report", help="show a saved JSON report (--leak-forensics-json) as the terminal "
                       "summary",
        description="Render a JSON report written by pytest --leak-forensics-json as the "
                    "terminal summary pytest printed.")
    report.add_argument("path", metavar="REPORT.json")
    report.add_argument("--fail-on-leak", action="store_true",
                        help="exit with status 1 if any test leaks")
    report.set_defaults(func=_report)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)  # argparse itself exits with 2 on usage errors
    try:
        return int(args.func(args))
    except report_json.ReportError as exc:
        print(f"leak-forensics: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. piped into head
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
