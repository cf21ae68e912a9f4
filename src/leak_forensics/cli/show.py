"""``leak-forensics show``: one snapshot's metadata, largest sites and types."""

from __future__ import annotations

import argparse

from ..snapshot.grouping import KEYS
from .common import EXIT_OK, add_grouping, emit, limit


class ShowCommand:
    """Print a snapshot's metadata, its largest allocation sites and its most numerous
    live object types."""

    name = "show"
    help = "summary, top allocation sites and types of one snapshot"

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("path", metavar="FILE")
        add_grouping(parser, KEYS)

    def run(self, args: argparse.Namespace) -> int:
        from ..reporters import snapshot_text
        from ..snapshot import diff, model

        snapshot = model.load(args.path)
        top = diff.statistics(snapshot, args.key, args.cumulative, args.include, args.exclude,
                              limit(args))
        types = diff.census_diff({}, snapshot.census or {})[: limit(args)]
        emit(snapshot_text.show_json(args.path, snapshot, top, types) if args.json
             else snapshot_text.show_text(args.path, snapshot, top, types))
        return EXIT_OK
