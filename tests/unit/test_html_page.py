"""The HTML page: what it lists, how it folds owner chains, that it escapes everything from
the tested code, that it needs nothing from the network; and the trend picture."""

import re
from html.parser import HTMLParser

import pytest

from leak_forensics.analysis.memory_trend import TaggedSample
from leak_forensics.errors import BadInput
from leak_forensics.reporters import html_page
from leak_forensics.reporters.run_memory_text import read_samples_csv, samples_csv
from leak_forensics.reporters.trend_png import trend_figure
from leak_forensics.results import Known, Owner, Resource, Site, TestResult, TypeGrowth, Verdict

EVIL = "<script>alert(1)</script>"
OWNER = Owner("list", "app._MEMO", f"app._MEMO['{EVIL}'].items -> list", f"app._MEMO['{EVIL}']",
              "app._MEMO[...]", 3, 3, "app.py:4", "0123456789abcdef")


def results() -> list[TestResult]:
    leak = TestResult(
        f"t.py::test_leak[{EVIL}]", Verdict.LEAK, runs=7, repeat="1:3",
        sites=[Site("app.py", 4, 296, 4, (("app.py", 4),), f"_MEMO['{EVIL}'] = []")],
        types=[TypeGrowth("list", 2)], owners=[OWNER],
        resources=[Resource("thread", "poller started at app.py:9, still alive")],
        size_per_run=296, count_per_run=4, deltas={"blocks": [4, 4, 4]})
    known = TestResult("t.py::test_known", Verdict.KNOWN, size_per_run=100,
                       known=Known("root:app.*", "allowlist"))
    return [leak, known, TestResult("t.py::test_clean", Verdict.CLEAN),
            TestResult("t.py::test_unsure", Verdict.INCONCLUSIVE, notes=["grew untraced"])]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def test_the_page_lists_leaks_known_leaks_and_undecided_tests_apart():
    page = html_page.render(results(), ["a note"], 2, "report.json")
    leaking, known = page.index("<h2>Leaking tests"), page.index("<h2>Known leaks")
    undecided = page.index("<h2>Not decided")
    assert leaking < page.index("test_leak[") < known < page.index("t.py::test_known") < undecided
    assert page.index("t.py::test_unsure") > undecided and "grew untraced" in page
    assert "t.py::test_clean" not in page  # clean tests are counted, not listed
    assert "4 tests: 1 leaking, 1 known leak, 1 inconclusive, 1 clean" in page
    assert "thread: poller started at app.py:9, still alive" in page
    assert "296 B" in page and "app.py:4" in page and "<li>a note</li>" in page


def test_text_from_the_tested_code_is_escaped():
    page = html_page.render(results(), [EVIL], 2, EVIL)
    assert "<script" not in page.lower()
    assert [tag for tag, _ in _tags(page) if tag in ("script", "iframe", "object")] == []
    assert page.count("&lt;script&gt;") >= 5  # id, source line, chain summary and steps, note


def test_an_owner_chain_folds_and_marks_the_step_where_the_leak_begins():
    page = html_page.render(results(), [], 2, "r.json")
    chain = re.search(r"<details>.*?</details>", page, re.S).group(0)
    assert "<details open" not in page
    steps = re.findall(r'<li class="(\w+)">(.*?)</li>', chain)
    key = "[&#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27;]"
    assert steps == [("step", "app._MEMO"), ("suspect", key), ("step", ".items"),
                     ("step", "-&gt; list")]


@pytest.mark.parametrize(("path", "root", "suspect", "expected"), [
    ("app.L[5] closure 'seen' -> list", "app.L", "app.L[5]",
     [("app.L", False), ("[5]", True), (" closure 'seen'", False), ("-> list", False)]),
    ("app.M['a.b[c]'].x -> dict", "app.M", "app.M['a.b[c]']",
     [("app.M", False), ("['a.b[c]']", True), (".x", False), ("-> dict", False)]),
    ("held outside Python -> dict", "held outside Python", None,
     [("held outside Python", False), ("-> dict", False)]),
])
def test_chain_steps(path, root, suspect, expected):
    owner = Owner("list", root, path, suspect, root, 1, 1, None, "s")
    assert html_page._steps(owner) == expected


def test_the_page_asks_for_nothing_outside_itself():
    picture = html_page.Picture("Memory over the run", b"\x89PNG fake")
    page = html_page.render(results(), [], 2, "r.json", [picture])
    for tag, attrs in _tags(page):
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith(("#", "data:image/png;base64,")), (tag, value)
    assert "default-src 'none'" in page
    missing = html_page.Picture("Memory across runs", None, "no runs yet")
    assert "no runs yet" in html_page.render(results(), [], 2, "r.json", [missing])


def test_samples_read_back_and_a_bad_file_is_one_line(tmp_path):
    samples = [TaggedSample(0.5, 7, "gw0", 1 << 20, "t.py::a"),
               TaggedSample(1.0, 7, "gw0", 2 << 20, None)]
    path = tmp_path / "samples.csv"
    path.write_text(samples_csv(samples))
    assert read_samples_csv(str(path)) == samples
    path.write_text("time,rss,pid,process,nodeid\n0.5,lots,7,gw0,\n")
    with pytest.raises(BadInput, match=r"samples.csv:2: not a sample"):
        read_samples_csv(str(path))
    path.write_text("a,b\n")
    with pytest.raises(BadInput, match="not a samples CSV"):
        read_samples_csv(str(path))


def test_the_trend_has_peak_rss_and_leaking_tests_per_run():
    runs = [{"id": 3, "peak_rss": 120 << 20, "leaks": 2},
            {"id": 1, "peak_rss": 100 << 20, "leaks": 0},
            {"id": 2, "peak_rss": None, "leaks": 1}]
    figure = trend_figure(runs)
    axes, leaks = figure.axes
    assert (axes.get_xlabel(), axes.get_ylabel(), leaks.get_ylabel()) == (
        "run", "peak RSS (MiB)", "leaking tests")
    (line,) = axes.get_lines()
    assert list(line.get_xdata()) == [1, 3] and list(line.get_ydata()) == [100.0, 120.0]
    assert [bar.get_height() for bar in leaks.patches] == [0, 1, 2]
    assert axes.get_ylim()[0] == 0
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["peak RSS", "leaking tests"]
