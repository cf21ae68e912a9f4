"""The snapshot file: a JSON header and zlib-compressed columns. Never a pickle.

Layout::

    MAGIC (8 bytes) | header length (4 bytes, little-endian) | header (UTF-8 JSON)
    | section | section | ...            (in the order the header lists them)

The header holds the metadata, the type census, the ``gc.garbage`` summary and, per
section, its name, element width, element count and stored length. Each column is its
own zlib stream, so a diff decompresses only the columns it reads. Integers are
little-endian, each column in the narrowest of 1, 2, 4 or 8 bytes that holds it.

Reading trusts nothing: lengths must add up to the file's size before anything is
decompressed, a column never decompresses past the size its count implies, every
reference between columns is checked (those into the frame table from ``tb_rest``, the
longest column, where they are read), and the header may not claim more data than a
compressed file of that size could plausibly hold, so a hostile count fails fast
instead of allocating.
"""

from __future__ import annotations

import json
import os
import re
import sys
import zlib
from array import array
from collections.abc import Callable, Sequence
from itertools import accumulate

from ..errors import SnapshotError
from ..files import write_atomically
from .columns import COLUMNS, DERIVED, packed

TYPE_CHECKING = False  # typing's own import would be a tenth of a small diff's run time
if TYPE_CHECKING:
    from typing import Protocol, TypedDict

    class Columns(Protocol):
        """What the file holds of a snapshot (``model.Snapshot`` is one)."""

        meta: dict[str, object]
        census: dict[str, int] | None
        garbage: dict[str, int] | None

        @property
        def filenames(self) -> list[str]: ...

        def column(self, name: str) -> Sequence[int]: ...

    class Parts(TypedDict):
        """What reading a file gives, to build a ``model.Snapshot`` from; columns load
        on first use."""

        meta: dict[str, object]
        columns: Callable[[str], Sequence[int] | list[str]]
        census: dict[str, int] | None
        garbage: dict[str, int] | None
        source: str

MAGIC = b"\x89LFSNAP\n"
KIND = "leak-forensics-snapshot"
FORMAT_VERSION = 1
SUFFIX = ".lfsnap"
_HEADER_LIMIT = 64 << 20
# zlib can shrink a run of zeros ~1000x, but a whole snapshot compresses 3-10x; a file
# claiming more than this much data per stored byte is refused before decompressing.
_EXPANSION_LIMIT = 200
_EXPANSION_FLOOR = 64 << 20
_TYPECODES = {array(code).itemsize: code for code in "QLIHB"}  # 'I' wins for width 4
_TEXT = "filename_text"
_TEXT_LENGTHS = "filename_bytes"


# -- writing -----------------------------------------------------------------------------

def _encode_column(values: Sequence[int]) -> tuple[int, bytes]:
    column = values if isinstance(values, array) else packed(list(values))
    if sys.byteorder == "big":
        column = array(column.typecode, column)
        column.byteswap()
    return column.itemsize, column.tobytes()


def encode(snapshot: Columns, level: int = 6) -> bytes:
    """The file's bytes; ``save`` writes them."""
    sections: list[dict[str, object]] = []
    payloads: list[bytes] = []

    def add(name: str, width: int, items: int, raw: bytes) -> None:
        stored = zlib.compress(raw, level)
        sections.append({"name": name, "width": width, "items": items,
                         "stored": len(stored)})
        payloads.append(stored)

    encoded = [name.encode("utf-8", "surrogatepass") for name in snapshot.filenames]
    text = b"".join(encoded)
    lengths = [len(e) for e in encoded]
    width, raw = _encode_column(lengths)
    add(_TEXT_LENGTHS, width, len(lengths), raw)
    add(_TEXT, 1, len(text), text)
    for name, kind in COLUMNS.items():
        if kind == "u":
            values = snapshot.column(name)
            width, raw = _encode_column(values)
            add(name, width, len(values), raw)
    header = {"kind": KIND, "version": FORMAT_VERSION, "meta": snapshot.meta,
              "census": snapshot.census, "garbage": snapshot.garbage, "sections": sections}
    head = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass")
    return b"".join([MAGIC, len(head).to_bytes(4, "little"), head, *payloads])


def save(snapshot: Columns, path: str | os.PathLike[str]) -> None:
    write_atomically(path, encode(snapshot))


def safe_stem(nodeid: str) -> str:
    """A file name for a test id on any file system: readable, bounded, unique.

    Characters outside ``[A-Za-z0-9._-]`` become ``_``, long ids are cut, and a digest
    of the full id keeps two ids that read alike (``a/b`` and ``a:b``) apart.
    """
    import hashlib
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid).strip("._")[:80]
    return f"{readable}-{hashlib.sha256(nodeid.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


# -- reading -----------------------------------------------------------------------------

def read(path: str | os.PathLike[str]) -> Parts:
    """Read a snapshot file; any defect is a ``SnapshotError`` with a one-line message."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return decode(data, str(path))


def decode(data: bytes, name: str = "snapshot") -> Parts:
    if not data.startswith(MAGIC):
        raise SnapshotError(f"{name}: {_what_it_is(data)}")
    body = len(MAGIC) + 4
    if len(data) < body:
        raise SnapshotError(f"{name}: truncated snapshot (no header)")
    size = int.from_bytes(data[len(MAGIC):body], "little")
    if size > min(len(data) - body, _HEADER_LIMIT):
        raise SnapshotError(f"{name}: truncated or corrupted snapshot (header length {size})")
    try:
        header = json.loads(data[body:body + size].decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SnapshotError(f"{name}: corrupted snapshot header") from None
    return _Reader(name, memoryview(data)[body + size:], header).parts()


def _what_it_is(data: bytes) -> str:
    if not data:
        return "empty file, not a snapshot"
    if data[:1] == b"\x80":
        return ("this looks like a pickle (tracemalloc's Snapshot.dump?); it is not read, "
                "because loading a pickle runs any code in it. If you trust its origin: "
                "leak-forensics convert --trust-pickle FILE OUT.lfsnap")
    if data.lstrip()[:1] in (b"{", b"["):
        return "a JSON file, not a snapshot (for a report: leak-forensics report FILE)"
    return "not a leak-forensics snapshot (no snapshot signature at its start)"


def _check(condition: bool, name: str, message: str) -> None:
    if not condition:
        raise SnapshotError(f"{name}: {message}")


class _Reader:
    def __init__(self, name: str, body: memoryview, header: object) -> None:
        self.name = name
        _check(isinstance(header, dict) and header.get("kind") == KIND, name,
               "not a leak-forensics snapshot (its header names another kind)")
        assert isinstance(header, dict)
        version = header.get("version")
        if not isinstance(version, int):
            raise SnapshotError(f"{name}: corrupted snapshot header (no version)")
        _check(version <= FORMAT_VERSION, name,
               f"snapshot format version {version} is newer than this tool reads "
               f"({FORMAT_VERSION}); upgrade pytest-leak-forensics")
        self.header = header
        self.sections: dict[str, tuple[int, int, int, int]] = {}  # width, items, start, end
        listed = header.get("sections")
        if not isinstance(listed, list):
            raise SnapshotError(f"{name}: corrupted snapshot header (no sections)")
        offset, claimed = 0, 0
        for entry in listed:
            _check(isinstance(entry, dict), name, "corrupted snapshot header (bad section)")
            sname, width = entry.get("name"), entry.get("width")
            items, stored = entry.get("items"), entry.get("stored")
            _check(isinstance(sname, str) and width in _TYPECODES
                   and _is_count(items) and _is_count(stored), name,
                   "corrupted snapshot header (bad section entry)")
            self.sections[sname] = (width, items, offset, offset + stored)
            offset += stored
            claimed += width * items
        _check(offset <= len(body), name,
               f"truncated snapshot ({len(body)} of {offset} bytes of data present)")
        _check(offset == len(body), name, "corrupted snapshot (data after its last section)")
        _check(claimed <= max(_EXPANSION_LIMIT * len(body), _EXPANSION_FLOOR), name,
               f"corrupted or hostile snapshot (claims {claimed} bytes of data in "
               f"{len(body)} stored)")
        self.body = body
        for column in (_TEXT_LENGTHS, _TEXT, *(c for c, k in COLUMNS.items()
                                               if k == "u" and c not in DERIVED)):
            _check(column in self.sections, name, f"snapshot lacks its {column} column")
        items = {c: self.sections[c][1] for c in self.sections}
        # Columns that describe the same rows must agree on how many there are.
        for group in (("frame_file", "frame_line",
                       *(c for c in DERIVED if c in self.sections)),
                      ("tb_first", "tb_rest_length", "tb_total_nframe", "tb_digest",
                       "tb_count", "tb_size"),
                      ("trace_size", "trace_domain")):
            _check(len({items[c] for c in group}) == 1, name,
                   f"corrupted snapshot (columns {', '.join(group)} differ in length)")

    def parts(self) -> Parts:
        meta, census, garbage = (self.header.get(k) for k in ("meta", "census", "garbage"))
        if not isinstance(meta, dict):
            raise SnapshotError(f"{self.name}: corrupted snapshot header (no metadata)")
        for table, label in ((census, "census"), (garbage, "garbage")):
            _check(table is None or (isinstance(table, dict) and all(
                isinstance(k, str) and _is_count(v) for k, v in table.items())),
                self.name, f"corrupted snapshot header (bad {label})")
        parts: Parts = {"meta": meta, "columns": self.column, "census": census,
                        "garbage": garbage, "source": self.name}
        return parts

    def _raw(self, section: str) -> bytes:
        width, items, start, end = self.sections[section]
        expected = width * items
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(self.body[start:end], expected)
            complete = inflater.eof and not inflater.unconsumed_tail
        except zlib.error:
            raise SnapshotError(f"{self.name}: corrupted snapshot ({section} column does not "
                                "decompress)") from None
        _check(complete and len(raw) == expected, self.name,
               f"corrupted snapshot ({section} column holds other than {items} values)")
        return raw

    def _ints(self, section: str) -> array[int]:
        values = array(_TYPECODES[self.sections[section][0]])
        values.frombytes(self._raw(section))
        if sys.byteorder == "big":
            values.byteswap()
        return values

    def column(self, name: str) -> Sequence[int] | list[str]:
        if name == "filenames":
            text, lengths = self._raw(_TEXT), self._ints(_TEXT_LENGTHS)
            _check(sum(lengths) == len(text), self.name,
                   "corrupted snapshot (filename lengths do not match their text)")
            ends = list(accumulate(lengths))
            try:
                return [text[a:b].decode("utf-8", "surrogatepass")
                        for a, b in zip([0, *ends], ends, strict=False)]
            except UnicodeDecodeError:
                raise SnapshotError(f"{self.name}: corrupted snapshot (filenames are not "
                                    "UTF-8)") from None
        if name not in self.sections:
            raise KeyError(name)  # a derived column the writer left out: Snapshot makes it
        values = self._ints(name)
        bound = self._bound(name)
        if bound is not None:
            _check(max(values, default=-1) < bound, self.name,
                   f"corrupted snapshot ({name} refers past the end of its table)")
        total = {"tb_rest_length": "tb_rest", "tb_count": "trace_size"}.get(name)
        if total is not None:
            _check(sum(values) == self.sections[total][1], self.name,
                   f"corrupted snapshot ({name} does not add up to the {total} column)")
        return values

    def _bound(self, name: str) -> int | None:
        if name == "frame_file":
            return self.sections[_TEXT_LENGTHS][1]
        if name == "tb_first":  # tb_rest is checked where it is read: it is the longest
            return self.sections["frame_file"][1]
        return None


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0
