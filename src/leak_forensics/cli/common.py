"""What the subcommands share: exit codes, argument types and output."""

from __future__ import annotations

import argparse
import sys

from ..errors import BadInput
from ..units import parse_size

TYPE_CHECKING = False  # typing and pathlib are not imported at run time: every call pays them
if TYPE_CHECKING:
    from typing import Any

    from ..history.store import HistoryStore

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def byte_count(text: str) -> int:
    """An argparse type for sizes (``units.parse_size``)."""
    try:
        return parse_size(text)
    except BadInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def row_count(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a row count (0 or more)")
    return int(text)


def limit(args: argparse.Namespace) -> int | None:
    return None if args.limit == 0 else int(args.limit)


def emit(document: dict[str, object] | str) -> None:
    if isinstance(document, str):
        print(document)
    else:
        import json  # not at start-up: only --json output needs it

        json.dump(document, sys.stdout, indent=1)
        print()


def add_grouping(command: argparse.ArgumentParser, keys: tuple[str, ...]) -> None:
    """The options ``diff`` and ``show`` share: how blocks are grouped and filtered."""
    command.add_argument("--key", choices=keys, default="lineno",
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
    command.add_argument("--limit", type=row_count, default=10, metavar="N",
                         help="rows per table (default 10; 0 for all)")
    command.add_argument("--json", action="store_true", help="print JSON instead of tables")


def recorded_store(option: str | None) -> HistoryStore:
    """The store the reading commands look in: the one pytest and ``run`` write to from
    here, so that ``history`` and ``compare`` work without an option; never created."""
    from pathlib import Path

    from ..history.location import resolve_url
    from ..history.store import HistoryError, HistoryStore

    url = resolve_url(option, Path.cwd())
    if url is None:
        raise HistoryError("the history is switched off ('off'); name a store with "
                           "--history URL")
    return HistoryStore(url, create=False)


def recorded_runs(option: str | None) -> list[dict[str, Any]]:
    """Every run of the store ``recorded_store`` opens for ``option``, newest first."""
    store = recorded_store(option)
    try:
        return store.runs()
    finally:
        store.close()
