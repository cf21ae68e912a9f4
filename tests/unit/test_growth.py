"""Growth that recurs on every interval, per site and per type."""

from leak_forensics.analysis.attribution import FrameClassifier
from leak_forensics.analysis.growth import (
    TraceTotals,
    encode,
    group_traces,
    recurring_sites,
    recurring_types,
)


def totals(per_traceback: dict) -> TraceTotals:
    t = TraceTotals()
    for frames, (size, count) in per_traceback.items():
        t.sizes[encode(frames)] = size
        t.counts[encode(frames)] = count
    return t


def test_only_sites_that_grow_every_interval_count(tmp_path):
    classifier = FrameClassifier(str(tmp_path))
    leaky = ((str(tmp_path / "app.py"), 7),)
    warm = ((str(tmp_path / "app.py"), 9),)
    snapshots = [totals({leaky: (0, 0), warm: (0, 0)}),
                 totals({leaky: (100, 1), warm: (500, 5)}),   # warm-up grows once
                 totals({leaky: (200, 2), warm: (500, 5)}),
                 totals({leaky: (300, 3), warm: (500, 5)})]
    sites, size, count = recurring_sites(snapshots, classifier)
    assert [(s.filename, s.lineno, s.size_diff, s.count_diff) for s in sites] == [
        ("app.py", 7, 100, 1)]
    assert (size, count) == (100, 1)
    assert sites[0].traceback == (("app.py", 7),) and sites[0].in_user_code


def test_without_a_recurring_site_the_size_is_the_least_total_growth(tmp_path):
    # Objects made on alternating lines: no line grows every run, the memory does.
    classifier = FrameClassifier(str(tmp_path))
    a, b = ((str(tmp_path / "app.py"), 3),), ((str(tmp_path / "app.py"), 4),)
    snapshots = [totals({a: (0, 0), b: (0, 0)}),
                 totals({a: (100, 1), b: (0, 0)}),
                 totals({a: (100, 1), b: (120, 1)}),
                 totals({a: (200, 2), b: (120, 1)})]
    assert recurring_sites(snapshots, classifier) == ([], 100, 1)
    shrinking = [totals({a: (0, 0)}), totals({a: (100, 1)}), totals({a: (40, 0)})]
    assert recurring_sites(shrinking, classifier) == ([], 0, 0)


def test_group_traces_leaves_out_our_own_blocks(tmp_path):
    import leak_forensics.probe as ours
    classifier = FrameClassifier(str(tmp_path))
    user = (str(tmp_path / "app.py"), 1)
    raw = [(0, 10, (user,), 1), (0, 20, (user,), 1), (0, 99, ((ours.__file__, 5),), 1)]
    grouped = group_traces(raw, classifier)
    assert list(grouped.sizes.values()) == [30] and list(grouped.counts.values()) == [2]


def test_types_that_grow_every_interval():
    censuses = [{"dict": 10, "app.Entry": 0}, {"dict": 13, "app.Entry": 1},
                {"dict": 13, "app.Entry": 2}, {"dict": 14, "app.Entry": 3}]
    assert [(t.type, t.count_diff) for t in recurring_types(censuses)] == [("app.Entry", 1)]
    # A census the test's own full collection made incomparable is skipped.
    assert [t.type for t in recurring_types([None, {"x": 1}, {"x": 2}, {"x": 3}])] == ["x"]
    assert recurring_types([None, None]) == []
