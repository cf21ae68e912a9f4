"""``leak-forensics html``: the report as one self-contained page, for a CI artifact."""

from __future__ import annotations

import argparse


class HtmlCommand:
    """Write a saved JSON report as one HTML file that opens offline (styles and pictures
    inline, no script): the leaking tests with their sites, types, owner chains and
    resources, the known leaks apart, and, given their data, the run's memory timeline
    and the memory trend across the recorded runs."""

    name = "html"
    help = "write a saved JSON report as a self-contained HTML page"

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("path", metavar="REPORT.json")
        parser.add_argument("-o", "--output", metavar="HTML", default="leak-report.html",
                            help="the page to write (default: leak-report.html)")
        parser.add_argument("--timeline", metavar="SAMPLES.csv",
                            help="draw the run's memory over time from the samples "
                                 "leak-forensics run wrote (--samples)")
        parser.add_argument("--history", metavar="URL",
                            help="draw the trend across the runs of this store (an "
                                 "SQLAlchemy URL)")

    def run(self, args: argparse.Namespace) -> int:
        from ..files import write_atomically
        from ..reporters.html_page import page
        from ..reporters.json_report import read
        from ..reporters.run_memory_text import read_samples_csv
        from .common import EXIT_OK, recorded_runs

        saved = read(args.path)
        samples = read_samples_csv(args.timeline) if args.timeline else None
        runs = recorded_runs(args.history) if args.history is not None else None
        text = page(saved.results, saved.notes, saved.suspects, args.path, samples, runs)
        write_atomically(args.output, text.encode("utf-8"))
        print(f"leak-forensics: wrote {args.output}")
        return EXIT_OK
