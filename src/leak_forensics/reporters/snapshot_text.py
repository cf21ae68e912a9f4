"""How ``leak-forensics diff`` and ``show`` print: tables for people, JSON for machines."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from ..snapshot.diff import SiteDiff, SnapshotDiff, TypeDiff
from ..snapshot.model import Snapshot
from ..types import Frame
from ..units import size_text
from .text_table import table

DIFF_FORMAT = "leak-forensics-diff"
SHOW_FORMAT = "leak-forensics-snapshot-summary"
FORMAT_VERSION = 1


def _count(n: int, signed: bool = False) -> str:
    return f"{n:+,}" if signed else f"{n:,}"


def _shorten(filename: str) -> str:
    """Paths under the current directory print relative to it."""
    here = os.getcwd() + os.sep
    return filename[len(here):] if filename.startswith(here) else filename


def _site(frames: Sequence[Frame], key: str) -> str:
    if key == "filename":
        return _shorten(frames[0][0])
    # Python's order for a traceback: most recent call last.
    return "\n".join(f"{_shorten(name)}:{line}" for name, line in reversed(frames))


def _table(rows: Iterable[Sequence[str]], headers: Sequence[str]) -> str:
    """Numbers right-aligned, the site or type (the last column) left-aligned."""
    return table(rows, headers, right=len(headers) - 1)


def origin(path: str, snapshot: Snapshot) -> str:
    meta = snapshot.meta
    parts = [str(meta[k]) for k in ("test", "label", "created") if meta.get(k)]
    described = f" ({'; '.join(parts)})" if parts else ""
    return (f"{path}{described}: {_count(snapshot.total_count)} blocks, "
            f"{size_text(snapshot.total_size)}")


def diff_text(result: SnapshotDiff, old: str, new: str) -> str:
    lines = [f"old: {old}", f"new: {new}",
             f"growth: {size_text(result.size_diff, True)} in "
             f"{_count(result.count_diff, True)} blocks; top {len(result.sites)} of "
             f"{_count(result.groups)} {_group_name(result)}", ""]
    if result.sites:
        head = "traceback (most recent call last)" if result.key == "traceback" else "site"
        lines.append(_table(
            ((size_text(s.size_diff, True), size_text(s.size), _count(s.count_diff, True),
              _count(s.count), _site(s.frames, result.key)) for s in result.sites),
            ["size diff", "size", "count diff", "count", head]))
    if result.types:
        lines += ["", "live objects by type:",
                  _table(((_count(t.count_diff, True), _count(t.count), t.type)
                          for t in result.types), ["count diff", "count", "type"])]
    elif result.types is None:
        lines += ["", "no type census to compare (one of the files has none)"]
    return "\n".join(lines)


def _group_name(result: SnapshotDiff) -> str:
    kind = {"lineno": "lines", "filename": "files", "traceback": "tracebacks"}[result.key]
    return f"{kind}{' (cumulative)' if result.cumulative else ''}"


def show_text(path: str, snapshot: Snapshot, top: SnapshotDiff,
              types: Sequence[TypeDiff]) -> str:
    meta = snapshot.meta
    described = [f"{k}: {meta[k]}" for k in
                 ("test", "label", "created", "python", "platform", "tool", "traceback_limit")
                 if meta.get(k) is not None]
    lines = [f"snapshot: {path}", *described,
             f"traced: {size_text(snapshot.total_size)} in {_count(snapshot.total_count)} "
             f"blocks, {_count(snapshot.traceback_count)} distinct tracebacks", ""]
    if top.sites:
        lines.append(_table(((size_text(s.size), _count(s.count), _site(s.frames, top.key))
                             for s in top.sites),
                            ["size", "count", "traceback" if top.key == "traceback" else "site"]))
    if types:
        lines += ["", "live objects by type:",
                  _table(((_count(t.count), t.type) for t in types), ["count", "type"])]
    if snapshot.garbage:
        lines += ["", "uncollectable (in gc.garbage): " + ", ".join(
            f"{n} {name}" for name, n in sorted(snapshot.garbage.items(), key=lambda i: -i[1]))]
    return "\n".join(lines)


def _site_json(s: SiteDiff) -> dict[str, object]:
    return {"frames": [{"filename": f, "lineno": n} for f, n in s.frames],
            "size": s.size, "size_diff": s.size_diff, "count": s.count,
            "count_diff": s.count_diff}


def _meta_json(path: str, snapshot: Snapshot) -> dict[str, object]:
    return {"path": path, "meta": snapshot.meta, "size": snapshot.total_size,
            "count": snapshot.total_count}


def diff_json(result: SnapshotDiff, old: tuple[str, Snapshot], new: tuple[str, Snapshot]
              ) -> dict[str, object]:
    return {"format": DIFF_FORMAT, "format_version": FORMAT_VERSION, "key": result.key,
            "cumulative": result.cumulative, "old": _meta_json(*old), "new": _meta_json(*new),
            "total": {"size": result.size, "size_diff": result.size_diff,
                      "count": result.count, "count_diff": result.count_diff},
            "groups": result.groups, "sites": [_site_json(s) for s in result.sites],
            "types": None if result.types is None else
            [{"type": t.type, "count": t.count, "count_diff": t.count_diff}
             for t in result.types]}


def show_json(path: str, snapshot: Snapshot, top: SnapshotDiff,
              types: Sequence[TypeDiff]) -> dict[str, object]:
    return {"format": SHOW_FORMAT, "format_version": FORMAT_VERSION, **_meta_json(path, snapshot),
            "tracebacks": snapshot.traceback_count, "key": top.key,
            "sites": [{k: v for k, v in _site_json(s).items() if not k.endswith("_diff")}
                      for s in top.sites],
            "types": [{"type": t.type, "count": t.count} for t in types],
            "garbage": snapshot.garbage}
