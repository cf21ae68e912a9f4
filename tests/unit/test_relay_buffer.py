"""The buffer that holds a measured test's subtest reports without allocating."""

from conftest import kept_by_lines_of

from leak_forensics.plugin import relay
from leak_forensics.plugin.relay import _Buffer


def test_reports_come_back_in_order_and_the_buffer_is_reusable():
    buffer = _Buffer(4096)
    blobs = [bytes([n]) * (10 + n) for n in range(5)]
    assert all(buffer.put(blob) for blob in blobs)
    assert buffer.take() == blobs
    assert buffer.take() == []
    assert buffer.put(b"again") and buffer.take() == [b"again"]


def test_a_full_buffer_refuses_instead_of_growing():
    buffer = _Buffer(1024)
    assert buffer.put(b"x" * 1000)
    assert not buffer.put(b"y" * 100)  # the caller then pauses the counters instead
    assert buffer.take() == [b"x" * 1000]
    assert not buffer.put(b"z" * 2000)


def test_holding_a_report_allocates_no_block():
    buffer = _Buffer(1 << 16)
    blob = b"r" * 700
    buffer.put(blob)  # a first write may cost glibc a few hundred bytes once

    def hold() -> None:
        for _ in range(50):
            buffer.put(blob)

    assert kept_by_lines_of(relay.__file__, hold) == []


def test_a_grown_buffer_holds_the_same_reports_and_room_for_the_next():
    buffer = _Buffer(1024)
    blobs = [bytes([n]) * 300 for n in range(3)]
    assert all(buffer.put(blob) for blob in blobs)
    assert not buffer.put(b"n" * 900)
    bigger = buffer.grown(900)
    assert len(bigger.data) >= 2 * len(buffer.data)
    assert bigger.put(b"n" * 900)
    assert bigger.take() == [*blobs, b"n" * 900]


def test_a_buffer_grows_for_the_number_of_reports_too():
    # The index has room for one report per 256 bytes: many tiny reports fill it first.
    buffer = _Buffer(1024)
    assert all(buffer.put(b"t") for _ in range(4))
    assert not buffer.put(b"t")
    bigger = buffer.grown(1)
    assert bigger.put(b"t")
    assert bigger.take() == [b"t"] * 5
