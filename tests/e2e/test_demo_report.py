"""``make demo``'s JSON report is the one checked in (``demo-report.json``, written by
the build before the layout change), reduced to what must not change between two builds,
interpreters or machines: verdicts, allocation sites, types, owners, resources, leak
groups and the summary. Left out: timings, paths, the tool's version, byte sizes (they
differ between Python versions) and sites under 64 bytes a run (a float reused from
CPython's free list keeps the trace of the block it reuses, so such a site can move)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO = HERE.parents[1] / "examples" / "demo"
MIN_SITE = 64


def essentials(report: dict) -> dict:
    return {
        "format": [report["format"], report["format_version"]],
        "settings": report["settings"],
        "summary": report["summary"],
        "tests": [{
            "nodeid": t["nodeid"],
            "verdict": t["verdict"],
            "runs": t["runs"],
            "sites": [[s["filename"], s["lineno"], s["source"], s["in_user_code"]]
                      for s in t["sites"] if s["size_diff"] >= MIN_SITE],
            "types": [[g["type"], g["count_diff"]] for g in t["types"]],
            "owners": [{k: o[k] for k in ("type", "root", "path", "suspect", "where",
                                          "sampled", "of", "site", "signature")}
                       for o in t["owners"]],
            "resources": t["resources"],
            "known": t["known"],
            "notes": t["notes"],
        } for t in report["tests"]],
        # Sizes, and so the order of sites and which comes first, differ between versions.
        "leak_groups": [{**{k: g[k] for k in ("signature", "root", "where", "type", "tests")},
                         "types": sorted(g["types"]),
                         "sites": sorted(set(g["sites"]) & _large_sites(report))}
                        for g in report["leak_groups"]],
    }


def _large_sites(report: dict) -> set[str]:
    return {f"{s['filename']}:{s['lineno']}" for t in report["tests"] for s in t["sites"]
            if s["size_diff"] >= MIN_SITE}


def test_the_example_suite_reports_what_it_always_has(run_forensics, pytester):
    shutil.copytree(DEMO, pytester.path, dirs_exist_ok=True)
    _, report, _ = run_forensics()
    expected = json.loads((HERE / "demo-report.json").read_text())
    assert essentials(report) == expected
