"""The figures behind the memory_monitor fixture."""

import tracemalloc

from leak_forensics.measure.monitor import MemoryMonitor


def test_growth_past_the_threshold_is_one_line_naming_the_test_and_both_sizes():
    monitor = MemoryMonitor()
    monitor.rss_before -= 20 << 20  # as if the test had grown the process by 20 MiB
    message = monitor.growth_message("t.py::test_x", threshold=10 << 20)
    assert message is not None and "\n" not in message
    assert message.startswith("t.py::test_x: memory grew by 2")
    assert message.endswith("over the memory_monitor threshold of 10.0 MiB")
    assert monitor.growth_message("t.py::test_x", threshold=100 << 20) is None


def test_traced_figures_follow_tracemalloc():
    assert not tracemalloc.is_tracing()
    assert MemoryMonitor().traced_delta is None
    tracemalloc.start()
    try:
        monitor = MemoryMonitor()
        kept = [bytes(1000) for _ in range(100)]
        assert monitor.traced_delta is not None and monitor.traced_delta >= 100_000
        del kept
    finally:
        tracemalloc.stop()
    assert monitor.traced_delta is None
