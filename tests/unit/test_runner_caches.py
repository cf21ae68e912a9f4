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


def test_a_name_added_every_window_never_resizes_the_memo_inside_one(monkeypatch):
    """Deleted names leave slots a dict reuses only when it resizes; the resize must come
    between windows, never inside one, where its new table read as the test's growth."""
    finder = Finder()
    monkeypatch.setattr(sys, "meta_path", [finder])
    memo = finder._marked_for_rewrite_cache
    memo.update((f"module_{n}", False) for n in range(300))
    names = RewriterNames()
    resized_inside = []
    for run in range(2000):
        names.note()
        size = sys.getsizeof(memo)
        memo[f"encodings.x_vendor_{run}"] = False  # what the test imports, once per run
        if sys.getsizeof(memo) != size:
            resized_inside.append(run)
        names.forget_new()
    assert resized_inside == []
    assert list(memo) == [f"module_{n}" for n in range(300)]


def test_without_making_room_the_memo_would_resize_inside_windows(monkeypatch):
    """The control: the same windows without the rebuild resize inside some of them."""
    finder = Finder()
    monkeypatch.setattr(sys, "meta_path", [finder])
    memo = finder._marked_for_rewrite_cache
    memo.update((f"module_{n}", False) for n in range(300))
    names = RewriterNames()
    monkeypatch.setattr("leak_forensics.cleanup.runner_caches._make_room", lambda memo: None)
    resized_inside = 0
    for run in range(2000):
        names.note()
        size = sys.getsizeof(memo)
        memo[f"encodings.x_vendor_{run}"] = False
        resized_inside += sys.getsizeof(memo) != size
        names.forget_new()
    assert resized_inside > 0
