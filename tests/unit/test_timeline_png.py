"""The timeline picture: its axes, one line per process, the marks and the fitted slope."""

from leak_forensics.analysis.memory_trend import TaggedSample
from leak_forensics.reporters.timeline_png import save_timeline, timeline_figure

MIB = 1 << 20


def _samples() -> list[TaggedSample]:
    samples = []
    for i in range(40):
        t = i * 0.5
        samples.append(TaggedSample(t, 1, "gw0", 50 * MIB + i * MIB // 2,
                                    "t.py::test_leaks" if i in (10, 11) else f"t.py::a{i}"))
        samples.append(TaggedSample(t, 2, "gw1", 40 * MIB, f"t.py::b{i}"))
        samples.append(TaggedSample(t, 3, "pytest", 30 * MIB, None))
    return samples


def test_the_figure_has_its_axes_lines_marks_and_slope():
    figure = timeline_figure(_samples(), {"t.py::test_leaks"})
    (axes,) = figure.axes
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("time (s)", "RSS (MiB)")
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert labels[:3] == ["gw0", "gw0 fit: +60.0 MiB/min (Theil-Sen)", "gw1"]
    assert "gw1 fit: 0 B/min (Theil-Sen)" in labels and "pytest" in labels
    assert "pytest fit" not in " ".join(labels)  # no test ran there: nothing to fit
    assert "a leaking test ran" in labels
    assert any(label.startswith("peak 69.5 MiB (gw0)") for label in labels)
    process_lines = [line for line in axes.get_lines() if line.get_label() in ("gw0", "gw1")]
    assert [len(line.get_xdata()) for line in process_lines] == [40, 40]
    (marks, peak) = axes.collections
    assert marks.get_offsets().tolist() == [[5.0, 55.0], [5.5, 55.5]]
    assert peak.get_offsets().tolist() == [[19.5, 69.5]]


def test_the_png_is_written(tmp_path):
    path = tmp_path / "timeline.png"
    save_timeline(_samples(), set(), str(path))
    assert path.read_bytes()[:4] == b"\x89PNG"
