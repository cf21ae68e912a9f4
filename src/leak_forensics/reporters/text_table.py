"""The tables of ``leak-forensics diff`` and ``show``, laid out as tabulate's "simple" format.

Those commands run once per call and are measured from a fresh process
(``benchmarks/startup.py``); tabulate 0.10 reads its own version from the package metadata
when imported, and ``importlib.metadata`` alone costs more than a whole diff of small
files. The pytest report keeps tabulate (pytest has imported the metadata already). A unit
test holds this layout to tabulate's, cell for cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: Extra width of a column over its header, as tabulate pads headers.
_HEADER_PADDING = 2


def table(rows: Iterable[Sequence[str]], headers: Sequence[str],
          right: int) -> str:
    """``rows`` under ``headers``; the first ``right`` columns right-aligned (numbers), the
    rest left-aligned. A cell may hold several lines (a traceback); its row grows to fit."""
    cells = [[cell.split("\n") for cell in row] for row in rows]
    widths = [max([len(header) + _HEADER_PADDING,
                   *(len(line) for row in cells for line in row[column])])
              for column, header in enumerate(headers)]

    def line(texts: Sequence[str]) -> str:
        return "  ".join(text.rjust(width) if column < right else text.ljust(width)
                         for column, (text, width) in enumerate(zip(texts, widths, strict=True))
                         ).rstrip()

    out = [line(headers), "  ".join("-" * width for width in widths)]
    for row in cells:
        height = max(len(cell) for cell in row)
        out += [line([cell[i] if i < len(cell) else "" for cell in row]) for i in range(height)]
    return "\n".join(out)
