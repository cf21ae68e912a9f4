"""The ``leak-forensics`` command line (also ``python -m leak_forensics``).

A thin front over the engine: one module per subcommand, each a ``Command`` that adds
its arguments and runs; the rules live in the engine (``snapshot``, ``reporters``). Bad
input is one line on stderr and exit status 2.

Exit status: 0 success; 1 when a ``--fail-*`` condition holds (for CI); 2 usage or bad
input.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..errors import BadInput
from .common import EXIT_BAD_INPUT, EXIT_OK
from .compare import CompareCommand
from .convert import ConvertCommand
from .diff import DiffCommand
from .history import HistoryCommand
from .html import HtmlCommand
from .report import ReportCommand
from .run import RunCommand
from .show import ShowCommand

TYPE_CHECKING = False  # typing is not imported at run time: every call of the command pays it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn, Protocol

    class Command(Protocol):
        """A subcommand; its class docstring is its description in ``--help``."""

        name: str
        help: str

        def prepare_parser(self, parser: argparse.ArgumentParser) -> None: ...

        def run(self, args: argparse.Namespace) -> int: ...


COMMANDS: tuple[Command, ...] = (ReportCommand(), DiffCommand(), ShowCommand(),
                                 ConvertCommand(), HistoryCommand(),
                                 CompareCommand(), RunCommand(), HtmlCommand())


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, as every other error here; the usage is in --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} "
                                  "--help)\n")


def parser(words: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given the command's words, only the subcommand they name gets
    its arguments (the others are listed by name: ``--help`` costs 9 ms less)."""
    chosen = None if words is None else next((w for w in words if not w.startswith("-")), "")
    top = _Parser(
        prog="leak-forensics",
        description="Read what pytest --leak-forensics found. Exit status: 0 success, "
                    "1 a --fail-* condition held, 2 usage error or bad input.")
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help,
                                  description=" ".join((type(command).__doc__ or "").split()))
        if chosen is None or chosen == command.name:
            command.prepare_parser(sub)
        sub.set_defaults(run=command.run)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # Words after "--" are pytest's (``run``), never this parser's.
    own = words[:words.index("--")] if "--" in words else words
    passed = words[len(own) + 1:]
    command = parser(own)
    args = command.parse_args(own)
    if passed and args.command != "run":
        command.error(f"only run passes arguments after -- on (to pytest); {args.command} "
                      "takes none")
    args.pytest_args = passed
    if getattr(args, "cumulative", False) and args.key == "traceback":
        command.error("--cumulative needs --key lineno or filename")
    try:
        return int(args.run(args))
    except BadInput as exc:
        print(f"leak-forensics: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. piped into head
        return EXIT_OK
    except OSError as exc:  # a file that cannot be read or written: the user's to fix
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"leak-forensics: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
