"""The report as one self-contained HTML page, to attach to a CI run.

Opened on machines that may have no network, so everything is inline: the style, the
pictures (PNG as data URIs) and no script at all (the owner chains fold with
``<details>``, which needs none). Every text that comes from the tested code (node ids,
file names, source lines, reprs of keys in owner paths, notes) goes through
``html.escape``: a test that puts ``<script>`` in a dict key must not run script here.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from ..analysis.memory_trend import TaggedSample
from ..results import Owner, TestResult, Verdict
from ..units import size_text
from .terminal import count_lines, growth_text, short_path
from .trend_png import png, trend_figure

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 75em;
       padding: 0 1em; color: #1d1d1f; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
h3 { font-size: 1em; font-family: ui-monospace, monospace; word-break: break-all; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { text-align: left; padding: .2em .8em .2em 0; vertical-align: top; }
th { border-bottom: 1px solid #999; } td.n { text-align: right; }
code, td.code { font-family: ui-monospace, monospace; font-size: 13px; }
section.test { border-left: 4px solid #c0392b; padding-left: 1em; margin: 1.5em 0; }
section.known { border-left-color: #7f8c8d; }
details { margin: .2em 0; } summary { cursor: pointer; }
ol.chain { margin: .3em 0 .6em; font-family: ui-monospace, monospace; font-size: 13px; }
li.suspect { background: #fdecea; }
li.suspect::after { content: "  \\2190 the leak begins here"; color: #c0392b;
                    font-family: system-ui, sans-serif; }
p.why { color: #555; } img { max-width: 100%; border: 1px solid #ddd; }
.muted { color: #666; }
"""


@dataclass(frozen=True, slots=True)
class Picture:
    """A PNG drawn for the page (``None`` bytes: why there is none)."""

    title: str
    png: bytes | None
    missing: str = ""


def render(results: Sequence[TestResult], notes: Sequence[str], suspects: int,
           source: str, pictures: Sequence[Picture] = ()) -> str:
    """The page for a saved report; ``source`` names where it came from."""
    leaking = [r for r in results if r.verdict == Verdict.LEAK]
    known = [r for r in results if r.verdict == Verdict.KNOWN]
    unsure = [r for r in results if r.verdict in (Verdict.INCONCLUSIVE, Verdict.UNCONFIRMED,
                                                   Verdict.ERROR)]
    leaking.sort(key=lambda r: -r.size_per_run)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           # No request may leave the page: the policy says so to the browser as well.
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
           'img-src data:; style-src \'unsafe-inline\'">',
           f"<title>Leak report: {len(leaking)} leaking</title>",
           f"<style>{_STYLE}</style></head><body>",
           "<h1>Leak report</h1>",
           f'<p class="muted">{escape(source)}</p>']
    out += [f"<p>{escape(line)}</p>" for line in count_lines(results, suspects)]
    if leaking:
        out.append("<h2>Leaking tests</h2>")
        out.append(_table(["test", "kept per run", "runs"],
                          [(f'<a href="#t{i}">{escape(r.nodeid)}</a>', escape(growth_text(r)),
                            str(r.runs)) for i, r in enumerate(leaking)], numeric=(2,)))
        out += [test_section(r, f"t{i}") for i, r in enumerate(leaking)]
    else:
        out.append("<h2>No leaking tests</h2>")
    if known:
        out.append("<h2>Known leaks (accepted, never failing)</h2>")
        out += [test_section(r, f"k{i}", "known") for i, r in enumerate(known)]
    if unsure:
        out.append("<h2>Not decided</h2>")
        out.append(_table(["test", "verdict", "note"],
                          [(escape(r.nodeid), escape(r.verdict.value),
                            escape("; ".join(r.notes))) for r in unsure]))
    for picture in pictures:
        out.append(f"<h2>{escape(picture.title)}</h2>")
        if picture.png is None:
            out.append(f'<p class="muted">{escape(picture.missing)}</p>')
        else:
            data = base64.b64encode(picture.png).decode("ascii")
            out.append(f'<img alt="{escape(picture.title)}" src="data:image/png;base64,'
                       f'{data}">')
    if notes:
        out.append("<h2>Notes</h2><ul>")
        out += [f"<li>{escape(note)}</li>" for note in notes]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]],
           numeric: Sequence[int] = (), code: Sequence[int] = ()) -> str:
    """Cells are HTML already (escaped by the caller)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            kind = ' class="n"' if i in numeric else ' class="code"' if i in code else ""
            cells.append(f"<td{kind}>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def test_section(result: TestResult, anchor: str = "", kind: str = "") -> str:
    """One test's part of the page (also its display in a notebook)."""
    ident = f' id="{anchor}"' if anchor else ""
    out = [f'<section class="test {kind}"{ident}>',
           f"<h3>{escape(result.nodeid)}</h3>",
           f"<p>keeps {escape(growth_text(result))} per run, over {result.runs} runs</p>"]
    if result.known is not None:
        out.append(f'<p class="why">accepted by {escape(result.known.rule)} '
                   f"({escape(result.known.source)}) {escape(result.known.reason)}</p>")
    if result.resources:
        out.append("<ul>" + "".join(f"<li>{escape(r.kind)}: {escape(r.detail)}</li>"
                                    for r in result.resources) + "</ul>")
    if result.sites:
        out.append(_table(["allocated at", "size/run", "blocks/run", "source"],
                          [(escape(f"{s.filename}:{s.lineno}"), escape(size_text(s.size_diff)),
                            str(s.count_diff), escape(s.source)) for s in result.sites],
                          numeric=(1, 2), code=(0, 3)))
    if result.types:
        out.append(_table(["type", "new objects/run"],
                          [(escape(t.type), str(t.count_diff)) for t in result.types],
                          numeric=(1,), code=(0,)))
    out += [_owner(owner) for owner in result.owners]
    out += [f'<p class="why">note: {escape(note)}</p>' for note in result.notes]
    out.append("</section>")
    return "\n".join(out)


def _owner(owner: Owner) -> str:
    """One sampled chain, folded: its summary says what is held and by whom; opened, each
    step of the path from the root, the step where the leak begins marked (the way
    LeakCanary shows a leak trace)."""
    site = f", allocated at {owner.site}" if owner.site else ""
    summary = f"{owner.sampled} of {owner.of} sampled {owner.type}{site}: {short_path(owner)}"
    items = [f'<li class="{"suspect" if suspect else "step"}">{escape(step)}</li>'
             for step, suspect in _steps(owner)]
    why = f'<p class="why">{escape(owner.why)}</p>' if owner.why else ""
    return (f"<details><summary>{escape(summary)}</summary>"
            f'<ol class="chain">{"".join(items)}</ol>{why}</details>')


def _steps(owner: Owner) -> list[tuple[str, bool]]:
    """The path cut where it reads as steps: the root, each edge, the object; the step
    that ends at the suspect (the last object the run did not make) is flagged."""
    path, _, target = owner.path.rpartition(" -> ")
    if not path:
        return [(owner.path, False)]
    root = owner.root if path.startswith(owner.root) else ""
    rest = path[len(root):]
    steps: list[str] = [root] if root else []
    step = ""
    depth = 0
    for i, char in enumerate(rest):
        # A new step at each attribute, index or closure cell; keys may hold dots and
        # brackets themselves.
        if depth == 0 and step and (char in ".[" or rest.startswith(" closure ", i)):
            steps.append(step)
            step = ""
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        step += char
    if step:
        steps.append(step)
    steps.append(f"-> {target}")
    flagged = []
    so_far = ""
    suspect = owner.suspect
    for text in steps:
        so_far += text
        flagged.append((text, suspect is not None and so_far == suspect))
    return flagged


_NO_PLOTS = "not drawn: pip install 'pytest-leak-forensics[plots]' for the picture"


def page(results: Sequence[TestResult], notes: Sequence[str], suspects: int, source: str,
         samples: Sequence[TaggedSample] | None = None,
         runs: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The page with the pictures its data allows: the run's timeline from its samples,
    the trend from the history's runs (both need the ``plots`` extra)."""
    from .timeline_png import plots_available, timeline_figure

    pictures = []
    drawable = plots_available()
    if samples is not None:
        leaking = {r.nodeid for r in results if r.verdict == Verdict.LEAK}
        pictures.append(Picture("Memory over the run", png(timeline_figure(samples, leaking))
                                if drawable else None, _NO_PLOTS))
    if runs is not None:
        pictures.append(Picture("Memory across runs", png(trend_figure(runs))
                                if drawable and runs else None,
                                _NO_PLOTS if runs else "the history has no runs yet"))
    return render(results, notes, suspects, source, pictures)
