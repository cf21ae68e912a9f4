"""Measuring a property-based test example by example (``integrations.hypothesis_examples``)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from leak_forensics.analysis.attribution import FrameClassifier
from leak_forensics.cleanup.sweep import CleanupPass
from leak_forensics.integrations.hypothesis_examples import each_example, handle
from leak_forensics.measure.heap import HeapWindow
from leak_forensics.probe import Probe


@settings(max_examples=15, database=None)
@given(st.integers())
def _property(n):
    _property.seen.append(n)


_property.seen = []


@given(st.integers())
async def _async_property(n):
    pass


def _plain(n):
    pass


def test_only_a_synchronous_given_test_has_a_handle():
    assert handle(_property) is _property.hypothesis
    assert handle(_plain) is None
    assert handle(None) is None
    # pytest-asyncio and pytest-trio wrap an async one's inner_test themselves: a span
    # around the call would close before the body ran.
    assert handle(_async_property) is None


def test_each_example_runs_between_begin_and_end_and_the_handle_gets_its_own_back():
    found = handle(_property)
    own = found.inner_test
    events = []
    _property.seen.clear()
    with each_example(found, lambda: events.append("begin"), lambda: events.append("end")):
        _property()
    assert found.inner_test is own
    assert len(_property.seen) >= 1
    assert events == ["begin", "end"] * len(_property.seen)


def test_the_handle_gets_its_own_back_when_the_property_fails():
    @settings(max_examples=5, database=None)
    @given(st.integers())
    def failing(n):
        raise ValueError(n)

    found = handle(failing)
    own = found.inner_test
    ends = []
    try:
        with each_example(found, lambda: None, lambda: ends.append(1)):
            failing()
    except ValueError:
        pass
    else:
        raise AssertionError("the property's failure was swallowed")
    assert found.inner_test is own
    assert ends  # every example's span was closed, the failing ones too


def test_an_error_opening_an_example_span_is_kept_not_raised_into_the_test(tmp_path):
    """The example spans open inside the test's own run: an error there must leave the
    test's outcome alone and mark the reading broken (the test is reported unchecked)."""
    class BrokenHeap(HeapWindow):
        def refreeze(self) -> None:
            raise RuntimeError("no freezing today")

    heap = BrokenHeap()
    probe = Probe(FrameClassifier(str(tmp_path)), heap, CleanupPass(heap), warn=print)
    probe.begin()
    try:
        probe.open_span_apart()
        probe.close_span()
    finally:
        probe.end()
        heap.release()
    assert isinstance(probe.broken, RuntimeError)
