"""What a leak check found for one test, in the shape the JSON report contract gives it.

Every record is a frozen, slotted value with ``to_json``/``from_json``: the plugin builds
them, xdist workers send them to the controller as builtin types, and ``leak-forensics
report`` reads them back from a file it does not trust (``from_json`` raises ``KeyError``,
``TypeError`` or ``ValueError`` on anything malformed). ``TestResult`` alone is mutable:
it is filled in stage by stage as a test is screened, confirmed and pinpointed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from .types import Frames

Json = dict[str, object]
T = TypeVar("T")


class Verdict(enum.StrEnum):
    """A test's verdict; the values are the JSON report's strings."""

    LEAK = "leak"
    #: A leak an allowlist rule or a built-in known library leak covers: not counted.
    KNOWN = "known-leak"
    CLEAN = "clean"
    #: Grew on every untraced repetition, but no site or type grew on every traced one.
    INCONCLUSIVE = "inconclusive"
    #: A suspect the confirmation budget could not afford to repeat.
    UNCONFIRMED = "unconfirmed"
    SKIPPED = "skipped"
    NOT_CHECKED = "not-checked"
    ERROR = "error"


def _get(data: Mapping[str, object], key: str, kind: type[T], default: T | None = None) -> T:
    """``data[key]`` if it has the expected type; ``default`` if absent (None: required)."""
    if key not in data:
        if default is None:
            raise KeyError(key)
        return default
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{key!r} must be {kind.__name__}, not {type(value).__name__}")
    return value


def _int(data: Mapping[str, object], key: str, default: int | None = None) -> int:
    return _get(data, key, int, default)


def _as_int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{value!r} is not a whole number")
    return value


def _str(data: Mapping[str, object], key: str, default: str | None = None) -> str:
    return _get(data, key, str, default)


def _opt_str(data: Mapping[str, object], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{key!r} must be a string or null")
    return value


def _list(data: Mapping[str, object], key: str) -> list[object]:
    return list(_get(data, key, list, []))


def _records(data: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
    items: list[Mapping[str, object]] = [
        item for item in _list(data, key) if isinstance(item, dict)]
    if len(items) != len(_list(data, key)):
        raise TypeError(f"{key!r} must be a list of objects")
    return items


def _str_dict(data: Mapping[str, object], key: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in _get(data, key, dict, {}).items()}


@dataclass(frozen=True, slots=True)
class Site:
    """An allocation site whose memory grew on every traced run, per run."""

    filename: str
    lineno: int
    size_diff: int
    count_diff: int
    #: The allocation's frames as far as they were recorded, innermost first.
    traceback: Frames = ()
    source: str = ""
    in_user_code: bool = True

    def to_json(self) -> Json:
        return {"filename": self.filename, "lineno": self.lineno, "size_diff": self.size_diff,
                "count_diff": self.count_diff,
                "traceback": [{"filename": f, "lineno": n} for f, n in self.traceback],
                "source": self.source, "in_user_code": self.in_user_code}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Site:
        frames = tuple((_str(f, "filename"), _int(f, "lineno"))
                       for f in _records(data, "traceback"))
        return cls(_str(data, "filename"), _int(data, "lineno"), _int(data, "size_diff"),
                   _int(data, "count_diff"), frames, _str(data, "source", ""),
                   bool(data.get("in_user_code", True)))


@dataclass(frozen=True, slots=True)
class TypeGrowth:
    """A type whose live count grew (or, in ``garbage``, objects found uncollectable)."""

    type: str
    count_diff: int

    def to_json(self) -> Json:
        return {"type": self.type, "count_diff": self.count_diff}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> TypeGrowth:
        return cls(_str(data, "type"), _int(data, "count_diff"))


@dataclass(frozen=True, slots=True)
class Resource:
    """A non-memory resource left behind: ``kind`` is thread, fd, process, asyncio-task
    or db-connection; ``detail`` names where it was made."""

    kind: str
    detail: str

    def to_json(self) -> Json:
        return {"kind": self.kind, "detail": self.detail}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Resource:
        return cls(_str(data, "kind"), _str(data, "detail"))


@dataclass(frozen=True, slots=True)
class Owner:
    """Who keeps sampled leaked objects of one type alive, through one normalised chain."""

    type: str
    #: A dotted name, or a description (``thread Worker-1, frame ...``, ``held outside
    #: Python``).
    root: str
    #: One sampled object's chain: the root, each edge, then ``-> Type``.
    path: str
    #: The chain up to the edge where pre-existing holders meet new objects (None: unknown).
    suspect: str | None
    #: The suspect chain normalised (the whole chain when there is none): the leak's place.
    where: str
    #: How many of the type's sampled objects this chain holds, of how many sampled.
    sampled: int
    of: int
    #: Their usual allocation site, ``file:line``.
    site: str | None
    #: 16 hex digits naming the place (root, normalised chain, type, site).
    signature: str
    #: Why the holder never lets go, when it is a well-known pattern (``analysis.patterns``).
    why: str | None = None

    def to_json(self) -> Json:
        return {"type": self.type, "root": self.root, "path": self.path,
                "suspect": self.suspect, "where": self.where, "sampled": self.sampled,
                "of": self.of, "site": self.site, "signature": self.signature,
                "why": self.why}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Owner:
        return cls(_str(data, "type"), _str(data, "root"), _str(data, "path"),
                   _opt_str(data, "suspect"), _str(data, "where", ""), _int(data, "sampled", 0),
                   _int(data, "of", 0), _opt_str(data, "site"), _str(data, "signature", ""),
                   _opt_str(data, "why"))


@dataclass(frozen=True, slots=True)
class LeakGroup:
    """Leaking tests whose owners share a signature: they leak into the same place."""

    signature: str
    root: str
    where: str
    #: The holder's first type and site (``types`` and ``sites`` list them all).
    type: str
    site: str | None
    tests: tuple[str, ...]
    types: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    #: Traced bytes per run at ``sites``, summed over ``tests``.
    bytes_per_run: int = 0
    #: Why the holder never lets go, when it is a well-known pattern.
    why: str | None = None

    def to_json(self) -> Json:
        return {"signature": self.signature, "root": self.root, "where": self.where,
                "type": self.type, "site": self.site, "tests": list(self.tests),
                "types": list(self.types), "sites": list(self.sites),
                "bytes_per_run": self.bytes_per_run, "why": self.why}


@dataclass(frozen=True, slots=True)
class CollectedGarbage:
    """Objects of one type and site that a run left for the cyclic collector
    (``--leak-forensics-gc-debug``): information, never part of a verdict."""

    type: str
    count: int
    site: str | None

    def to_json(self) -> Json:
        return {"type": self.type, "count": self.count, "site": self.site}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> CollectedGarbage:
        return cls(_str(data, "type"), _int(data, "count"), _opt_str(data, "site"))


@dataclass(frozen=True, slots=True)
class Known:
    """Why a leak is known: the rule that covers it, where the rule comes from (allowlist
    or built-in) and, for built-in rules, why the leak is harmless."""

    rule: str
    source: str
    reason: str = ""

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "source": self.source, "reason": self.reason}


def _opt_int(data: Mapping[str, object], key: str) -> int | None:
    value = data.get(key)
    return None if value is None else _as_int(value)


def _number(data: Mapping[str, object], key: str) -> float:
    value = data[key]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"{key!r} must be a number, not {type(value).__name__}")
    return float(value)


@dataclass(frozen=True, slots=True)
class TestMemory:
    """The process's memory around one test, for the run's memory over time: which
    process ran it, when (wall clock, so that processes line up), for how long, and RSS
    before and after it (repetitions included) and the process's peak so far."""

    process: str
    pid: int
    #: Seconds since the epoch: the test's whole turn, repetitions included.
    started: float
    finished: float
    #: pytest's own duration of the test's run (set-up, call, tear-down).
    duration: float
    rss_start: int
    rss_end: int
    rss_peak: int | None = None

    __test__ = False  # not a pytest test class

    def to_json(self) -> Json:
        return {"process": self.process, "pid": self.pid, "started": self.started,
                "finished": self.finished, "duration": self.duration,
                "rss_start": self.rss_start, "rss_end": self.rss_end,
                "rss_peak": self.rss_peak}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> TestMemory:
        return cls(_str(data, "process"), _int(data, "pid"), _number(data, "started"),
                   _number(data, "finished"), _number(data, "duration"),
                   _int(data, "rss_start"), _int(data, "rss_end"), _opt_int(data, "rss_peak"))


@dataclass(slots=True)
class TestResult:
    nodeid: str
    verdict: Verdict
    sites: list[Site] = field(default_factory=list)
    types: list[TypeGrowth] = field(default_factory=list)
    owners: list[Owner] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    #: Traced bytes/blocks retained per measured repetition (pinpoint stage).
    size_per_run: int = 0
    count_per_run: int = 0
    #: Untraced growth on each measured repetition, per metric (``meter.METRICS``).
    deltas: dict[str, list[int]] = field(default_factory=dict)
    #: What the test's own run kept, per metric: why it was (or was not) a suspect.
    screen: dict[str, int] = field(default_factory=dict)
    runs: int = 1
    repeat: str = ""
    #: The outcome of the test's own run as pytest reported it (passed, failed, skipped);
    #: empty where the plugin did not run it.
    outcome: str = ""
    #: RSS growth per traced repetition, for scale (pages, not objects).
    rss_per_run: int = 0
    #: Objects that landed in ``gc.garbage`` (uncollectable) during the repetitions.
    garbage: list[TypeGrowth] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fail: bool = False
    #: Saved snapshot files: {"before": path, "after": path} (``--leak-forensics-save``).
    snapshots: dict[str, str] = field(default_factory=dict)
    #: For a known leak: the rule that covers it.
    known: Known | None = None
    #: What a run left for the cyclic collector (--leak-forensics-gc-debug), most first.
    cyclic_garbage: list[CollectedGarbage] = field(default_factory=list)
    #: The earlier test whose analysed leak this one repeats (``analysis.shared``): its
    #: sites and owners stand for this test's, which were not searched again.
    same_leak_as: str | None = None
    #: Where, when and with how much memory the test ran; None where the plugin did not
    #: run it (``no_leak_check``).
    memory: TestMemory | None = None

    __test__ = False  # not a pytest test class

    def to_json(self) -> Json:
        return {
            "nodeid": self.nodeid,
            "verdict": str(self.verdict),
            "sites": [s.to_json() for s in self.sites],
            "types": [t.to_json() for t in self.types],
            "owners": [o.to_json() for o in self.owners],
            "resources": [r.to_json() for r in self.resources],
            "size_per_run": self.size_per_run,
            "count_per_run": self.count_per_run,
            "deltas": {k: list(v) for k, v in self.deltas.items()},
            "screen": dict(self.screen),
            "runs": self.runs,
            "repeat": self.repeat,
            "outcome": self.outcome,
            "fail": self.fail,
            "rss_per_run": self.rss_per_run,
            "garbage": [g.to_json() for g in self.garbage],
            "notes": list(self.notes),
            "snapshots": dict(self.snapshots),
            "known": self.known.to_json() if self.known is not None else {},
            "cyclic_garbage": [g.to_json() for g in self.cyclic_garbage],
            "same_leak_as": self.same_leak_as,
            "memory": self.memory.to_json() if self.memory is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> TestResult:
        known = _str_dict(data, "known")
        deltas: dict[str, object] = _get(data, "deltas", dict, {})
        return cls(
            nodeid=_str(data, "nodeid"),
            verdict=Verdict(_str(data, "verdict")),
            sites=[Site.from_json(s) for s in _records(data, "sites")],
            types=[TypeGrowth.from_json(t) for t in _records(data, "types")],
            owners=[Owner.from_json(o) for o in _records(data, "owners")],
            resources=[Resource.from_json(r) for r in _records(data, "resources")],
            size_per_run=_int(data, "size_per_run", 0),
            count_per_run=_int(data, "count_per_run", 0),
            deltas={str(k): [_as_int(n) for n in _list(deltas, str(k))] for k in deltas},
            screen={str(k): _as_int(n) for k, n in _get(data, "screen", dict, {}).items()},
            runs=_int(data, "runs", 1),
            repeat=_str(data, "repeat", ""),
            outcome=_str(data, "outcome", ""),
            fail=data.get("fail") is True,
            rss_per_run=_int(data, "rss_per_run", 0),
            garbage=[TypeGrowth.from_json(g) for g in _records(data, "garbage")],
            notes=[str(n) for n in _list(data, "notes")],
            snapshots=_str_dict(data, "snapshots"),
            known=Known(known.get("rule", ""), known.get("source", "allowlist"),
                        known.get("reason", "")) if known else None,
            cyclic_garbage=[CollectedGarbage.from_json(g)
                            for g in _records(data, "cyclic_garbage")],
            same_leak_as=_opt_str(data, "same_leak_as"),
            memory=TestMemory.from_json(_get(data, "memory", dict))
            if data.get("memory") is not None else None,
        )

