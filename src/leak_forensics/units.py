"""Byte counts as people write them and as people read them, side by side, so the command
line, ini files and every report agree on what a size is."""

from __future__ import annotations

import re

from .errors import BadInput

_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MIB": 1 << 20,
          "G": 1 << 30, "GIB": 1 << 30}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")


def parse_size(text: str) -> int:
    """``4096``, ``512K``/``512KiB``, ``10M``/``10MiB``, ``1.5G``: binary units only, so
    "KB" (1000 or 1024?) is refused rather than guessed."""
    found = _SIZE.fullmatch(text)
    unit = _UNITS.get(found.group(2).upper()) if found else None
    if found is None or unit is None:
        raise BadInput(f"{text!r} is not a size (bytes, or a number with K, M, G / KiB, MiB, "
                       "GiB)")
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
