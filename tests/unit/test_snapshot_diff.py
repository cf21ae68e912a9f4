"""Snapshot files and their diff: the same numbers and order as tracemalloc's compare_to."""

import tracemalloc
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leak_forensics.snapshot import diff as snapshot_diff
from leak_forensics.snapshot import file as snapshot_file
from leak_forensics.snapshot import model
from leak_forensics.snapshot.model import Snapshot

FILES = ["/app/a.py", "/app/b.py", "/lib/c.py", "/app/sub/d.pyc"]
frames = st.tuples(st.sampled_from(FILES), st.integers(0, 4))
tracebacks = st.lists(frames, min_size=1, max_size=4).map(tuple)
# Few tracebacks and small sizes: plenty of exact ties, which compare_to breaks by frames.
traces = st.lists(st.tuples(st.sampled_from([0, 0, 0, 7]), st.integers(0, 40), tracebacks),
                  max_size=60)
patterns = st.lists(st.sampled_from(["/app/*", "*.py", "/lib/*", "*/d.py", "/nowhere/*"]),
                    max_size=2)


def raw(entries):
    # Shared tuple per traceback, as tracemalloc itself hands them out.
    shared = {}
    return [(d, s, shared.setdefault(tb, tb), len(tb) + 1) for d, s, tb in entries]


def theirs(old, new, key, cumulative, include=(), exclude=()):
    filters = ([tracemalloc.Filter(True, p) for p in include]
               + [tracemalloc.Filter(False, p) for p in exclude])
    a = tracemalloc.Snapshot(raw(old), 4).filter_traces(filters)
    b = tracemalloc.Snapshot(raw(new), 4).filter_traces(filters)
    return [(tuple(reversed(s.traceback._frames)), s.size, s.size_diff, s.count, s.count_diff)
            for s in b.compare_to(a, key, cumulative)]


def ours(old, new, key, cumulative, include=(), exclude=(), limit=None, reload=None):
    a, b = Snapshot.from_traces(raw(old), 4), Snapshot.from_traces(raw(new), 4)
    if reload:
        a, b = reload(a, "a"), reload(b, "b")
    found = snapshot_diff.diff(a, b, key, cumulative, include, exclude, limit)
    return [(s.frames, s.size, s.size_diff, s.count, s.count_diff) for s in found.sites]


KEYS = [("lineno", False), ("filename", False), ("traceback", False), ("lineno", True),
        ("filename", True)]


@pytest.mark.parametrize(("key", "cumulative"), KEYS)
@settings(max_examples=60, deadline=None)
@given(old=traces, new=traces, include=patterns, exclude=patterns, limit=st.integers(1, 6))
def test_diff_equals_compare_to(key, cumulative, old, new, include, exclude, limit):
    expected = theirs(old, new, key, cumulative, include, exclude)
    assert ours(old, new, key, cumulative, include, exclude) == expected
    assert ours(old, new, key, cumulative, include, exclude, limit) == expected[:limit]


@pytest.mark.parametrize(("key", "cumulative"), KEYS)
@pytest.mark.parametrize(("include", "exclude"), [((), ()), (("/app/*",), ("*/b.py",))])
def test_diff_of_saved_files_equals_compare_to(tmp_path, key, cumulative, include, exclude):
    # Saved files carry per-frame totals; filters make the diff add up tracebacks instead.
    old = [(0, 10 + i % 7, ((FILES[i % 4], i % 5), (FILES[(i + 1) % 4], 9))) for i in range(300)]
    new = old[40:] + [(0, 33, (("/app/a.py", 4), ("/lib/c.py", 2)))] * 25

    def reload(snapshot, name):
        path = tmp_path / f"{name}.lfsnap"
        snapshot.save(path)
        return model.load(path)

    assert (ours(old, new, key, cumulative, include, exclude, reload=reload)
            == theirs(old, new, key, cumulative, include, exclude))


def test_statistics_rank_like_tracemalloc():
    entries = [(0, 8 * (i % 3), (FILES[i % 4], i % 2)) for i in range(40)]
    snap = Snapshot.from_traces(raw([(d, s, (f,)) for d, s, f in entries]), 1)
    got = snapshot_diff.statistics(snap, "lineno", limit=None)
    want = tracemalloc.Snapshot(raw([(d, s, (f,)) for d, s, f in entries]), 1).statistics("lineno")
    assert [(s.frames[0], s.size, s.count) for s in got.sites] == [
        (tuple(w.traceback._frames[0]), w.size, w.count) for w in want]


def test_round_trip_keeps_every_block_and_the_metadata(tmp_path):
    entries = [(i % 2, 100 + i, (("/app/a.py", i % 3), ("/app/\udcff.py", 1))) for i in range(50)]
    original = Snapshot.from_traces(raw(entries), 7, meta={"test": "t.py::x", "label": "after"},
                                    census={"dict": 3, "myapp.Entry": 2}, garbage={"Cycle": 1})
    original.save(tmp_path / "s.lfsnap")
    loaded = model.load(tmp_path / "s.lfsnap")
    assert Counter(loaded.raw_traces()) == Counter(raw(entries))
    assert loaded.meta["test"] == "t.py::x" and loaded.meta["traceback_limit"] == 7
    assert loaded.census == {"dict": 3, "myapp.Entry": 2} and loaded.garbage == {"Cycle": 1}
    assert loaded.to_tracemalloc().statistics("traceback") == tracemalloc.Snapshot(
        raw(entries), 7).statistics("traceback")


def test_census_difference_lists_changed_types_largest_first():
    old = Snapshot.from_traces([], 1, census={"dict": 10, "list": 5, "gone": 2})
    new = Snapshot.from_traces([], 1, census={"dict": 10, "list": 9, "myapp.Entry": 30})
    found = snapshot_diff.diff(old, new)
    assert [(t.type, t.count, t.count_diff) for t in found.types] == [
        ("myapp.Entry", 30, 30), ("list", 9, 4), ("gone", 0, -2)]
    assert snapshot_diff.diff(old, Snapshot.from_traces([], 1)).types is None


def test_key_and_cumulative_are_checked():
    snap = Snapshot.from_traces([], 1)
    with pytest.raises(ValueError, match="key must be one of"):
        snapshot_diff.diff(snap, snap, "function")
    with pytest.raises(ValueError, match="cumulative"):
        snapshot_diff.diff(snap, snap, "traceback", cumulative=True)


def test_safe_stem_is_a_plain_bounded_unique_name():
    odd = "tests/test_x.py::TestA::test_b[a/b:c*d?\"<>|\\ \u00e9]"
    stem = snapshot_file.safe_stem(odd)
    assert all(c.isalnum() or c in "._-" for c in stem) and stem.isascii()
    assert len(snapshot_file.safe_stem("t.py::test_" + "x" * 500)) <= 100
    assert snapshot_file.safe_stem("a/b") != snapshot_file.safe_stem("a:b")


def test_package_root_exports_the_snapshot_api(tmp_path):
    import leak_forensics
    snap = leak_forensics.Snapshot.from_traces([(0, 8, (("/a.py", 1),), 1)], 1)
    snap.save(tmp_path / "s.lfsnap")
    loaded = leak_forensics.load_snapshot(tmp_path / "s.lfsnap")
    change = leak_forensics.diff_snapshots(leak_forensics.Snapshot.from_traces([], 1), loaded)
    assert [(s.frames, s.size_diff) for s in change.sites] == [((("/a.py", 1),), 8)]
    assert issubclass(leak_forensics.SnapshotError, ValueError)
    with pytest.raises(AttributeError):
        leak_forensics.no_such_name  # noqa: B018
