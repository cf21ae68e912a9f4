"""What changed between two recorded runs: per test, the memory each kept per run; for the
whole run, peak RSS and growth rate; and the leaks that are new or gone.

A leak is known across runs by its owner signatures (where the objects pile up, which
survives edits that move lines); a leaking test with no owner found is known by its node
id. Known leaks (an allowlist rule, a library's cache) are not leaks here either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..units import size_text

Row = Mapping[str, object]


@dataclass(frozen=True)
class Leak:
    """One leak as a run recorded it: its key, and the tests and sites that showed it."""

    key: str
    tests: tuple[str, ...]
    bytes_per_run: int
    sites: tuple[str, ...]
    types: tuple[str, ...]

    def describe(self) -> str:
        where = f" at {', '.join(self.sites[:2])}" if self.sites else ""
        kinds = f" ({', '.join(self.types[:2])})" if self.types else ""
        more = f" and {len(self.tests) - 1} more" if len(self.tests) > 1 else ""
        return f"{self.tests[0]}{more}: {size_text(self.bytes_per_run)} per run{where}{kinds}"


@dataclass(frozen=True)
class TestChange:
    """Memory a test kept per run in the base and in the run (None: not in that run)."""

    nodeid: str
    base: int | None
    run: int | None

    __test__ = False  # not a pytest test class

    @property
    def change(self) -> int:
        return (self.run or 0) - (self.base or 0)


@dataclass(frozen=True)
class Figure:
    """A whole-run figure in both runs (None where it was not measured)."""

    name: str
    base: float | None
    run: float | None

    @property
    def change(self) -> float | None:
        return None if self.base is None or self.run is None else self.run - self.base

    @property
    def percent(self) -> float | None:
        change = self.change
        if change is None or not self.base:
            return None
        return 100.0 * change / abs(self.base)


@dataclass(frozen=True)
class RunComparison:
    base_id: int
    run_id: int
    peak_rss: Figure
    growth_rate: Figure
    #: Tests whose kept memory per run changed, most grown first.
    tests: list[TestChange] = field(default_factory=list)
    new: list[Leak] = field(default_factory=list)
    gone: list[Leak] = field(default_factory=list)


def leaks(tests: Sequence[Row]) -> dict[str, Leak]:
    """The run's leaks by key."""
    found: dict[str, list[Row]] = {}
    for test in tests:
        if test.get("verdict") != "leak":
            continue
        keys = [str(s) for s in _list(test, "signatures")] or [f"test {test['nodeid']}"]
        for key in keys:
            found.setdefault(key, []).append(test)
    return {key: Leak(key, tuple(str(t["nodeid"]) for t in rows),
                      sum(_int(t, "bytes_per_run") for t in rows),
                      tuple(dict.fromkeys(str(s) for t in rows for s in _list(t, "top_sites"))),
                      tuple(dict.fromkeys(str(s) for t in rows for s in _list(t, "top_types"))))
            for key, rows in found.items()}


def compare(base: Row, base_tests: Sequence[Row], run: Row, run_tests: Sequence[Row]
            ) -> RunComparison:
    kept_base = {str(t["nodeid"]): _int(t, "bytes_per_run") for t in base_tests}
    kept_run = {str(t["nodeid"]): _int(t, "bytes_per_run") for t in run_tests}
    changes = [TestChange(nodeid, kept_base.get(nodeid), kept_run.get(nodeid))
               for nodeid in dict.fromkeys([*kept_base, *kept_run])]
    changes = sorted((c for c in changes if c.change), key=lambda c: -c.change)
    before, after = leaks(base_tests), leaks(run_tests)
    return RunComparison(
        _int(base, "id"), _int(run, "id"),
        Figure("peak_rss", _number(base, "peak_rss"), _number(run, "peak_rss")),
        Figure("growth_rate", _number(base, "growth_rate"), _number(run, "growth_rate")),
        changes,
        [leak for key, leak in after.items() if key not in before],
        [leak for key, leak in before.items() if key not in after])


def _int(row: Row, key: str) -> int:
    value = row.get(key)
    return int(value) if isinstance(value, int | float) else 0


def _number(row: Row, key: str) -> float | None:
    value = row.get(key)
    return float(value) if isinstance(value, int | float) else None


def _list(row: Row, key: str) -> list[object]:
    value = row.get(key)
    return list(value) if isinstance(value, list | tuple) else []
