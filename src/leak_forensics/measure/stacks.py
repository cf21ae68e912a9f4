"""The caller's stack, read without leaving anything behind in the measured run.

Reading a frame makes it a frame object that lives as long as the frame runs. pytest's
outer frames outlive the test, so reading them would show as memory the test kept; the
walk stops at the first frame of the test harness instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType

from ..types import Frames

_LIMIT = 64  # ORMs put ~20 frames between the user's line and the event
#: Bound once, for every stack walk of the plugin's: a test may take ``sys._getframe``
#: away (attrs' suite does, with monkeypatch).
getframe = sys._getframe


def make_reader(harness: Callable[[str], bool]) -> Callable[[int], Frames]:
    """``read(skip)``: the stack above ``skip`` frames of the caller's, innermost first,
    up to and including the first harness frame."""

    def read(skip: int = 0) -> Frames:
        frames: list[tuple[str, int]] = []
        frame: FrameType | None = getframe(skip + 1)
        while frame is not None and len(frames) < _LIMIT:
            filename = frame.f_code.co_filename
            frames.append((filename, frame.f_lineno))
            frame = None if harness(filename) else frame.f_back
        return tuple(frames)

    return read
