"""Two recorded runs compared, and the alerts that hold on the change."""

from __future__ import annotations

from collections.abc import Sequence

from ..analysis.alerts import AlertRule, Outcome, check
from ..analysis.run_compare import RunComparison, compare
from .store import HistoryError, HistoryStore


def compare_stored(store: HistoryStore, base_id: int, run_id: int) -> RunComparison:
    base, run = store.run(base_id), store.run(run_id)
    return compare(base, store.tests(base_id), run, store.tests(run_id))


def default_pair(store: HistoryStore) -> tuple[int, int]:
    """The run before the latest, and the latest."""
    runs = store.runs(2)
    if len(runs) < 2:
        raise HistoryError(f"{store.where} holds {len(runs)} run{'s' if len(runs) != 1 else ''}"
                           "; compare needs two")
    return int(runs[1]["id"]), int(runs[0]["id"])


def alerts(rules: Sequence[AlertRule], comparison: RunComparison) -> list[Outcome]:
    return [check(rule, comparison) for rule in rules]
