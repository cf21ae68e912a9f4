"""``leak-forensics compare``: what changed between two recorded runs, and CI alerts."""

from __future__ import annotations

import argparse

from .common import EXIT_FAILED, EXIT_OK, emit, recorded_store


def _run_id(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a run id (leak-forensics history "
                                         "lists them)")
    return int(text)


class CompareCommand:
    """Compare two runs recorded in the history: per test, the memory kept per run; for
    the whole run, peak RSS and RSS growth per test; and the leaks that are new and gone.
    With --fail, exit 1 when a condition holds (for CI)."""

    name = "compare"
    help = "compare two recorded runs (default: the one before the latest, and the latest)"

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("base_id", nargs="?", type=_run_id, metavar="BASE",
                            help="the earlier run's id (default: the run before the latest)")
        parser.add_argument("run_id", nargs="?", type=_run_id, metavar="RUN",
                            help="the later run's id (default: the latest)")
        parser.add_argument("--history", metavar="URL",
                            help="the store: an SQLAlchemy URL (default: "
                                 "$LEAK_FORENSICS_HISTORY, else .leak-forensics/history.db "
                                 "here)")
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")
        parser.add_argument("--fail", action="append", default=[], metavar="EXPR",
                            help="exit 1 when this holds: new_leaks:N, peak_rss:20%% or "
                                 ":200MB, growth_rate:10%% or :64KB, retained:1MB or :50%%; "
                                 "a KEY alone takes its default limit (repeatable)")

    def run(self, args: argparse.Namespace) -> int:
        from ..analysis.alerts import parse_alert
        from ..history.comparing import alerts, compare_stored, default_pair
        from ..reporters.compare_text import comparison_json, comparison_text

        rules = [parse_alert(text) for text in args.fail]
        store = recorded_store(args.history)
        try:
            if args.base_id is None:
                base_id, run_id = default_pair(store)
            elif args.run_id is None:  # with the latest, which BASE being there proves
                store.run(args.base_id)
                base_id, run_id = args.base_id, int(store.runs(1)[0]["id"])
            else:
                base_id, run_id = args.base_id, args.run_id
            comparison = compare_stored(store, base_id, run_id)
            base, run = store.run(base_id), store.run(run_id)
        finally:
            store.close()
        outcomes = alerts(rules, comparison)
        emit(comparison_json(comparison, outcomes) if args.json
             else comparison_text(comparison, base, run, outcomes))
        return EXIT_FAILED if any(o.holds for o in outcomes) else EXIT_OK
