"""Importing a ``tracemalloc`` ``Snapshot.dump()`` pickle: the one place a pickle is read.

Loading a pickle runs any code it contains, so it is refused unless the user says they
trust the file; ``diff`` and ``show`` never unpickle anything.
"""

from __future__ import annotations

import os
import time

from ..errors import BadInput
from . import file as snapshot_file
from .model import Snapshot


def from_pickle(source: str, *, trust: bool) -> Snapshot:
    """The snapshot in a ``Snapshot.dump()`` file; ``BadInput`` (one line) if it is not
    one, or if ``trust`` is false."""
    import pickle
    import tracemalloc

    try:
        with open(source, "rb") as handle:
            start = handle.read(len(snapshot_file.MAGIC))
    except OSError as exc:
        raise BadInput(f"{source}: cannot read: {exc.strerror or exc}") from None
    if start == snapshot_file.MAGIC:
        raise BadInput(f"{source} is already a leak-forensics snapshot")
    if not trust:
        raise BadInput(f"{source}: refusing to read a pickle, because loading one runs "
                       "any code it contains; if you trust where it came from, add "
                       "--trust-pickle")
    try:
        with open(source, "rb") as handle:
            loaded = pickle.load(handle)
    except Exception as exc:  # a pickle can fail in any way at all
        raise BadInput(f"{source}: not a readable pickle ({type(exc).__name__}: "
                       f"{exc})") from None
    if not isinstance(loaded, tracemalloc.Snapshot):
        raise BadInput(f"{source}: holds a {type(loaded).__name__}, not a tracemalloc "
                       "snapshot (Snapshot.dump)")
    created = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(os.stat(source).st_mtime))
    try:
        return Snapshot.from_tracemalloc(
            loaded, meta={"created": created, "converted_from": os.path.basename(source)})
    except (ValueError, TypeError, IndexError) as exc:
        raise BadInput(f"{source}: malformed tracemalloc snapshot ({exc})") from None
