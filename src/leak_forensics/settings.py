"""What a leak check is asked to do, parsed from user-facing strings.

Kept apart from the pytest plugin so that the command line, ini files, markers and the
notebook API all reject bad values with the same one-line message.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .cleanup.steps import OPT_IN, STEPS
from .errors import BadInput, ConfigError
from .units import parse_size

if TYPE_CHECKING:
    from .analysis.alerts import AlertRule
    from .analysis.known_leaks import Rule


@dataclass(frozen=True)
class Repeat:
    """``W:N`` — W warm-up runs (the test's own run is the first) and N measured runs."""

    warmups: int
    measured: int

    def __str__(self) -> str:
        return f"{self.warmups}:{self.measured}"


@dataclass(frozen=True)
class Settings:
    repeat: Repeat = Repeat(1, 3)
    #: Minimum traced bytes retained per repetition for a ``leak`` verdict.
    threshold: int = 1
    fail: bool = False
    #: Leaks wholly inside an installed library are leaks too (``analysis.libraries``);
    #: by default they are listed apart as known, and never fail.
    fail_library: bool = False
    #: tracemalloc frames kept per allocation while pinpointing; ORMs need ~20.
    frames: int = 32
    #: Sites and types kept per test in the report.
    top: int = 10
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    skip_steps: frozenset[str] = frozenset()
    opt_in_steps: frozenset[str] = frozenset()
    #: Seconds the cleanup pass waits for threads a test started before calling them leaked.
    thread_timeout: float = 1.0
    #: Whether allocation sites are traced; ``memory_intensive`` tests turn it off.
    trace: bool = True
    json_path: str | None = None
    #: Repeat every test instead of only those whose own run kept something.
    screen_all: bool = False
    #: Opt-in: share of the tests' own time that repeating suspects may add; None (the
    #: default) confirms every suspect, so no verdict depends on timing (measure.budget).
    budget: float | None = None
    #: Directory for the snapshots behind each leak verdict (``leak-forensics diff``).
    save_dir: str | None = None
    #: Trace and save every test's snapshots, not only a leaking test's.
    save_all: bool = False
    #: Search who holds sampled leaked objects (one pass over the heap per leaking test).
    owners: bool = True
    #: Leaks the project accepts (``known_leaks.Rule``): reported apart, never failing.
    allow: tuple[Rule, ...] = ()
    #: Run every test once more to report what it left for the cyclic collector.
    gc_debug: bool = False
    #: The store each run is recorded in (an SQLAlchemy URL); None: not recorded.
    history: str | None = None
    #: The user's labels for the run in the history (``--leak-forensics-tag key=value``).
    tags: tuple[tuple[str, str], ...] = ()
    #: Compare the run with a recorded one at the end (``--leak-forensics-compare``).
    compare: bool = False
    #: The run to compare with; None: the latest earlier run on the same branch.
    compare_base: int | None = None
    #: Conditions on the change that fail the run (``--leak-forensics-compare-fail``).
    compare_fail: tuple[AlertRule, ...] = ()

    def replace(self, **changes: Any) -> Settings:  # noqa: ANN401  # checked by dataclasses
        return dataclasses.replace(self, **changes)


def parse_repeat(text: str) -> Repeat:
    parts = str(text).strip().split(":")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ConfigError(f"repeat must look like W:N (e.g. 1:3), got {text!r}")
    warmups, measured = (int(p) for p in parts)
    if warmups < 1:
        raise ConfigError(f"repeat {text!r}: W counts the test's own run, so it must be >= 1")
    if measured < 2:
        raise ConfigError(f"repeat {text!r}: N must be >= 2 to tell growth from warm-up")
    if warmups + measured > 100:
        raise ConfigError(f"repeat {text!r}: at most 100 runs in all")
    return Repeat(warmups, measured)


def parse_int(name: str, text: object, minimum: int = 0) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def parse_float(name: str, text: object, minimum: float = 0.0) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {text!r}") from None
    if not value >= minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def parse_size_setting(name: str, value: object, minimum: int = 1) -> int:
    """A size as people write it (``units.parse_size``: ``4096``, ``10K``, ``10 MB``)."""
    try:
        size = value if isinstance(value, int) and not isinstance(value, bool) \
            else parse_size(str(value))
    except BadInput:
        raise ConfigError(f"{name} must be a size such as 512, 10K or 10 MB, got "
                          f"{value!r}") from None
    if size < minimum:
        raise ConfigError(f"{name} must be at least {minimum} byte{'s' * (minimum != 1)}, "
                          f"got {value!r}")
    return size


def parse_budget(name: str, text: object) -> float | None:
    if str(text).strip().lower() in ("none", "off", "unlimited"):
        return None
    return parse_float(name, text)


def parse_tag(text: str) -> tuple[str, str]:
    key, sep, value = str(text).partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"a tag must look like key=value, got {text!r}")
    return key.strip(), value.strip()


def parse_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def parse_steps(names: list[str] | tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """Split ``leak_forensics_cleanup_skip``-style names into (skipped, opted-in) sets.

    ``stdlib-unsafe`` is the only name that switches a step *on*; it is accepted here so
    the two lists share one spelling check.
    """
    skip: set[str] = set()
    opt_in: set[str] = set()
    for raw in names:
        for name in str(raw).replace(",", " ").split():
            if name in STEPS:
                skip.add(name)
            elif name in OPT_IN:
                opt_in.add(name)
            else:
                known = ", ".join([*STEPS, *OPT_IN])
                raise ConfigError(f"unknown cleanup step {name!r} (known: {known})")
    return frozenset(skip), frozenset(opt_in)


@dataclass
class MarkerOverrides:
    """Per-test overrides from ``@pytest.mark.leak_forensics(...)``."""

    values: dict[str, object] = field(default_factory=dict)

    ALLOWED = ("repeat", "threshold", "fail")

    @classmethod
    def parse(cls, args: tuple[object, ...], kwargs: dict[str, object]) -> MarkerOverrides:
        if args:
            raise ConfigError("leak_forensics marker takes keyword arguments only "
                              f"({', '.join(cls.ALLOWED)})")
        unknown = sorted(set(kwargs) - set(cls.ALLOWED))
        if unknown:
            raise ConfigError(f"leak_forensics marker: unknown argument(s) {', '.join(unknown)}"
                              f" (allowed: {', '.join(cls.ALLOWED)})")
        values: dict[str, object] = {}
        if "repeat" in kwargs:
            values["repeat"] = parse_repeat(str(kwargs["repeat"]))
        if "threshold" in kwargs:
            values["threshold"] = parse_size_setting("leak_forensics(threshold=)",
                                                     kwargs["threshold"])
        if "fail" in kwargs:
            values["fail"] = parse_bool("leak_forensics(fail=)", kwargs["fail"])
        return cls(values)

    def apply(self, settings: Settings) -> Settings:
        return settings.replace(**self.values) if self.values else settings
