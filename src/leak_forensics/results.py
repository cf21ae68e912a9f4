"""What a leak check found for one test, in the shape the JSON report contract gives it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

LEAK = "leak"
#: A leak an allowlist rule or a built-in known library leak covers: not counted.
KNOWN = "known-leak"
CLEAN = "clean"
INCONCLUSIVE = "inconclusive"
#: A suspect the confirmation budget could not afford to repeat.
UNCONFIRMED = "unconfirmed"
SKIPPED = "skipped"
NOT_CHECKED = "not-checked"
ERROR = "error"


@dataclass
class Site:
    filename: str
    lineno: int
    size_diff: int
    count_diff: int
    traceback: list[dict[str, object]]
    source: str = ""
    in_user_code: bool = True

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class TypeGrowth:
    type: str
    count_diff: int

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Resource:
    kind: str
    detail: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class TestResult:
    nodeid: str
    verdict: str
    sites: list[Site] = field(default_factory=list)
    types: list[TypeGrowth] = field(default_factory=list)
    owners: list[dict[str, object]] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    #: Traced bytes/blocks retained per measured repetition (pinpoint stage).
    size_per_run: int = 0
    count_per_run: int = 0
    #: Untraced growth on each measured repetition: {"blocks": [...], "malloc": [...]}.
    deltas: dict[str, list[int]] = field(default_factory=dict)
    runs: int = 1
    repeat: str = ""
    #: RSS growth per traced repetition, for scale (pages, not objects).
    rss_per_run: int = 0
    #: Objects that landed in ``gc.garbage`` (uncollectable) during the repetitions.
    garbage: list[TypeGrowth] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fail: bool = False
    #: Saved snapshot files: {"before": path, "after": path} (``--leak-forensics-save``).
    snapshots: dict[str, str] = field(default_factory=dict)
    #: For a known leak: the rule that covers it ({"rule", "source", "reason"}).
    known: dict[str, str] = field(default_factory=dict)
    #: What a run left for the cyclic collector (--leak-forensics-gc-debug):
    #: [{"type", "count", "site"}], most first.
    cyclic_garbage: list[dict[str, object]] = field(default_factory=list)

    __test__ = False  # not a pytest test class

    def to_json(self) -> dict[str, object]:
        return {
            "nodeid": self.nodeid,
            "verdict": self.verdict,
            "sites": [s.to_json() for s in self.sites],
            "types": [t.to_json() for t in self.types],
            "owners": list(self.owners),
            "resources": [r.to_json() for r in self.resources],
            "size_per_run": self.size_per_run,
            "count_per_run": self.count_per_run,
            "deltas": self.deltas,
            "runs": self.runs,
            "repeat": self.repeat,
            "rss_per_run": self.rss_per_run,
            "garbage": [g.to_json() for g in self.garbage],
            "notes": list(self.notes),
            "snapshots": dict(self.snapshots),
            "known": dict(self.known),
            "cyclic_garbage": list(self.cyclic_garbage),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> TestResult:
        return cls(
            nodeid=str(data["nodeid"]),
            verdict=str(data["verdict"]),
            sites=[Site(**s) for s in data.get("sites", [])],  # type: ignore[arg-type]
            types=[TypeGrowth(**t) for t in data.get("types", [])],  # type: ignore[arg-type]
            owners=list(data.get("owners", [])),  # type: ignore[arg-type]
            resources=[Resource(**r) for r in data.get("resources", [])],  # type: ignore[arg-type]
            size_per_run=int(data.get("size_per_run", 0)),  # type: ignore[arg-type]
            count_per_run=int(data.get("count_per_run", 0)),  # type: ignore[arg-type]
            deltas=dict(data.get("deltas", {})),  # type: ignore[arg-type]
            runs=int(data.get("runs", 1)),  # type: ignore[arg-type]
            repeat=str(data.get("repeat", "")),
            rss_per_run=int(data.get("rss_per_run", 0)),  # type: ignore[arg-type]
            garbage=[TypeGrowth(**g) for g in data.get("garbage", [])],  # type: ignore[arg-type]
            notes=list(data.get("notes", [])),  # type: ignore[arg-type]
            snapshots={str(k): str(v) for k, v in
                       dict(data.get("snapshots", {})).items()},  # type: ignore[arg-type]
            known={str(k): str(v) for k, v in
                   dict(data.get("known", {})).items()},  # type: ignore[arg-type]
            cyclic_garbage=list(data.get("cyclic_garbage", [])),  # type: ignore[arg-type]
        )
