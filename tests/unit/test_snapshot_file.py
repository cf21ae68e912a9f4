"""Reading snapshot files that are damaged, hostile or not snapshots at all."""

import contextlib
import json
import pickle
import tracemalloc
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leak_forensics.errors import SnapshotError
from leak_forensics.snapshot import diff as snapshot_diff
from leak_forensics.snapshot import file as snapshot_file
from leak_forensics.snapshot import model
from leak_forensics.snapshot.columns import DERIVED
from leak_forensics.snapshot.file import MAGIC
from leak_forensics.snapshot.model import Snapshot


def sample() -> bytes:
    traces = [(0, 16 + i, (("/app/a.py", i % 5), ("/app/b.py", 2)), 2) for i in range(40)]
    return snapshot_file.encode(Snapshot.from_traces(traces, 2, census={"dict": 4}))


def read_everything(data: bytes) -> None:
    """Load and use every column, as diff, show and to_tracemalloc do."""
    snap = model.decode(data)
    snapshot_diff.diff(snap, snap, "traceback")
    snapshot_diff.diff(snap, snap, "filename")
    snapshot_diff.diff(snap, snap, "lineno", cumulative=True)
    snap.raw_traces()


def test_sample_reads_back():
    read_everything(sample())


@pytest.mark.parametrize("cut", [0, 1, 7, 8, 11, 12, 40, -200, -30, -1])
def test_truncated_file_is_one_clear_error(cut):
    with pytest.raises(SnapshotError, match="snapshot|empty"):
        read_everything(sample()[:cut])


def test_every_single_byte_corruption_is_caught_or_harmless():
    data = sample()
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0x5A
        with contextlib.suppress(SnapshotError):  # any other exception fails the test
            read_everything(bytes(damaged))


def header_of(data: bytes) -> tuple[dict, bytes]:
    size = int.from_bytes(data[8:12], "little")
    return json.loads(data[12:12 + size]), data[12 + size:]


def with_header(header: dict, body: bytes) -> bytes:
    head = json.dumps(header).encode()
    return MAGIC + len(head).to_bytes(4, "little") + head + body


@pytest.mark.parametrize(("change", "message"), [
    (lambda h: h.update(version=2), "newer than this tool"),
    (lambda h: h.update(kind="something-else"), "another kind"),
    (lambda h: h.update(census={"dict": "many"}), "bad census"),
    (lambda h: h["sections"][3].update(items=10**9), "claims"),
    (lambda h: h["sections"][3].update(items=h["sections"][3]["items"] + 1),
     "differ in length|holds other"),
    (lambda h: h["sections"][0].update(width=3), "bad section"),
    (lambda h: h["sections"].pop(), "lacks its|data after"),
    (lambda h: h["sections"][-1].update(items=h["sections"][-1]["items"] + 1),
     "differ in length"),
])
def test_hostile_or_wrong_headers_are_refused(change, message):
    header, body = header_of(sample())
    change(header)
    with pytest.raises(SnapshotError, match=message):
        read_everything(with_header(header, body))


def test_files_without_the_derived_per_frame_columns_diff_the_same():
    """Per-frame totals are stored to spare a diff the pass over every traceback; a file
    without them (written before they existed) still reads, and gives the same numbers."""
    data = sample()
    header, body = header_of(data)
    kept, offset, parts = [], 0, []
    for section in header["sections"]:
        stored = body[offset:offset + section["stored"]]
        offset += section["stored"]
        if section["name"] not in DERIVED:
            kept.append(section)
            parts.append(stored)
    assert len(kept) == len(header["sections"]) - len(DERIVED)
    header["sections"] = kept
    bare = model.decode(with_header(header, b"".join(parts)))
    full = model.decode(data)
    older = Snapshot.from_traces([(0, 5, (("/app/a.py", 1), ("/app/b.py", 2)), 2)], 2)
    for key, cumulative in (("lineno", False), ("filename", False), ("lineno", True)):
        assert (snapshot_diff.diff(older, bare, key, cumulative, limit=None)
                == snapshot_diff.diff(older, full, key, cumulative, limit=None))
    assert {c: list(bare.column(c)) for c in DERIVED} == {
        c: list(full.column(c)) for c in DERIVED}


def test_a_billion_claimed_blocks_allocate_nothing_up_front():
    header, body = header_of(sample())
    for section in header["sections"]:
        if section["name"] in ("trace_size", "trace_domain"):
            section["items"] = 10**9
    tracemalloc.start()
    try:
        with pytest.raises(SnapshotError, match="claims"):
            read_everything(with_header(header, body))
        assert tracemalloc.get_traced_memory()[1] < 10 << 20
    finally:
        tracemalloc.stop()


def test_zip_bomb_column_stops_at_its_declared_size():
    header, body = header_of(sample())
    bomb = zlib.compress(b"\0" * (50 << 20))
    # Replace the last column with a bomb while declaring its original size.
    last = header["sections"][-1]
    body = body[:len(body) - last["stored"]] + bomb
    last["stored"] = len(bomb)
    with pytest.raises(SnapshotError, match="holds other than"):
        read_everything(with_header(header, body))


@pytest.mark.parametrize("column", ["tb_first", "tb_rest"])
def test_references_past_a_table_are_caught(column):
    traces = [(0, 8, (("/a.py", 1), ("/b.py", 2)), 2)]
    snap = Snapshot.from_traces(traces, 2)
    snap._columns[column] = type(snap.column(column))("B", [5])
    with pytest.raises(SnapshotError, match="refers past"):
        read_everything(snapshot_file.encode(snap))


def test_pickles_and_json_are_named_not_read(tmp_path):
    path = tmp_path / "old.pickle"
    path.write_bytes(pickle.dumps({"not": "a snapshot"}))
    with pytest.raises(SnapshotError, match="pickle.*--trust-pickle"):
        model.load(path)
    (tmp_path / "r.json").write_text('{"format": "leak-forensics-report"}')
    with pytest.raises(SnapshotError, match="JSON"):
        model.load(tmp_path / "r.json")
    with pytest.raises(SnapshotError, match="cannot read"):
        model.load(tmp_path / "missing.lfsnap")


def test_save_replaces_a_file_whole_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "s.lfsnap"
    target.write_bytes(b"previous")
    Snapshot.from_traces([(0, 8, (("/a.py", 1),), 1)], 1).save(target)
    assert model.load(target).total_size == 8
    assert [p.name for p in tmp_path.iterdir()] == ["s.lfsnap"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), st.integers(0, 2000))
def test_fuzzed_files_only_ever_raise_snapshot_error(noise, position):
    data = sample()
    position %= len(data)
    for damaged in (MAGIC + noise, data[:position] + noise + data[position + len(noise):],
                    data[:position] + noise):
        with contextlib.suppress(SnapshotError):
            read_everything(damaged)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20),
       st.sampled_from(["meta", "census", "garbage", "sections", "version", "kind"]))
def test_fuzzed_header_fields_only_ever_raise_snapshot_error(value, field):
    header, body = header_of(sample())
    header[field] = value
    with contextlib.suppress(SnapshotError):
        read_everything(with_header(header, body))
