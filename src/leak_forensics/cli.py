"""The ``leak-forensics`` command line (also ``python -m leak_forensics``).

A thin front over the core: each subcommand reads files, calls the same functions the
pytest plugin uses, and prints. Bad input is one line on stderr and exit status 2.

Exit status: 0 success; 1 when a ``--fail-*`` condition holds (for CI); 2 usage or bad
input.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence

from . import __version__, snapshot_diff, snapshot_file, snapshot_text
from .errors import BadInput
from .units import size_text

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
    from . import report_json, report_terminal
    from .results import LEAK
    saved = report_json.read(args.path)
    report_terminal.write_summary(_PlainWriter(), saved.results, saved.notes, saved.suspects)
    if args.fail_on_leak and any(r.verdict == LEAK for r in saved.results):
        return EXIT_FAILED
    return EXIT_OK


_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MIB": 1 << 20,
          "G": 1 << 30, "GIB": 1 << 30}


def byte_count(text: str) -> int:
    """``4096``, ``512K``/``512KiB``, ``10M``/``10MiB``, ``1.5G``: binary units only, so
    "KB" (1000 or 1024?) is refused rather than guessed."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    unit = found and _UNITS.get(found.group(2).upper())
    if not found or unit is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size (bytes, or a number with K, M, G / KiB, MiB, GiB)")
    return int(float(found.group(1)) * unit)


def _row_count(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a row count (0 or more)")
    return int(text)


def _limit(args: argparse.Namespace) -> int | None:
    return None if args.limit == 0 else args.limit


def _emit(document: dict[str, object] | str) -> None:
    if isinstance(document, str):
        print(document)
    else:
        json.dump(document, sys.stdout, indent=1)
        print()


def _diff(args: argparse.Namespace) -> int:
    old, new = snapshot_file.load(args.old), snapshot_file.load(args.new)
    result = snapshot_diff.diff(old, new, args.key, args.cumulative, args.include,
                                args.exclude, _limit(args))
    _emit(snapshot_text.diff_json(result, (args.old, old), (args.new, new)) if args.json
          else snapshot_text.diff_text(result, snapshot_text.origin(args.old, old),
                                       snapshot_text.origin(args.new, new)))
    if args.fail_over is not None and result.size_diff > args.fail_over:
        print(f"leak-forensics: traced memory grew by {result.size_diff} bytes, over "
              f"--fail-over {args.fail_over}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    snapshot = snapshot_file.load(args.path)
    top = snapshot_diff.statistics(snapshot, args.key, args.cumulative, args.include,
                                   args.exclude, _limit(args))
    types = snapshot_diff.census_diff({}, snapshot.census or {})[: _limit(args)]
    _emit(snapshot_text.show_json(args.path, snapshot, top, types) if args.json
          else snapshot_text.show_text(args.path, snapshot, top, types))
    return EXIT_OK


def _convert(args: argparse.Namespace) -> int:
    import pickle
    import tracemalloc

    from .snapshot import Snapshot
    try:
        with open(args.source, "rb") as handle:
            start = handle.read(len(snapshot_file.MAGIC))
    except OSError as exc:
        raise BadInput(f"{args.source}: cannot read: {exc.strerror or exc}") from None
    if start == snapshot_file.MAGIC:
        raise BadInput(f"{args.source} is already a leak-forensics snapshot")
    if not args.trust_pickle:
        raise BadInput(f"{args.source}: refusing to read a pickle, because loading one runs "
                        "any code it contains; if you trust where it came from, add "
                        "--trust-pickle")
    if os.path.exists(args.target) and not args.force:
        raise BadInput(f"{args.target} exists; choose another name or add --force")
    try:
        with open(args.source, "rb") as handle:
            loaded = pickle.load(handle)
    except Exception as exc:  # a pickle can fail in any way at all
        raise BadInput(f"{args.source}: not a readable pickle ({type(exc).__name__}: "
                        f"{exc})") from None
    if not isinstance(loaded, tracemalloc.Snapshot):
        raise BadInput(f"{args.source}: holds a {type(loaded).__name__}, not a tracemalloc "
                        "snapshot (Snapshot.dump)")
    created = time.strftime("%Y-%m-%dT%H:%M:%S%z",
                            time.localtime(os.stat(args.source).st_mtime))
    try:
        converted = Snapshot.from_tracemalloc(
            loaded, meta={"created": created, "converted_from": os.path.basename(args.source)})
    except (ValueError, TypeError, IndexError) as exc:
        raise BadInput(f"{args.source}: malformed tracemalloc snapshot ({exc})") from None
    converted.save(args.target)
    print(f"{args.target}: {converted.total_count:,} blocks, "
          f"{size_text(converted.total_size)} (no census: a tracemalloc "
          "snapshot has none)")
    return EXIT_OK


def _add_grouping(command: argparse.ArgumentParser) -> None:
    command.add_argument("--key", choices=snapshot_diff.KEYS, default="lineno",
                         help="group blocks by the line, the file or the whole traceback "
                              "that allocated them (default: lineno)")
    command.add_argument("--cumulative", action="store_true",
                         help="count each block for every frame of its traceback, not only "
                              "the most recent (lineno and filename keys)")
    command.add_argument("--include", action="append", default=[], metavar="PATTERN",
                         help="keep only blocks whose most recent frame's file matches this "
                              "glob (repeatable)")
    command.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                         help="drop blocks whose most recent frame's file matches this glob "
                              "(repeatable)")
    command.add_argument("--limit", type=_row_count, default=10, metavar="N",
                         help="rows per table (default 10; 0 for all)")
    command.add_argument("--json", action="store_true", help="print JSON instead of tables")


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

    diff = commands.add_parser(
        "diff", help="what grew between two snapshots",
        description="Compare two snapshot files (saved by --leak-forensics-save or "
                    "leak_forensics.take_snapshot().save()): allocation sites ranked by "
                    "growth, as tracemalloc's Snapshot.compare_to ranks them, and the "
                    "change in live objects by type when both carry a census.")
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    _add_grouping(diff)
    diff.add_argument("--fail-over", type=byte_count, metavar="BYTES",
                      help="exit with status 1 if traced memory grew by more than this "
                           "(e.g. 1048576, 512K, 10M)")
    diff.set_defaults(func=_diff)

    show = commands.add_parser(
        "show", help="summary, top allocation sites and types of one snapshot",
        description="Print a snapshot's metadata, its largest allocation sites and its most "
                    "numerous live object types.")
    show.add_argument("path", metavar="FILE")
    _add_grouping(show)
    show.set_defaults(func=_show)

    convert = commands.add_parser(
        "convert", help="import a tracemalloc Snapshot.dump() pickle",
        description="Convert a pickle written by tracemalloc's Snapshot.dump() into a "
                    "snapshot file. Loading a pickle runs any code it contains, so this is "
                    "refused unless you pass --trust-pickle; diff and show never unpickle.")
    convert.add_argument("source", metavar="IN.pickle")
    convert.add_argument("target", metavar="OUT")
    convert.add_argument("--trust-pickle", action="store_true",
                         help="I know where this file came from; let it be unpickled")
    convert.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    convert.set_defaults(func=_convert)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    command = parser()
    args = command.parse_args(argv)  # argparse itself exits with 2 on usage errors
    if getattr(args, "cumulative", False) and args.key == "traceback":
        command.error("--cumulative needs --key lineno or filename")
    try:
        return int(args.func(args))
    except BadInput as exc:
        print(f"leak-forensics: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. piped into head
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
