"""``leak-forensics diff``: what grew between two snapshots."""

from __future__ import annotations

import argparse
import sys

from ..snapshot.grouping import KEYS
from .common import EXIT_FAILED, EXIT_OK, add_grouping, byte_count, emit, limit


class DiffCommand:
    """Compare two snapshot files (saved by --leak-forensics-save or
    leak_forensics.take_snapshot().save()): allocation sites ranked by growth, as
    tracemalloc's Snapshot.compare_to ranks them, and the change in live objects by type
    when both carry a census."""

    name = "diff"
    help = "what grew between two snapshots"

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("old", metavar="OLD")
        parser.add_argument("new", metavar="NEW")
        add_grouping(parser, KEYS)
        parser.add_argument("--fail-over", type=byte_count, metavar="SIZE",
                            help="exit with status 1 if traced memory grew by more than this "
                                 "(e.g. 1048576, 512K, 10 MB; every unit binary)")

    def run(self, args: argparse.Namespace) -> int:
        from ..reporters import snapshot_text
        from ..snapshot import diff, model

        old, new = model.load(args.old), model.load(args.new)
        result = diff.diff(old, new, args.key, args.cumulative, args.include, args.exclude,
                           limit(args))
        emit(snapshot_text.diff_json(result, (args.old, old), (args.new, new)) if args.json
             else snapshot_text.diff_text(result, snapshot_text.origin(args.old, old),
                                          snapshot_text.origin(args.new, new)))
        if args.fail_over is not None and result.size_diff > args.fail_over:
            from ..units import size_text

            print(f"leak-forensics: traced memory grew by {size_text(result.size_diff)}, "
                  f"over --fail-over {size_text(args.fail_over)}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK
