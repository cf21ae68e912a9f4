"""``leak-forensics history``: the runs recorded in a store, newest first."""

from __future__ import annotations

import argparse

from .common import EXIT_OK, emit, recorded_store, row_count


class HistoryCommand:
    """List the runs recorded in the history store, newest first: when, how they ended,
    how many tests leaked, and the commit and tags they ran with."""

    name = "history"
    help = "list the recorded runs, newest first"

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--history", metavar="URL",
                            help="the store: an SQLAlchemy URL (default: "
                                 "$LEAK_FORENSICS_HISTORY, else .leak-forensics/history.db "
                                 "here)")
        parser.add_argument("--limit", type=row_count, default=20, metavar="N",
                            help="runs to list (default 20; 0 for all)")
        parser.add_argument("--json", action="store_true",
                            help="a JSON list of runs, newest first, each with its id")

    def run(self, args: argparse.Namespace) -> int:
        from ..reporters.history_text import runs_table

        store = recorded_store(args.history)
        try:
            runs = store.runs(args.limit or None)
        finally:
            store.close()
        emit(_json_list([_jsonable(run) for run in runs]) if args.json
             else runs_table(store.where, runs))
        return EXIT_OK


def _json_list(runs: list[dict[str, object]]) -> str:
    import json

    return json.dumps(runs, indent=1)


def _jsonable(run: dict[str, object]) -> dict[str, object]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in run.items()}
