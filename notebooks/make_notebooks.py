import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

def nb(cells, path):
    book = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                               "language_info": {"name": "python"}})
    nbformat.write(book, path)

nb([
new_markdown_cell("""# Find a leak

The bundled example suite (`examples/demo`) has three tests that leak and six that only look as if they did.
Run it with `pytest --leak-forensics`, load the report, and follow one leak from the test to the line that allocates it
and the object that keeps it alive; then compare the snapshots taken before and after it, and draw what leaks most.

The suite is copied to a temporary directory first, so nothing is written beside the notebook."""),
new_code_cell("""%matplotlib inline
import os, shutil, subprocess, sys, tempfile
from pathlib import Path

from leak_forensics.notebook import (diff_snapshots, load_report, plot_retained, plot_sites,
                                     plot_types)

demo = Path(os.environ.get("LEAK_FORENSICS_DEMO", "../examples/demo")).resolve()
work = Path(tempfile.mkdtemp()) / "demo"
shutil.copytree(demo, work, ignore=shutil.ignore_patterns("*.json", "__pycache__", ".leak-forensics"))
done = subprocess.run([sys.executable, "-m", "pytest", "--leak-forensics",
                       "--leak-forensics-json=report.json", "--leak-forensics-save=snapshots",
                       "--leak-forensics-history=off", "-p", "no:cacheprovider", "-q"],
                      cwd=work, capture_output=True, text=True)
print(done.stdout[-600:])"""),
new_markdown_cell("""The report: one table per kind of row. Shown on its own, it is the same page `leak-forensics html` writes."""),
new_code_cell("""report = load_report(work / "report.json")
report.tests[["nodeid", "verdict", "bytes_per_run", "blocks_per_run", "runs"]]"""),
new_code_cell("""leaking = report.tests[report.tests.verdict == "leak"].sort_values("bytes_per_run", ascending=False)
leaking[["nodeid", "bytes_per_run", "blocks_per_run"]]"""),
new_markdown_cell("""## The line, and who holds what it made

The allocation sites in the suite's own code, then the owner chains: the root a reader can find in the code,
and the step where the leak begins (`suspect`)."""),
new_code_cell("""worst = leaking.nodeid.iloc[0]
report.sites[(report.sites.nodeid == worst) & report.sites.in_user_code][["file", "line", "bytes", "blocks", "source"]]"""),
new_code_cell("""report.owners[report.owners.nodeid == worst][["type", "suspect", "path", "site"]]"""),
new_markdown_cell("""One test on its own: its sites, types and owner chains, the chains folded (click to open)."""),
new_code_cell("""report.test(worst)"""),
new_markdown_cell("""## Before and after

`--leak-forensics-save` kept a snapshot before and after each leaking test's runs. Their difference, ranked as
`tracemalloc`'s `compare_to` ranks it, points at the same line."""),
new_code_cell("""snapshots = report.test(worst).result.snapshots
change = diff_snapshots(work / snapshots["before"], work / snapshots["after"], limit=5)
change"""),
new_markdown_cell("""## Pictures"""),
new_code_cell("""plot_retained(report)"""),
new_code_cell("""plot_sites(report)"""),
new_code_cell("""plot_types(report)"""),
], "notebooks/01-find-a-leak.ipynb")

nb([
new_markdown_cell("""# Memory over time

`leak-forensics run` runs the suite with the leak checks and watches the memory of the whole run from outside,
then records the run, its tests and its RSS samples in a history database. Run it twice on the bundled example,
the second time with one more leaking test, and compare: the timeline of each run, the trend across runs,
and the test that appeared."""),
new_code_cell("""%matplotlib inline
import os, shutil, subprocess, sys, tempfile
from pathlib import Path

from leak_forensics.notebook import load_history, plot_timeline, plot_trend

demo = Path(os.environ.get("LEAK_FORENSICS_DEMO", "../examples/demo")).resolve()
work = Path(tempfile.mkdtemp()) / "demo"
shutil.copytree(demo, work, ignore=shutil.ignore_patterns("*.json", "__pycache__", ".leak-forensics"))
history = f"sqlite:///{work.parent}/history.db"

def run():
    done = subprocess.run([sys.executable, "-m", "leak_forensics", "run", "--sample-interval", "0.1",
                           "--history", history], cwd=work, capture_output=True, text=True)
    print(done.stdout[-400:])

run()"""),
new_markdown_cell("""A new test that keeps a 64 KiB buffer on every call, then the second run."""),
new_code_cell("""(work / "tests" / "test_new_leak.py").write_text('''
_KEPT = []

def test_keeps_a_buffer_per_call():
    _KEPT.append(bytearray(64 * 1024))
''')
run()"""),
new_code_cell("""hist = load_history(history)
hist.runs[["id", "exit_status", "peak_rss", "growth_rate", "leaks"]]"""),
new_markdown_cell("""## What changed between the runs"""),
new_code_cell("""first, second = hist.runs.id.tolist()[-2:]
by_run = hist.tests.pivot_table(index="nodeid", columns="run_id", values="verdict", aggfunc="first")
by_run[by_run[first].fillna("absent") != by_run[second]]"""),
new_markdown_cell("""## The second run's memory, the leaking tests marked"""),
new_code_cell("""samples = hist.samples[hist.samples.run_id == second]
leaks = hist.tests[(hist.tests.run_id == second) & (hist.tests.verdict == "leak")].nodeid
plot_timeline(samples, set(leaks))"""),
new_markdown_cell("""## Across runs: the whole suite, then the new test"""),
new_code_cell("""plot_trend(hist)"""),
new_code_cell("""plot_trend(hist, "tests/test_new_leak.py::test_keeps_a_buffer_per_call")"""),
], "notebooks/02-memory-over-time.ipynb")
