"""The buffer that holds a measured test's subtest reports without allocating."""

import gc

from leak_forensics.measure.meter import Gauge, Reading
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
    gauge = Gauge()  # keeps its readings where they allocate nothing
    gc.collect()  # as the probe does at both ends: free lists emptied
    gauge.mark()
    for _ in range(50):
        buffer.put(blob)
    gc.collect()
    grown = gauge.since_mark()  # not inside the assert: its rewriting allocates first
    assert grown == Reading(0, 0)
