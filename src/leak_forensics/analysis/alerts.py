"""CI alerts: conditions on the change from a baseline run that fail a run.

Expressions have pytest-benchmark's ``--benchmark-compare-fail`` shape, ``KEY:LIMIT``,
and hold when the run is worse than the base by more than the limit:

- ``new_leaks:N``: more than N leaks the base did not have;
- ``peak_rss:20%`` or ``peak_rss:200MB``: the highest RSS of a process grew by more;
- ``growth_rate:10%`` or ``growth_rate:64KB``: RSS growth per test grew by more;
- ``retained:1MB`` or ``retained:50%``: some test keeps more per run than in the base,
  by more (a percentage needs the test to have kept something in the base; a test that
  starts leaking is a new leak).

``KEY`` alone takes the default limit in ``DEFAULTS``: limits measured so that a suite
run against itself on a busy 2-core CI machine never alerts (see the README).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInput
from ..units import parse_size, size_text
from .run_compare import Figure, RunComparison

#: The exit status of a run that an alert fails: none of pytest's own (0-5).
EXIT_ALERT = 6
DEFAULTS = {"new_leaks": "0", "peak_rss": "20%", "growth_rate": "64KB", "retained": "64KB"}


@dataclass(frozen=True)
class AlertRule:
    key: str
    limit: float
    percent: bool
    #: As the user wrote it (with the default limit filled in).
    text: str


def parse_alert(text: str) -> AlertRule:
    key, _, limit = text.strip().partition(":")
    key, limit = key.strip(), limit.strip()
    if key not in DEFAULTS:
        raise BadInput(f"{text!r} is not an alert: use KEY[:LIMIT] with KEY one of "
                       f"{', '.join(DEFAULTS)} (e.g. new_leaks:0, peak_rss:20%)")
    limit = limit or DEFAULTS[key]
    if key == "new_leaks":
        if not limit.isdigit():
            raise BadInput(f"{text!r}: new_leaks takes a count of leaks (e.g. new_leaks:0)")
        return AlertRule(key, int(limit), False, f"{key}:{limit}")
    if limit.endswith("%"):
        try:
            percent = float(limit[:-1])
        except ValueError:
            percent = -1.0
        if percent < 0:
            raise BadInput(f"{text!r}: {limit!r} is not a percentage (e.g. {key}:20%)")
        return AlertRule(key, percent, True, f"{key}:{limit}")
    try:
        size = parse_size(limit)
    except BadInput as exc:
        raise BadInput(f"{text!r}: {exc}, or a percentage") from None
    return AlertRule(key, size, False, f"{key}:{limit}")


@dataclass(frozen=True)
class Outcome:
    rule: AlertRule
    #: True: the condition holds (the run fails); None: it could not be checked.
    holds: bool | None
    message: str


def check(rule: AlertRule, comparison: RunComparison) -> Outcome:
    base = f"run {comparison.base_id}"
    if rule.key == "new_leaks":
        new = comparison.new
        holds = len(new) > rule.limit
        listing = "; ".join(leak.describe() for leak in new[:5])
        return Outcome(rule, holds, f"{len(new)} new leak{'s' if len(new) != 1 else ''} "
                                    f"since {base}" + (f": {listing}" if listing else ""))
    if rule.key == "retained":
        grown = [c for c in comparison.tests if _worse(rule, c.base or 0, c.run or 0)]
        listing = "; ".join(f"{c.nodeid} {size_text(c.base or 0)} -> {size_text(c.run or 0)}"
                            for c in grown[:5])
        return Outcome(rule, bool(grown),
                       f"{len(grown)} test{'s keep' if len(grown) != 1 else ' keeps'} more per run "
                       f"than in {base}" + (f": {listing}" if listing else ""))
    figure = comparison.peak_rss if rule.key == "peak_rss" else comparison.growth_rate
    return _check_figure(rule, figure, base)


def _check_figure(rule: AlertRule, figure: Figure, base: str) -> Outcome:
    label = "peak RSS" if figure.name == "peak_rss" else "RSS growth per test"
    if figure.base is None or figure.run is None:
        missing = base if figure.base is None else "this run"
        return Outcome(rule, None, f"{label} was not measured in {missing}; not checked")
    if rule.percent and figure.base <= 0:
        return Outcome(rule, None, f"{label} was {size_text(round(figure.base))} in {base}: "
                                   "no percentage of it; give a size to check it")
    percent = figure.percent
    shown = f" ({percent:+.0f}%)" if percent is not None else ""
    return Outcome(rule, _worse(rule, figure.base, figure.run),
                   f"{label} {size_text(round(figure.run))}, was "
                   f"{size_text(round(figure.base))} in {base}{shown}")


def _worse(rule: AlertRule, base: float, run: float) -> bool:
    """A percentage of a base of nothing (or a shrinking rate) means nothing: such a
    base never trips a percentage limit, only a size."""
    if not rule.percent:
        return run - base > rule.limit
    return base > 0 and 100.0 * (run - base) / base > rule.limit
