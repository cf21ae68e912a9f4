"""Command-line options and their ini twins, resolved into ``Settings``.

Every option can live in ``[tool.pytest.ini_options]``; a value on the command line wins.
Values are read as strings and parsed by ``settings`` so a bad one gives the same one-line
error wherever it came from.
"""

from __future__ import annotations

import pytest

from ..analysis import known_leaks
from ..cleanup.steps import STEPS
from ..errors import ConfigError
from ..settings import (
    Settings,
    parse_bool,
    parse_budget,
    parse_float,
    parse_int,
    parse_repeat,
    parse_steps,
)

_DEFAULTS = Settings()

# (option suffix, ini name, kind, default for the ini, help)
_OPTIONS: list[tuple[str, str, str, object, str]] = [
    ("", "leak_forensics", "flag", "false",
     "check every test for memory and thread leaks"),
    ("-json", "leak_forensics_json", "value", "",
     "write the leak report as JSON to this path"),
    ("-repeat", "leak_forensics_repeat", "value", str(_DEFAULTS.repeat),
     "W:N — warm-up runs (the test's own run counts) and measured runs for suspects "
     f"(default {_DEFAULTS.repeat})"),
    ("-fail", "leak_forensics_fail", "flag", "false",
     "make leaking tests fail (default: report only)"),
    ("-fail-library", "leak_forensics_fail_library", "flag", "false",
     "count leaks that lie wholly inside an installed library as leaks (default: listed "
     "apart as library leaks, with the package and version, never failing)"),
    ("-threshold", "leak_forensics_threshold", "value", str(_DEFAULTS.threshold),
     "minimum traced bytes retained per run for a leak verdict"),
    ("-frames", "leak_forensics_frames", "value", str(_DEFAULTS.frames),
     "tracemalloc frames kept per allocation when pinpointing"),
    ("-top", "leak_forensics_top", "value", str(_DEFAULTS.top),
     "allocation sites and types kept per leaking test"),
    ("-include", "leak_forensics_include", "list", [],
     "glob of files that count as code under test (repeatable)"),
    ("-exclude", "leak_forensics_exclude", "list", [],
     "glob of files that never count as code under test (repeatable)"),
    ("-all", "leak_forensics_all", "flag", "false",
     "repeat every test, not only those whose own run grew (slower, catches the smallest "
     "leaks)"),
    ("-budget", "leak_forensics_budget", "value", "none",
     "opt-in cap: share of the tests' own run time that re-running suspects may add; "
     "suspects over it read 'unconfirmed' and verdicts then depend on timing "
     "(default none: every suspect is confirmed)"),
    ("-save", "leak_forensics_save", "value", "",
     "directory to save each leaking test's snapshots in, before and after its traced runs "
     "(compare them with: leak-forensics diff BEFORE AFTER)"),
    ("-save-all", "leak_forensics_save_all", "flag", "false",
     "with --leak-forensics-save: trace and save every test's snapshots, not only leaking "
     "tests' (much slower: every test is repeated under tracemalloc)"),
    ("-cleanup-skip", "leak_forensics_cleanup_skip", "list", [],
     f"cleanup steps to switch off: {' '.join(STEPS)}; "
     "'stdlib-unsafe' switches on the state-resetting stdlib steps"),
    ("-owners", "leak_forensics_owners", "value", "true",
     "search who holds a leaking test's objects (one pass over the heap per leaking test; "
     "false to skip)"),
    ("-gc-debug", "leak_forensics_gc_debug", "flag", "false",
     "run every test once more, traced, to report what it left for the cyclic garbage "
     "collector (types, counts, allocation sites): information, not a leak (slower)"),
    ("-allow", "leak_forensics_allow", "list", [],
     "a leak the project accepts, KIND:GLOB with KIND site (file:line), type, root (owner "
     "chain) or resource (repeatable): reported apart as known, never failing"),
    ("-thread-timeout", "leak_forensics_thread_timeout", "value",
     str(_DEFAULTS.thread_timeout),
     "seconds to wait for threads a test started before calling them leaked"),
]


_METAVARS = {"leak_forensics_include": "GLOB", "leak_forensics_exclude": "GLOB",
             "leak_forensics_allow": "KIND:GLOB"}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("leak-forensics", "memory leak forensics")
    for suffix, ini, kind, default, help_text in _OPTIONS:
        flag = f"--leak-forensics{suffix}"
        if kind == "flag":
            group.addoption(flag, action="store_true", default=None, dest=ini, help=help_text)
        elif kind == "list":
            group.addoption(flag, action="append", default=None, dest=ini,
                            metavar=_METAVARS.get(ini, "STEP"), help=help_text)
        else:
            group.addoption(flag, action="store", default=None, dest=ini, help=help_text)
        if kind == "list":
            parser.addini(ini, help=help_text, type="linelist", default=default)
        else:
            parser.addini(ini, help=help_text, type="string", default=default)


def _value(config: pytest.Config, name: str) -> object:
    cli = config.getoption(name)
    return cli if cli is not None else config.getini(name)


def _strings(config: pytest.Config, name: str) -> list[str]:
    """A repeatable option's values, or its ini twin's lines."""
    value = _value(config, name)
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def enabled(config: pytest.Config) -> bool:
    return parse_bool("leak_forensics", _value(config, "leak_forensics"))


def resolve(config: pytest.Config) -> Settings:
    """Settings from the command line and ini; raises ``ConfigError`` on a bad value."""
    skip, opt_in = parse_steps(_strings(config, "leak_forensics_cleanup_skip"))
    json_path = str(_value(config, "leak_forensics_json") or "").strip() or None
    save_dir = str(_value(config, "leak_forensics_save") or "").strip() or None
    save_all = parse_bool("--leak-forensics-save-all", _value(config, "leak_forensics_save_all"))
    if save_all and save_dir is None:
        raise ConfigError("--leak-forensics-save-all needs --leak-forensics-save=DIR")
    return Settings(
        repeat=parse_repeat(str(_value(config, "leak_forensics_repeat"))),
        threshold=parse_int("--leak-forensics-threshold",
                            _value(config, "leak_forensics_threshold"), minimum=1),
        fail=parse_bool("--leak-forensics-fail", _value(config, "leak_forensics_fail")),
        fail_library=parse_bool("--leak-forensics-fail-library",
                                _value(config, "leak_forensics_fail_library")),
        frames=parse_int("--leak-forensics-frames",
                         _value(config, "leak_forensics_frames"), minimum=1),
        top=parse_int("--leak-forensics-top", _value(config, "leak_forensics_top"), minimum=1),
        include=tuple(_strings(config, "leak_forensics_include")),
        exclude=tuple(_strings(config, "leak_forensics_exclude")),
        skip_steps=skip,
        opt_in_steps=opt_in,
        thread_timeout=parse_float("--leak-forensics-thread-timeout",
                                   _value(config, "leak_forensics_thread_timeout")),
        json_path=json_path,
        screen_all=save_all or parse_bool("--leak-forensics-all",
                                          _value(config, "leak_forensics_all")),
        budget=parse_budget("--leak-forensics-budget", _value(config, "leak_forensics_budget")),
        save_dir=save_dir,
        save_all=save_all,
        owners=parse_bool("--leak-forensics-owners", _value(config, "leak_forensics_owners")),
        gc_debug=parse_bool("--leak-forensics-gc-debug",
                            _value(config, "leak_forensics_gc_debug")),
        allow=tuple(known_leaks.parse_rule(text)
                    for text in _strings(config, "leak_forensics_allow") if text.strip()),
    )


__all__ = ["ConfigError", "add_options", "enabled", "resolve"]
