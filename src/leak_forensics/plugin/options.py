"""Command-line options and their ini twins, resolved into ``Settings``.

Every option can live in ``[tool.pytest.ini_options]``; a value on the command line wins.
Values are read as strings and parsed by ``settings`` so a bad one gives the same one-line
error wherever it came from.
"""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from ..cleanup.steps import STEPS
from ..errors import BadInput, ConfigError
from ..history.location import resolve_url
from ..settings import (
    Settings,
    parse_bool,
    parse_budget,
    parse_float,
    parse_int,
    parse_repeat,
    parse_size_setting,
    parse_steps,
    parse_tag,
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
     "least memory a test must keep per run to be a leak: traced bytes at the sites that "
     "grew on every run (a size: 512, 10K, 1 MB; default 1). Below it the test is clean, "
     "with a note; leaked threads, files and other resources count whatever their size"),
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
    ("-owners", "leak_forensics_owners", "on", "true",
     "skip the search for who holds a leaking test's objects (one pass over the heap per "
     "leaking test)"),
    ("-gc-debug", "leak_forensics_gc_debug", "flag", "false",
     "run every test once more, traced, to report what it left for the cyclic garbage "
     "collector (types, counts, allocation sites): information, not a leak (slower)"),
    ("-allow", "leak_forensics_allow", "list", [],
     "a leak the project accepts, KIND:GLOB with KIND site (file:line), type, root (owner "
     "chain) or resource (repeatable): reported apart as known, never failing"),
    ("-history", "leak_forensics_history", "value", "",
     "record this run in a history store: an SQLAlchemy URL, or 'off' (default: "
     "$LEAK_FORENSICS_HISTORY, else sqlite:///.leak-forensics/history.db under the rootdir)"),
    ("-tag", "leak_forensics_tag", "list", [],
     "key=value label for this run in the history (repeatable)"),
    ("-compare", "leak_forensics_compare", "optional", "",
     "compare this run with a recorded one at the end: a run id, or none for the latest "
     "earlier run on the same branch (else the latest)"),
    ("-compare-fail", "leak_forensics_compare_fail", "list", [],
     "fail the run (exit status 6) when this holds against the compared run: new_leaks:N, "
     "peak_rss:20% or :200MB, growth_rate:10% or :64KB, retained:1MB or :50%; a KEY alone "
     "takes its default limit (repeatable; implies --leak-forensics-compare)"),
    ("-thread-timeout", "leak_forensics_thread_timeout", "value",
     str(_DEFAULTS.thread_timeout),
     "seconds to wait for threads a test started before calling them leaked"),
]


_METAVARS = {"leak_forensics_include": "GLOB", "leak_forensics_exclude": "GLOB",
             "leak_forensics_allow": "KIND:GLOB", "leak_forensics_cleanup_skip": "STEP",
             "leak_forensics_json": "PATH", "leak_forensics_repeat": "W:N",
             "leak_forensics_threshold": "SIZE", "leak_forensics_frames": "N",
             "leak_forensics_top": "N", "leak_forensics_budget": "SHARE",
             "leak_forensics_save": "DIR", "leak_forensics_thread_timeout": "SECONDS",
             "leak_forensics_history": "URL|off", "leak_forensics_tag": "KEY=VALUE",
             "leak_forensics_compare": "RUN", "leak_forensics_compare_fail": "EXPR"}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("leak-forensics", "memory leak forensics")
    group.addoption("--no-leak-forensics", action="store_true", default=False,
                    dest="no_leak_forensics",
                    help="switch the checks off, over the ini setting and any other "
                         "--leak-forensics-* option")
    for suffix, ini, kind, default, ini_help in _OPTIONS:
        flag = f"--leak-forensics{suffix}"
        help_text = ini_help.replace("%", "%%")  # argparse %-formats option help, not ini help
        if kind == "flag":
            group.addoption(flag, action="store_true", default=None, dest=ini, help=help_text)
        elif kind == "on":  # on by default: the flag switches it off
            group.addoption(f"--no-leak-forensics{suffix}", action="store_false", default=None,
                            dest=ini, help=help_text)
            # The spelling of 0.1 (--leak-forensics-owners=false), for one more release.
            group.addoption(flag, action="store", default=None, dest=ini + _OLD,
                            help=argparse.SUPPRESS)
        elif kind == "list":
            group.addoption(flag, action="append", default=None, dest=ini,
                            metavar=_METAVARS[ini], help=help_text)
        elif kind == "optional":  # the flag alone means "yes, with the default"
            group.addoption(flag, action="store", nargs="?", const="latest", default=None,
                            dest=ini, metavar=_METAVARS[ini], help=help_text)
        else:
            group.addoption(flag, action="store", default=None, dest=ini,
                            metavar=_METAVARS[ini], help=help_text)
        if kind == "list":
            parser.addini(ini, help=ini_help, type="linelist", default=default)
        elif kind in ("flag", "on"):
            parser.addini(ini, help=ini_help.replace("skip the", "the"), type="bool",
                          default=default == "true")
        else:
            parser.addini(ini, help=ini_help, type="string", default=default)


#: The suffix of the dest of an option's old spelling.
_OLD = "_old_spelling"


def _value(config: pytest.Config, name: str) -> object:
    cli = config.getoption(name)
    if cli is not None:
        return cli
    try:
        return config.getini(name)
    except (ValueError, pytest.UsageError):  # a bool ini key that is not one: pytest's
        # message ("invalid truth value 'maybe'") does not say which key
        raise ConfigError(f"{_label(config, name)} must be true or false") from None


def _strings(config: pytest.Config, name: str) -> list[str]:
    """A repeatable option's values, or its ini twin's lines."""
    value = _value(config, name)
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def enabled(config: pytest.Config) -> bool:
    """On with ``--leak-forensics``, with any other ``--leak-forensics-*`` option given on
    the command line (asking for a JSON report or for leaks to fail is asking for the
    checks: ignoring it silently would leave CI without the file it relies on), or with
    the ini's ``leak_forensics = true``; off with ``--no-leak-forensics`` whatever else
    says. Other ini settings alone do not switch it on: they configure it for the runs
    that ask."""
    if config.getoption("no_leak_forensics"):
        return False
    if any(config.getoption(ini) is not None for _, ini, *_ in _OPTIONS):
        return True
    if config.getoption("leak_forensics_owners" + _OLD) is not None:
        return True
    return parse_bool(_label(config, "leak_forensics"), _value(config, "leak_forensics"))


def _label(config: pytest.Config, ini: str) -> str:
    """Where a value came from, as the user wrote it: the flag, or the ini key and file."""
    if config.getoption(ini) is not None:
        return "--" + ini.replace("_", "-")
    where = config.inipath.name if config.inipath is not None else "the ini file"
    return f"{ini} in {where}"


def _owners(config: pytest.Config) -> bool:
    old = config.getoption("leak_forensics_owners" + _OLD)
    if old is None:
        return parse_bool(_label(config, "leak_forensics_owners"),
                          _value(config, "leak_forensics_owners"))
    config.issue_config_time_warning(pytest.PytestDeprecationWarning(
        "--leak-forensics-owners=VALUE is deprecated: use --no-leak-forensics-owners to skip "
        "the owner search (it is on by default)"), stacklevel=2)
    return parse_bool("--leak-forensics-owners", old)


def resolve(config: pytest.Config) -> Settings:
    """Settings from the command line and ini; raises ``ConfigError`` on a bad value,
    naming the flag or the ini key it came from."""
    # Here, not at the top: every pytest run imports this module, few turn the checks on.
    from ..analysis.known_leaks import parse_rule

    def read(ini: str) -> tuple[str, object]:
        return _label(config, ini), _value(config, ini)

    def flag(ini: str) -> bool:
        return parse_bool(*read(ini))

    skip, opt_in = parse_steps(_strings(config, "leak_forensics_cleanup_skip"))
    json_path = str(_value(config, "leak_forensics_json") or "").strip() or None
    save_dir = str(_value(config, "leak_forensics_save") or "").strip() or None
    save_all = flag("leak_forensics_save_all")
    if save_all and save_dir is None:
        raise ConfigError("--leak-forensics-save-all needs --leak-forensics-save=DIR")
    repeat_label, repeat = read("leak_forensics_repeat")
    try:
        parsed_repeat = parse_repeat(str(repeat))
    except ConfigError as exc:
        raise ConfigError(f"{repeat_label}: {exc}") from None
    return Settings(
        repeat=parsed_repeat,
        threshold=parse_size_setting(*read("leak_forensics_threshold")),
        fail=flag("leak_forensics_fail"),
        fail_library=flag("leak_forensics_fail_library"),
        frames=parse_int(*read("leak_forensics_frames"), minimum=1),
        top=parse_int(*read("leak_forensics_top"), minimum=1),
        include=tuple(_strings(config, "leak_forensics_include")),
        exclude=tuple(_strings(config, "leak_forensics_exclude")),
        skip_steps=skip,
        opt_in_steps=opt_in,
        thread_timeout=parse_float(*read("leak_forensics_thread_timeout")),
        json_path=json_path,
        screen_all=save_all or flag("leak_forensics_all"),
        budget=parse_budget(*read("leak_forensics_budget")),
        save_dir=save_dir,
        save_all=save_all,
        owners=_owners(config),
        gc_debug=flag("leak_forensics_gc_debug"),
        allow=tuple(parse_rule(text)
                    for text in _strings(config, "leak_forensics_allow") if text.strip()),
        history=resolve_url(str(_value(config, "leak_forensics_history") or ""),
                            config.rootpath),
        tags=tuple(parse_tag(text) for text in _strings(config, "leak_forensics_tag")
                   if text.strip()),
        **_comparison(config),
    )


def _comparison(config: pytest.Config) -> dict[str, Any]:
    label, value = _label(config, "leak_forensics_compare"), \
        str(_value(config, "leak_forensics_compare") or "").strip()
    from ..analysis.alerts import parse_alert

    rules = []
    for text in _strings(config, "leak_forensics_compare_fail"):
        if text.strip():
            try:
                rules.append(parse_alert(text))
            except BadInput as exc:
                raise ConfigError(f"{_label(config, 'leak_forensics_compare_fail')}: "
                                  f"{exc}") from None
    if value not in ("", "latest") and not value.isdigit():
        raise ConfigError(f"{label}: {value!r} is not a run id (leak-forensics history "
                          "lists them); the flag alone compares with the latest earlier run, and "
                          "takes a path after it as the run: write it last, or with =RUN")
    compare = bool(value or rules)
    if compare and resolve_url(str(_value(config, "leak_forensics_history") or ""),
                               config.rootpath) is None:
        raise ConfigError(f"{label} needs the history, which is switched off")
    return {"compare": compare, "compare_base": int(value) if value.isdigit() else None,
            "compare_fail": tuple(rules)}


__all__ = ["ConfigError", "add_options", "enabled", "resolve"]
