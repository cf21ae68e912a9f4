"""The notebook API: a saved report as DataFrames, its display, and the figures' axes."""

import pandas as pd

from leak_forensics.notebook import (
    History,
    load_report,
    plot_retained,
    plot_sites,
    plot_timeline,
    plot_trend,
    plot_types,
)
from leak_forensics.reporters.json_report import JsonReporter
from leak_forensics.reporters.run import Run
from leak_forensics.results import Owner, Resource, Site, TestResult, TypeGrowth, Verdict


def _report(tmp_path):
    owner = Owner("list", "app._MEMO", "app._MEMO['k'] -> list", "app._MEMO['k']",
                  "app._MEMO[...]", 3, 3, "app.py:4", "0123456789abcdef")
    big = TestResult("t.py::test_big", Verdict.LEAK, runs=7, size_per_run=900, count_per_run=9,
                     sites=[Site("app.py", 4, 800, 8, (), "_MEMO[k] = []"),
                            Site("/lib/x.py", 9, 100, 1, (), "x", in_user_code=False)],
                     types=[TypeGrowth("list", 8)], owners=[owner],
                     resources=[Resource("file", "data.txt opened at app.py:7")])
    small = TestResult("t.py::test_small", Verdict.LEAK, runs=7, size_per_run=100,
                       count_per_run=1, sites=[Site("app.py", 4, 100, 1, (), "_MEMO[k] = []")],
                       types=[TypeGrowth("list", 1), TypeGrowth("dict", 3)], owners=[owner])
    path = tmp_path / "report.json"
    path.write_text(JsonReporter().render(Run([big, small, TestResult("t.py::ok", Verdict.CLEAN)],
                                              [], 2)))
    return load_report(path)


def test_a_report_reads_as_tables(tmp_path):
    report = _report(tmp_path)
    assert report.tests.nodeid.tolist() == ["t.py::test_big", "t.py::test_small", "t.py::ok"]
    assert report.tests.verdict.tolist() == ["leak", "leak", "clean"]
    assert report.sites[report.sites.in_user_code].bytes.sum() == 900
    assert report.owners.suspect.tolist() == ["app._MEMO['k']", "app._MEMO['k']"]
    assert report.resources.kind.tolist() == ["file"]
    # one leak two tests share, and the library site only the big one has
    assert report.leak_groups[["where", "tests"]].values.tolist() == [
        ["app._MEMO[...]", 2], ["allocated at /lib/x.py:9", 1]]
    assert report.leaking() == ["t.py::test_big", "t.py::test_small"]
    assert "<details>" in report.test("t.py::test_big")._repr_html_()
    assert "Leaking tests" in report._repr_html_()


def test_the_bars_rank_tests_sites_and_types(tmp_path):
    report = _report(tmp_path)
    for figure, labels, values in [
        (plot_retained(report), ["t.py::test_big", "t.py::test_small"], [900, 100]),
        (plot_sites(report), ["app.py:4"], [900]),
        (plot_types(report), ["list", "dict"], [9, 3]),
    ]:
        (axes,) = figure.axes
        # barh draws bottom-up: the largest is on top, the last bar drawn
        assert [t.get_text() for t in axes.get_yticklabels()][::-1] == labels
        assert [p.get_width() for p in axes.patches][::-1] == values


def test_timeline_and_trends_from_history_tables():
    samples = pd.DataFrame({"time": [0.0, 0.5, 1.0], "pid": [1, 1, 1],
                            "process": ["main"] * 3, "rss": [10 << 20, 11 << 20, 12 << 20],
                            "nodeid": [None, "t.py::a", ""]})
    (axes,) = plot_timeline(samples, {"t.py::a"}).axes
    assert axes.get_ylabel() == "RSS (MiB)"
    assert axes.collections[0].get_offsets().tolist() == [[0.5, 11.0]]  # the leaking test
    runs = pd.DataFrame({"id": [1, 2], "peak_rss": [10 << 20, 12 << 20], "leaks": [0, 1]})
    tests = pd.DataFrame({"run_id": [1, 2], "nodeid": ["t.py::a"] * 2,
                          "verdict": ["clean", "leak"], "bytes_per_run": [0, 640],
                          "blocks_per_run": [0, 3]})
    history = History("sqlite://", runs, tests, samples)
    assert len(plot_trend(history).axes) == 2
    (axes,) = plot_trend(history, "t.py::a").axes
    (line,) = axes.get_lines()
    assert list(line.get_ydata()) == [0, 640]
    assert [t.get_text() for t in axes.texts] == ["clean", "leak"]


class Counted:
    pass


def test_snapshots_and_their_diff_as_tables(tmp_path):
    import tracemalloc

    from leak_forensics import take_snapshot
    from leak_forensics.notebook import diff_snapshots, load_snapshot

    tracemalloc.start(5)
    try:
        before = take_snapshot()
        # this line: 50 bytearrays, their 50 buffers and the list
        kept = [bytearray(1000) for _ in range(50)]
        counted = [Counted() for _ in range(7)]  # the census counts objects the gc tracks
        after = take_snapshot()
    finally:
        tracemalloc.stop()
    before.save(tmp_path / "before.lfsnap")
    after.save(tmp_path / "after.lfsnap")
    change = diff_snapshots(tmp_path / "before.lfsnap", tmp_path / "after.lfsnap", limit=3)
    assert list(change.columns) == ["file", "line", "bytes", "blocks", "bytes_diff",
                                    "blocks_diff"]
    top = change.iloc[0]
    assert (top.file, top.blocks_diff) == (__file__, 101) and top.bytes_diff >= 50_000
    sites, types = load_snapshot(tmp_path / "after.lfsnap", limit=5)
    assert sites.bytes.is_monotonic_decreasing
    assert (sites.iloc[0].file, sites.iloc[0].line, sites.iloc[0].blocks) == (
        __file__, top.line, 101)
    assert types.set_index("type").loc[f"{Counted.__module__}.Counted", "count"] == 7
    del kept, counted
