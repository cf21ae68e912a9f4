"""Byte counts as people write them and as people read them, side by side, so the command
line, ini files and every report agree on what a size is."""

from __future__ import annotations

import re

from .errors import BadInput

_UNITS = {"": 1, "B": 1,
          **{unit: 1 << 10 for unit in ("K", "KB", "KIB")},
          **{unit: 1 << 20 for unit in ("M", "MB", "MIB")},
          **{unit: 1 << 30 for unit in ("G", "GB", "GIB")}}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")


def parse_size(text: str) -> int:
    """``4096``, ``512K``, ``512 KiB``, ``10MB``, ``1.5G``, any case. Every unit is
    binary: ``MB`` is read as MiB, as pytest-memray and most memory tools read it, since
    a size limit written "10 MB" is meant as the reports print it (``10.0 MiB``)."""
    found = _SIZE.fullmatch(text)
    unit = _UNITS.get(found.group(2).upper()) if found else None
    if found is None or unit is None:
        raise BadInput(f"{text!r} is not a size (bytes, or a number with K, M or G, e.g. "
                       "512K, 10 MB, 1.5GiB)")
    return int(float(found.group(1)) * unit)


def size_text(n: int, signed: bool = False) -> str:
    """``512 B``, ``1.5 KiB``, ``-3.0 MiB``; with ``signed``, growth shows its ``+``."""
    sign = ("+" if n > 0 else "-" if n < 0 else "") if signed else ("-" if n < 0 else "")
    value: float = abs(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{sign}{value} {unit}" if unit == "B" else f"{sign}{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
