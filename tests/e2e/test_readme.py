"""The README's output is the code's: each line of its ``make demo`` block appears, in
order, in what the demo prints today (sizes and numbers aside, which differ between
Python versions), so ``.LL`` against ``LLL`` cannot drift again."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- output of make demo -->"


def normalised(line: str) -> str:
    """Sizes and numbers as placeholders, runs of spaces as one (a wider number moves a
    table's columns)."""
    line = re.sub(r"\d+(\.\d+)? (B|KiB|MiB)\b", "SIZE", line)
    line = re.sub(r"\d+", "N", line)
    return " ".join(line.split())


def readme_block() -> list[str]:
    text = (ROOT / "README.md").read_text()
    after = text[text.index(MARKER) + len(MARKER):]
    body = after[after.index("```\n") + 4:]
    return body[:body.index("```")].splitlines()


def test_the_readme_shows_what_make_demo_prints(run_forensics, pytester):
    shutil.copytree(ROOT / "examples" / "demo", pytester.path, dirs_exist_ok=True)
    result, _, _ = run_forensics()
    printed = [normalised(line) for line in result.stdout.lines]
    position = 0
    for line in readme_block():
        if not line.strip():
            continue
        wanted = normalised(line)
        try:
            position = printed.index(wanted, position) + 1
        except ValueError:
            raise AssertionError(f"the README shows a line `make demo` no longer prints, or "
                                 f"not in this order:\n{line}") from None
