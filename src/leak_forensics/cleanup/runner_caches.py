"""The test runner's own memo of module names, held to what each window began with.

pytest's assertion rewriter is asked about every module imported while it is
installed, and remembers each name's answer for good (``_marked_for_rewrite_cache``).
Code that imports modules under a name made per run (jinja2's ``ModuleLoader`` names its
package after the loader's id; ``codecs.lookup`` tries ``encodings.<name>`` for every
unknown charset) grows that dict by an entry per run: two blocks, read as a leak of the
code under test.

The memo is not put back to its first keys: the harness itself adds names *between*
windows (its own lazy imports, xdist's), and dropping those inside the next window
would read as that test shrinking, hiding a real leak of the same size. Instead its
length is noted as each window opens (``note``), and the cleanup inside the window
drops only the names added since: dicts keep insertion order, so those are the last
ones. pytest empties the memo itself whenever it marks a new name; dropping an entry
costs only asking again. No pytest import: the finder is found on ``sys.meta_path`` by
the module that defines it.
"""

from __future__ import annotations

import sys
from itertools import islice

_REWRITER_MODULE = "_pytest.assertion.rewrite"


def _rewrite_memo() -> dict[str, bool] | None:
    for finder in sys.meta_path:
        if type(finder).__module__ == _REWRITER_MODULE:
            memo = getattr(finder, "_marked_for_rewrite_cache", None)
            return memo if isinstance(memo, dict) else None
    return None


class RewriterNames:
    """Names the rewriter memoised since the current window opened, dropped on demand.

    ``note`` runs just before a window's first count, so what it keeps (a reference and
    a length) exists at both of the window's counts and adds nothing to it.
    """

    def __init__(self) -> None:
        self._memo: dict[str, bool] | None = None
        self._length = 0
        self._forgot = False

    def note(self) -> None:
        self._memo = _rewrite_memo()
        if self._memo is not None and self._forgot:
            _make_room(self._memo)
            self._forgot = False
        self._length = len(self._memo) if self._memo is not None else 0

    def forget_new(self) -> None:
        memo = self._memo
        if memo is None or memo is not _rewrite_memo():
            return
        added = len(memo) - self._length
        if added > 0:
            for name in list(islice(reversed(memo), added)):
                del memo[name]
            self._forgot = True


def _make_room(memo: dict[str, bool]) -> None:
    """Rebuild the memo, outside any window, with room for as many names again.

    A deleted entry leaves a slot a dict never reuses until it resizes; so a test that
    adds a name each run makes the memo resize now and then, and the new table (4 KiB for
    a few hundred names) lands in whichever window runs out of room, charged to the line
    that imported: a verdict that turned on how many names other plugins had made pytest
    memoise. Compacted here, then grown once with placeholder names (a dict grows to about
    three times what it holds) and those removed, the memo takes hundreds of new names
    before it resizes again.
    """
    entries = dict(memo)
    memo.clear()
    memo.update(entries)
    size = sys.getsizeof(memo)
    placeholders: list[str] = []
    while sys.getsizeof(memo) == size:
        placeholder = f"\0leak-forensics-room-{len(placeholders)}"  # no module is named so
        memo[placeholder] = False
        placeholders.append(placeholder)
    for placeholder in placeholders:
        del memo[placeholder]
