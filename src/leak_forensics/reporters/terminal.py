"""The terminal summary: which tests leak, where, and what piles up — silent for clean tests."""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from ..analysis import signatures
from ..results import Owner, TestResult, Verdict
from ..settings import Settings
from ..units import size_text
from ..verdict import MALLOC_NOISE
from .run import Run

SITES_SHOWN = 5
TYPES_SHOWN = 5
HOLDERS_SHOWN = 3
GARBAGE_TESTS_SHOWN = 10


class Writer(Protocol):
    def write_sep(self, sep: str, title: str, **markup: bool) -> None: ...
    def write_line(self, line: str, **markup: bool) -> None: ...


def _source(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _traced(result: TestResult) -> bool:
    return bool(result.size_per_run or result.count_per_run)


def _least(result: TestResult, metric: str) -> int:
    """The growth of ``metric`` that every measured run had."""
    return min(result.deltas.get(metric) or [0])


def growth_text(result: TestResult) -> str:
    """How much a leak keeps per run: traced bytes and blocks when its sites were traced,
    otherwise the untraced growth that made it a leak, never "0 B"."""
    if _traced(result):
        return f"{size_text(result.size_per_run)} ({result.count_per_run} blocks)"
    blocks, malloc = _least(result, "blocks"), _least(result, "malloc")
    threads, handles = _least(result, "threads"), _least(result, "handles")
    parts = [f"{blocks} block{'s' * (blocks != 1)}" if blocks > 0 else "",
             f"{size_text(malloc)} of C memory" if malloc > MALLOC_NOISE else "",
             f"{threads} thread{'s' * (threads != 1)}" if threads > 0 else "",
             f"{handles} other resource{'s' * (handles != 1)}" if handles > 0 else ""]
    found = [p for p in parts if p]
    return (" and ".join(found) if found else "an unmeasured amount") + " (untraced)"


def describe(result: TestResult) -> list[str]:
    """The lines that explain one leaking test: the resources first (a leaked thread is
    the cause of what it keeps alive), then the sites, types and holders."""
    from tabulate import tabulate  # here: a run with nothing to describe never imports it

    lines = [f"{result.nodeid} leaks {growth_text(result)} per run"]
    lines += [f"{resource.kind}: {resource.detail}" for resource in result.resources]
    if result.sites:
        rows = [(f"{s.filename}:{s.lineno}", size_text(s.size_diff), s.count_diff,
                 _source(s.source)) for s in result.sites[:SITES_SHOWN]]
        lines += tabulate(rows, headers=["allocated at", "size/run", "blocks/run", "source"],
                          tablefmt="simple").splitlines()
    if result.types:
        rows2 = [(t.type, t.count_diff) for t in result.types[:TYPES_SHOWN]]
        lines += [""] + tabulate(rows2, headers=["type", "new objects/run"],
                                 tablefmt="simple").splitlines()
    lines += _owner_lines(result.owners)
    if result.garbage:
        lines.append("uncollectable (in gc.garbage): " + ", ".join(
            f"{g.count_diff} {g.type}" for g in result.garbage[:TYPES_SHOWN]))
    lines += [f"note: {note}" for note in result.notes]
    if "before" in result.snapshots and "after" in result.snapshots:
        lines.append(f"snapshots: leak-forensics diff {shlex.quote(result.snapshots['before'])} "
                     f"{shlex.quote(result.snapshots['after'])}")
    return lines


def _owner_lines(owners: Sequence[Owner]) -> list[str]:
    """Sampled objects under the holder where their leak begins, one block per holder;
    what a leaked thread keeps alive, in one line (its chains say nothing more)."""
    held = Counter[str]()
    for owner in owners:
        if owner.why == signatures.HELD_BY_A_THREAD:
            held[owner.type] += owner.sampled
    lines = ["kept alive by that thread (sampled): " + ", ".join(
        f"{n} {t}" for t, n in held.most_common(TYPES_SHOWN))
        + ("…" if len(held) > TYPES_SHOWN else "")] if held else []
    by_holder: dict[str, list[Owner]] = {}
    for owner in owners:
        if owner.why == signatures.HELD_BY_A_THREAD:
            continue
        # The normalised place (``_MEMO[...]``) reads the same on every run, where one
        # sampled entry's index (``_MEMO[16]``) does not.
        by_holder.setdefault(owner.where if owner.suspect else owner.root, []).append(owner)
    for holder, chains in list(by_holder.items())[:HOLDERS_SHOWN]:
        if chains[0].suspect:
            lines.append(f"the leak begins at {holder}:")
        else:
            lines.append(f"{holder}:" if holder.startswith("held ") else f"held by {holder}:")
        for owner in chains[:TYPES_SHOWN]:
            site = f", allocated at {owner.site}" if owner.site else ""
            lines.append(f"  {owner.sampled} of {owner.of} sampled {owner.type}"
                         f"{site}: {short_path(owner)}")
    return lines


def short_path(owner: Owner) -> str:
    """One sampled chain as code reads it, from the root's own name: ``_MEMO['a4'].payload
    -> list`` for ``myapp.cache._MEMO``, ``seen[4] -> Job`` for a thread frame's local
    ``seen``."""
    root, path = owner.root, owner.path
    if not path.startswith(root):
        return path
    if root.startswith("thread ") and root.endswith("'") and ", local '" in root:
        name = root[root.rindex(", local '") + len(", local '"):-1]
    elif root.endswith("'") and " closure '" in root:
        name = root[root.rindex(" closure '") + len(" closure '"):-1]
    elif root.replace(".", "").replace("_", "").isalnum():
        name = root.rsplit(".", 1)[-1]
    else:
        return path
    return name + path[len(root):]


def _leak_lines(leaking: Sequence[TestResult]) -> list[str]:
    """The leaks, one line each, most tests first: what a reader acts on."""
    groups = signatures.leak_groups(leaking)
    lines = []
    for group in groups:
        count = len(group.tests)
        who = f"shared by {count} tests" if count > 1 else "in 1 test,"
        held = ", ".join(group.types[:TYPES_SHOWN]) + ("…" if len(group.types) > TYPES_SHOWN
                                                      else "")
        size = (f", ~{size_text(group.bytes_per_run // count)} per run and test"
                if group.bytes_per_run else "")
        first = f", first seen in {group.tests[0]}" if count > 1 else f": {group.tests[0]}"
        at = f", allocated at {group.site}" if group.site and group.root != signatures.NO_HOLDER \
            else ""
        into = (f"{group.where} (no holder found: strings or numbers)"
                if group.root == signatures.NO_HOLDER else f"into {group.where}")
        lines.append(f"leak {who} {into}" + (f" ({held})" if held else "") + size + at + first)
        if group.why:
            lines.append(f"  why it is kept: {group.why}")
    return lines


def next_steps(leaking: Sequence[TestResult], settings: Settings) -> list[str]:
    """What a reader can do about the leaks, one line each, as pytest-cov says where its
    report went."""
    steps = []
    if not settings.fail:
        steps.append("fail the run on leaks (for CI): --leak-forensics-fail, or "
                     "leak_forensics_fail = true in the ini")
    first = leaking[0]
    roots = [o.root for o in first.owners if o.suspect and o.why != signatures.HELD_BY_A_THREAD
             and not o.root.startswith(signatures.ANONYMOUS_ROOTS)]
    if first.resources:
        resource = first.resources[0]
        rule = f"resource:{resource.kind} {resource.detail.split(' (')[0]}*"
    elif roots:
        rule = f"root:{roots[0]}*"
    elif first.sites:
        rule = f"site:{first.sites[0].filename}:{first.sites[0].lineno}"
    else:
        rule = "type:NAME"
    steps.append(f"accept a leak you cannot fix: leak_forensics_allow = {rule} (one rule a "
                 "line in the ini; reported apart, never failing)")
    if settings.save_dir is None:
        steps.append("compare before and after: --leak-forensics-save=DIR, then "
                     "leak-forensics diff BEFORE AFTER")
    return steps


def failure_text(result: TestResult) -> str:
    return "\n".join(["leak-forensics: this test leaks (--leak-forensics-fail)", *describe(result)])


#: Every verdict, in the order a reader acts on them, as words for a count.
_VERDICT_WORDS = {
    Verdict.LEAK: ("leaking", "leaking"),
    Verdict.KNOWN: ("known leak", "known leaks"),
    Verdict.INCONCLUSIVE: ("inconclusive", "inconclusive"),
    Verdict.UNCONFIRMED: ("unconfirmed", "unconfirmed"),
    Verdict.ERROR: ("error", "errors"),
    Verdict.CLEAN: ("clean", "clean"),
    Verdict.SKIPPED: ("skipped", "skipped"),
    Verdict.NOT_CHECKED: ("not checked", "not checked"),
}


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def count_lines(results: Sequence[TestResult], suspects: int) -> list[str]:
    """Every test accounted for, and what a suspect is, in plain words."""
    verdicts = Counter(r.verdict for r in results)
    counts = ", ".join(plural(verdicts[v], *words) for v, words in _VERDICT_WORDS.items()
                       if verdicts[v])
    lines = [f"{plural(len(results), 'test')}: {counts or 'none checked'}"]
    if suspects:
        cleared = sum(r.verdict == Verdict.CLEAN and r.runs > 1 for r in results)
        kept = "their own run" if suspects != 1 else "its own run"
        lines.append(f"{plural(suspects, 'test was', 'tests were')} re-run to confirm what "
                     f"{kept} kept (suspects); {cleared} of them came out clean")
    return lines


def write_summary(writer: Writer, results: Sequence[TestResult], notes: Sequence[str],
                  suspects: int, cleanup_errors: Sequence[str] = (),
                  settings: Settings | None = None) -> None:
    """``settings``: the run's, in pytest, for the next steps; a saved report has none."""
    leaking = sorted((r for r in results if r.verdict == Verdict.LEAK),
                     key=lambda r: -r.size_per_run)
    writer.write_sep("=", "leak forensics")
    for line in count_lines(results, suspects):
        writer.write_line(line)
    if leaking:
        writer.write_line("")
        for line in _leak_lines(leaking):
            writer.write_line(line, yellow=True, bold=True)
        rows = [[r.nodeid, size_text(r.size_per_run) if _traced(r) else "-",
                 r.count_per_run if _traced(r) else max(_least(r, "blocks"), 0),
                 f"{r.sites[0].filename}:{r.sites[0].lineno}" if r.sites else "-"]
                for r in leaking]
        headers = ["leaking test", "size/run", "blocks/run", "top site"]
        if any(r.same_leak_as for r in leaking):
            same = {r.nodeid: r.same_leak_as or "" for r in leaking}
            rows = [[*row, same[str(row[0])]] for row in rows]
            headers.append("same leak as (not traced again)")
        writer.write_line("")
        from tabulate import tabulate  # here: a clean run never imports it

        for line in tabulate(rows, headers=headers, tablefmt="simple").splitlines():
            writer.write_line(line)
        failed = [r for r in leaking if r.fail and r.outcome != "failed"]
        for result in leaking:  # in the table's order
            if result.same_leak_as is not None:
                continue  # one line in the table; the leak is described once
            if result in failed:
                continue  # described under FAILURES, where the test failed for it
            writer.write_line("")
            lines = describe(result)
            writer.write_line(lines[0], yellow=True, bold=True)
            for line in lines[1:]:
                writer.write_line("  " + line if line else "")
        if failed:
            writer.write_line("")
            writer.write_line(f"{plural(len(failed), 'test')} failed because "
                              f"{'it leaks' if len(failed) == 1 else 'they leak'} "
                              "(--leak-forensics-fail; described under FAILURES): "
                              + ", ".join(r.nodeid for r in failed), red=True)
        if settings is not None:
            writer.write_line("")
            for line in next_steps(leaking, settings):
                writer.write_line(line)
    known = [r for r in results if r.verdict == Verdict.KNOWN and r.known is not None]
    if known:
        writer.write_line("")
        writer.write_line("known leaks (allowed, or of a library; not counted):")
        for r in known:
            assert r.known is not None
            reason = f" — {r.known.reason}" if r.known.reason else ""
            where = f" at {r.sites[0].filename}:{r.sites[0].lineno}" if r.sites else ""
            writer.write_line(f"  {r.nodeid}: {growth_text(r)} per run{where}, "
                              f"{r.known.source} rule {r.known.rule}{reason}")
    collected = sorted((r for r in results if r.cyclic_garbage),
                       key=lambda r: -sum(g.count for g in r.cyclic_garbage))
    if collected:
        writer.write_line("")
        writer.write_line("left for the cyclic garbage collector (--leak-forensics-gc-debug; "
                          "not leaks):")
        for r in collected[:GARBAGE_TESTS_SHOWN]:
            writer.write_line(f"  {r.nodeid}: " + ", ".join(
                f"{g.count} {g.type}" + (f" at {g.site}" if g.site else "")
                for g in r.cyclic_garbage[:TYPES_SHOWN]))
    quiet = (Verdict.LEAK, Verdict.KNOWN, Verdict.CLEAN, Verdict.SKIPPED)
    others = [r for r in results if r.verdict not in quiet]
    if others:
        writer.write_line("")
        for r in others:
            writer.write_line(f"{r.verdict}: {r.nodeid}" + (f" — {'; '.join(r.notes)}"
                                                            if r.notes else ""))
    for note in [*notes, *cleanup_errors]:
        writer.write_line(f"leak-forensics note: {note}", red=True)


class _Lines:
    """A ``Writer`` that keeps plain lines, for a report rendered as text."""

    def __init__(self, width: int = 80) -> None:
        self.width = width
        self.lines: list[str] = []

    def write_sep(self, sep: str, title: str, **markup: bool) -> None:
        side = max((self.width - len(title) - 2) // (2 * len(sep)), 1)
        self.lines.append(f"{sep * side} {title} {sep * side}")

    def write_line(self, line: str, **markup: bool) -> None:
        self.lines.append(line)


class TerminalReporter:
    """The summary pytest prints, as plain text (``leak-forensics report``)."""

    def __init__(self, width: int = 80) -> None:
        self.width = width

    def render(self, run: Run) -> str:
        out = _Lines(self.width)
        write_summary(out, run.results, run.notes, run.suspects)
        return "\n".join(out.lines) + "\n"
