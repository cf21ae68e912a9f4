"""The rewriter's memo: a window forgets the names it added, never the ones before it."""

import sys

from leak_forensics.cleanup.runner_caches import RewriterNames


class Finder:
    """Stands in for pytest's AssertionRewritingHook, found by its defining module."""

    def __init__(self) -> None:
        self._marked_for_rewrite_cache: dict[str, bool] = {}


Finder.__module__ = "_pytest.assertion.rewrite"


def test_a_window_forgets_only_the_names_it_added(monkeypatch):
    finder = Finder()
    monkeypatch.setattr(sys, "meta_path", [finder])
    memo = finder._marked_for_rewrite_cache
    memo["before"] = False
    names = RewriterNames()
    names.note()
    memo["made_in_window_1"] = False
    names.forget_new()
    assert list(memo) == ["before"]
    # The harness imports something between two windows: the next window keeps it.
    memo["between_windows"] = True
    names.note()
    memo["made_in_window_2"] = False
    names.forget_new()
    names.forget_new()  # again in the same window: nothing more goes
    assert list(memo) == ["before", "between_windows"]


def test_a_memo_pytest_emptied_or_replaced_is_left_alone(monkeypatch):
    finder = Finder()
    monkeypatch.setattr(sys, "meta_path", [finder])
    finder._marked_for_rewrite_cache.update(a=False, b=False)
    names = RewriterNames()
    names.note()
    finder._marked_for_rewrite_cache.clear()  # pytest marked a new name
    names.forget_new()
    assert finder._marked_for_rewrite_cache == {}
    names.note()
    finder._marked_for_rewrite_cache = {"new": True}
    names.forget_new()
    assert finder._marked_for_rewrite_cache == {"new": True}


def test_without_the_rewriter_nothing_happens(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [])
    names = RewriterNames()
    names.note()
    names.forget_new()
