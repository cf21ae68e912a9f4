"""``leak-forensics convert``: import a tracemalloc ``Snapshot.dump()`` pickle."""

from __future__ import annotations

import argparse
import os


class ConvertCommand:
    """Convert a pickle written by tracemalloc's Snapshot.dump() into a snapshot file.
    Loading a pickle runs any code it contains, so this is refused unless you pass
    --trust-pickle; diff and show never unpickle."""

    name = "convert"
    help = "import a tracemalloc Snapshot.dump() pickle"

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("source", metavar="IN.pickle")
        parser.add_argument("target", metavar="OUT")
        parser.add_argument("--trust-pickle", action="store_true",
                            help="I know where this file came from; let it be unpickled")
        parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")

    def run(self, args: argparse.Namespace) -> int:
        from ..errors import BadInput
        from ..snapshot.convert import from_pickle
        from ..units import size_text
        from .common import EXIT_OK

        if os.path.exists(args.target) and not args.force:
            raise BadInput(f"{args.target} exists; choose another name or add --force")
        converted = from_pickle(args.source, trust=args.trust_pickle)
        converted.save(args.target)
        print(f"{args.target}: {converted.total_count:,} blocks, "
              f"{size_text(converted.total_size)} (no census: a tracemalloc "
              "snapshot has none)")
        return EXIT_OK
