"""Every notebook in notebooks/ runs top to bottom (nbclient, a real kernel), in a
temporary directory, and shows what it promises: tables, the owner chain, pictures."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _execute(path: Path, cwd: Path) -> nbformat.NotebookNode:
    book = nbformat.read(path, as_version=4)
    NotebookClient(book, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return book


def _outputs(book: nbformat.NotebookNode, kind: str) -> list[str]:
    found = []
    for cell in book.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if kind in data:
                found.append(data[kind])
            elif kind == "text/plain" and output.get("output_type") == "stream":
                found.append(output["text"])
    return found


def test_there_are_notebooks_and_their_outputs_are_not_committed():
    assert [p.name for p in NOTEBOOKS] == ["01-find-a-leak.ipynb", "02-memory-over-time.ipynb"]
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") for cell in book.cells if cell.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_runs(path: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LEAK_FORENSICS_DEMO", str(ROOT / "examples" / "demo"))
    book = _execute(path, tmp_path)
    html = "\n".join(_outputs(book, "text/html"))
    pictures = _outputs(book, "image/png")
    if path.stem.startswith("01"):
        assert "tests/test_leaks.py::test_order_audit_trail" in html
        assert "shop/orders.py" in html  # the allocating line in the user's code
        assert "<details>" in html and 'class="suspect"' in html  # the test's owner chains
        assert "Order.audit" in html
        assert len(pictures) == 3
    else:
        assert "tests/test_new_leak.py::test_keeps_a_buffer_per_call" in html  # what changed
        assert len(pictures) == 3  # timeline, the suite's trend, the new test's trend
