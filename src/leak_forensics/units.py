"""Byte counts as people read them, for the terminal summary and the command line alike."""


def size_text(n: int, signed: bool = False) -> str:
    """``512 B``, ``1.5 KiB``, ``-3.0 MiB``; with ``signed``, growth shows its ``+``."""
    sign = ("+" if n > 0 else "-" if n < 0 else "") if signed else ("-" if n < 0 else "")
    value = abs(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{sign}{value} {unit}" if unit == "B" else f"{sign}{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
