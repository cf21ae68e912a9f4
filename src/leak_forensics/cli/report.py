"""``leak-forensics report``: the summary pytest printed, from a saved JSON report."""

from __future__ import annotations

import argparse


class ReportCommand:
    """Render a JSON report written by pytest --leak-forensics-json as the terminal
    summary pytest printed."""

    name = "report"
    help = "show a saved JSON report (--leak-forensics-json) as the terminal summary"

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("path", metavar="REPORT.json")
        parser.add_argument("--fail-on-leak", action="store_true",
                            help="exit with status 1 if any test leaks")

    def run(self, args: argparse.Namespace) -> int:
        import shutil

        from ..reporters.json_report import read
        from ..reporters.run import Run, render_report
        from ..reporters.terminal import TerminalReporter
        from ..results import Verdict
        from .common import EXIT_FAILED, EXIT_OK

        saved = read(args.path)
        width = min(shutil.get_terminal_size((80, 24)).columns, 120)
        render_report(TerminalReporter(width), Run(saved.results, saved.notes, saved.suspects),
                      "-")
        if args.fail_on_leak and any(r.verdict == Verdict.LEAK for r in saved.results):
            return EXIT_FAILED
        return EXIT_OK
