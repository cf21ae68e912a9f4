"""The snapshot commands' own table layout is tabulate's "simple" layout, cell for cell."""

import pytest
from tabulate import tabulate

from leak_forensics.reporters.text_table import table

CASES = [
    (["size diff", "size", "count diff", "count", "traceback (most recent call last)"],
     [["+1.2 KiB", "3 KiB", "+10", "12", "app.py:4\n/lib/x.py:9\nx"],
      ["-600 B", "2.1 MiB", "-3", "16,126", "<frozen importlib._bootstrap>:1147"],
      ["+8 B", "8 B", "+1", "1", "short"]]),
    (["count", "type"], [["+1", "a-much-longer-type-name"], ["+1,000,000", "int"]]),
    (["size", "count", "site"], [["1 B", "1", ""]]),
]


@pytest.mark.parametrize(("headers", "rows"), CASES)
def test_layout_is_tabulates_simple_format(headers: list[str], rows: list[list[str]]) -> None:
    expected = tabulate(rows, headers=headers, disable_numparse=True,
                        colalign=("right",) * (len(headers) - 1) + ("left",))
    assert table(rows, headers, right=len(headers) - 1) == expected
