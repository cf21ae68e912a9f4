"""The slot names ``copyreg`` caches on a class as one of its instances is pickled or
copied, forgotten at a span's end. (Copied here: a class made in a function cannot be
pickled, and copying asks ``copyreg`` the same way.)"""

import copy
import copyreg

import pytest
from conftest import kept_by_lines_of

from leak_forensics.cleanup import stdlib_caches
from leak_forensics.cleanup.stdlib_caches import SlotNames


@pytest.fixture
def names(monkeypatch):
    """A recorder installed for this test only (monkeypatch puts the original back)."""
    monkeypatch.setattr(copyreg, "_slotnames", copyreg._slotnames)
    recorder = SlotNames(size=3)
    recorder.install()
    return recorder


def _fresh_class():
    class Fresh:
        __slots__ = ("x",)

        def __init__(self):
            self.x = 1
    return Fresh


def test_the_names_cached_since_the_last_end_are_forgotten(names):
    cls = _fresh_class()
    assert copy.copy(cls()).x == 1
    assert cls.__dict__["__slotnames__"] == ["x"]
    names()
    assert "__slotnames__" not in cls.__dict__
    names()  # nothing noted any more
    assert copy.copy(cls()).x == 1  # and copying still works
    assert cls.__dict__["__slotnames__"] == ["x"]


def test_names_cached_before_it_was_installed_stay(monkeypatch):
    monkeypatch.setattr(copyreg, "_slotnames", copyreg._slotnames)
    earlier = _fresh_class()
    copy.copy(earlier())
    recorder = SlotNames()
    recorder.install()
    copy.copy(earlier())
    recorder()
    assert earlier.__dict__["__slotnames__"] == ["x"]


def test_past_its_size_the_other_classes_keep_their_names(names):
    classes = [_fresh_class() for _ in range(4)]
    for cls in classes:
        copy.copy(cls())
    names()
    assert ["__slotnames__" in cls.__dict__ for cls in classes] == [False, False, False, True]


def test_noting_a_class_keeps_no_memory(names):
    classes = [_fresh_class() for _ in range(3)]

    def note() -> None:
        for cls in classes:
            copyreg._slotnames(cls)

    assert kept_by_lines_of(stdlib_caches.__file__, note) == []
    assert all("__slotnames__" in cls.__dict__ for cls in classes)
