"""``leak-forensics html`` and ``run --html``, opened in a real browser: headless Chromium
from the system's packages, driven by Playwright. The page lists the leaking tests, an
owner chain opens on a click, the pictures have a size, nothing leaves the page, and the
``<script>`` a test put in a dict key stays text. The screenshot is kept in
build/artifacts/ (CI keeps it with the run)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parents[2] / "build" / "artifacts"
REQUIRED = os.environ.get("LEAK_FORENSICS_REQUIRE_BROWSER") == "1"
EVIL_KEY = "<script>window.pwned = 1</script><img src=x onerror='window.pwned = 2'>"


def _chromium() -> str:
    found = os.environ.get("LEAK_FORENSICS_CHROMIUM") or shutil.which("chromium") \
        or shutil.which("chromium-browser")
    if found is None:
        message = "no Chromium: apt-get install chromium (or set LEAK_FORENSICS_CHROMIUM)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return found


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leak_forensics", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def leaking_suite(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(test_keys=f"""
_BY_KEY = {{}}
def test_keeps_hostile_keys():
    _BY_KEY[{EVIL_KEY!r} + str(len(_BY_KEY))] = [len(_BY_KEY)]
def test_clean():
    pass
""")
    return pytester.path


def test_the_page_in_a_browser(leaking_suite: Path, tmp_path: Path):
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    page_path = tmp_path / "out" / "report.html"
    done = cli(leaking_suite, "run", "--sample-interval", "0.05", "--history",
               f"sqlite:///{tmp_path}/history.db", "--html", str(page_path), "--", "-p", "no:xdist")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"page (HTML): {page_path}" in done.stdout
    text = page_path.read_text()
    assert "<script>window" not in text and "onerror='window" not in text

    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            assert page.title() == "Leak report: 1 leaking"
            listed = page.locator("table a")
            assert listed.all_inner_texts() == ["test_keys.py::test_keeps_hostile_keys"]
            # The hostile key is shown as text, and ran nothing.
            assert page.evaluate("window.pwned") is None
            summary = page.locator("details > summary").first
            assert "[\"<script>window.pwned" in summary.inner_text()  # keys are shortened
            suspect = page.locator("details li.suspect").first
            assert not suspect.is_visible()
            summary.click()
            assert page.locator("details").first.evaluate("d => d.open") is True
            assert suspect.is_visible() and "<script>" in suspect.inner_text()
            for title in ("Memory over the run", "Memory across runs"):
                image = page.get_by_alt_text(title)
                size = image.evaluate("i => [i.complete, i.naturalWidth, i.naturalHeight]")
                assert size[0] and size[1] > 100 and size[2] > 100, (title, size)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "html-report.png"), full_page=True)
        finally:
            browser.close()
    assert dialogs == []
    # data: URIs are no request; the file itself is the only one
    assert requests == [page_path.as_uri()]


def test_html_from_a_saved_report_and_its_bad_input(leaking_suite: Path, tmp_path: Path):
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "pytest", "--leak-forensics",
                           f"--leak-forensics-json={report}", "--leak-forensics-history=off",
                           "-p", "no:cacheprovider", "-p", "no:xdist"],
                          cwd=leaking_suite, capture_output=True, text=True, timeout=600)
    assert report.exists(), done.stdout + done.stderr
    out = tmp_path / "page.html"
    done = cli(leaking_suite, "html", str(report), "-o", str(out))
    assert done.returncode == 0 and done.stdout == f"leak-forensics: wrote {out}\n"
    assert "test_keys.py::test_keeps_hostile_keys" in out.read_text()
    assert "Memory over the run" not in out.read_text()  # no samples given: no timeline

    bad_csv = tmp_path / "samples.csv"
    bad_csv.write_text("time,rss\n1,2\n")
    for args, message in [
        (("html", str(tmp_path / "missing.json")), "missing.json: cannot read"),
        (("html", str(report), "--timeline", str(bad_csv)), "not a samples CSV"),
        (("html", str(report), "--history", "nosuchdb://x"), "nosuchdb"),
    ]:
        before = out.read_bytes()
        done = cli(leaking_suite, *args, "-o", str(out))
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert out.read_bytes() == before  # the page written before is kept
