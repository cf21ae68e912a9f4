"""Leaks a project accepts, and known leaks of libraries: reported apart, never failing.

A rule is ``KIND:GLOB``: ``site`` matches ``file:line`` of an allocation site (as the
report shows it, relative to the rootdir), ``type`` a qualified type name, ``root`` an
owner's root or chain (``myapp.metrics.*``), ``resource`` a leaked resource's text. A
leak is known when a rule covers it whole: every site, or every type, or every owner
chain of its memory, and every resource it leaked. Anything uncovered keeps the verdict
``leak``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..results import Known, TestResult

KINDS = ("site", "type", "root", "resource")


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    pattern: str
    reason: str = ""
    source: str = "allowlist"

    def __str__(self) -> str:
        return f"{self.kind}:{self.pattern}"

    def known(self) -> Known:
        """What a leak this rule covers records about it."""
        return Known(str(self), self.source, self.reason)


def parse_rule(text: str) -> Rule:
    kind, _, pattern = text.strip().partition(":")
    if kind not in KINDS or not pattern.strip():
        raise ConfigError(f"leak allowlist entry {text.strip()!r} must look like KIND:GLOB "
                          f"with KIND one of {', '.join(KINDS)} (e.g. root:myapp.metrics.*)")
    return Rule(kind, pattern.strip())


#: Leaks of libraries that their users cannot fix, each with why it is harmless.
BUILT_IN: tuple[Rule, ...] = (
    Rule("root", "*._compiled_cache*",
         "SQLAlchemy's per-engine statement cache (an LRU of 500 statements by default) "
         "keeps each new statement it compiles until it is full", "built-in"),
    Rule("root", "gettext._translations*",
         "gettext keeps every translation file it has opened", "built-in"),
    Rule("root", "*.dbapi_connection -> list*",
         "sqlite3 connections keep a weak reference to each cursor and drop the dead ones "
         "only every 200 cursors", "built-in"),
    Rule("root", "*.dbapi_connection -> _lru_cache_wrapper*",
         "sqlite3 connections keep their last 128 statements (cached_statements) in an "
         "lru_cache, which each new statement grows until it is full", "built-in"),
)


def match(result: TestResult, rules: Iterable[Rule]) -> Rule | None:
    """The rule that covers the whole of a leaking test's leak, or None."""
    rules = list(rules)
    used: list[Rule] = []

    def covered(kind: str, texts: Sequence[Sequence[str]]) -> bool:
        """Every item matches a rule of ``kind`` by one of its texts."""
        if not texts:
            return False
        found = []
        for item in texts:
            rule = next((r for r in rules if r.kind == kind
                         and any(fnmatch.fnmatchcase(t, r.pattern) for t in item)), None)
            if rule is None:
                return False
            found.append(rule)
        used.extend(found)
        return True

    memory = bool(result.sites or result.types or result.owners)
    memory_known = not memory or any((
        covered("site", [[f"{s.filename}:{s.lineno}"] for s in result.sites]),
        covered("type", [[t.type] for t in result.types]),
        covered("root", [[o.root, o.where, o.path] for o in result.owners]),
    ))
    resources_known = not result.resources or covered(
        "resource", [[f"{r.kind} {r.detail}"] for r in result.resources])
    if memory_known and resources_known and used:
        return used[0]
    return None
