"""What identifies a run apart from its tests: where (host, Python, CI job) and what
(git commit, branch, uncommitted changes), read from the checkout and the environment."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from .. import __version__
from ..analysis.memory_trend import run_memory
from ..results import TestResult, Verdict
from .store import HistoryStore, RunRecord, TestRecord

#: (provider, variable that says the job runs there, variable holding its build id)
_CI = (
    ("github-actions", "GITHUB_ACTIONS", "GITHUB_RUN_ID"),
    ("gitlab-ci", "GITLAB_CI", "CI_PIPELINE_ID"),
    ("circleci", "CIRCLECI", "CIRCLE_BUILD_NUM"),
    ("jenkins", "JENKINS_URL", "BUILD_NUMBER"),
    ("buildkite", "BUILDKITE", "BUILDKITE_BUILD_NUMBER"),
    ("azure-pipelines", "TF_BUILD", "BUILD_BUILDID"),
    ("travis", "TRAVIS", "TRAVIS_BUILD_NUMBER"),
)
_GIT_TIMEOUT = 5


def ci_job(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    for provider, marker, build in _CI:
        if environ.get(marker):
            return provider, environ.get(build)
    if environ.get("CI", "").lower() in ("1", "true", "yes"):
        return "ci", None
    return None, None


def _git(rootdir: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=rootdir, capture_output=True, text=True,
                              timeout=_GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(rootdir: Path) -> tuple[str | None, str | None, bool | None]:
    """(commit, branch, dirty) of the checkout holding ``rootdir``; Nones outside one.

    One ``git status`` gives all three (its porcelain v2 headers name the commit and the
    branch): a git process costs ~3 ms, paid at the end of every recorded run."""
    status = _git(rootdir, "status", "--porcelain=v2", "--branch", "--untracked-files=no")
    if status is None:
        return None, None, None
    lines = status.splitlines()
    headers = dict(line[2:].partition(" ")[::2] for line in lines if line.startswith("# "))
    commit = headers.get("branch.oid")
    if commit in (None, "(initial)"):
        return None, None, None
    branch = headers.get("branch.head")
    dirty = any(not line.startswith("# ") for line in lines)
    return commit, None if branch in (None, "(detached)") else branch, dirty


def describe_run(*, rootdir: Path, started: datetime, finished: datetime, exit_status: int,
                 outcomes: dict[str, int], options: Sequence[str], tags: dict[str, str],
                 environ: Mapping[str, str] = os.environ) -> RunRecord:
    commit, branch, dirty = git_state(rootdir)
    provider, build = ci_job(environ)
    return RunRecord(
        started=started, finished=finished, exit_status=exit_status,
        outcomes=outcomes, host=socket.gethostname(),
        python=platform.python_version(), platform=platform.platform(terse=True),
        plugin_version=__version__, options=list(options), tags=tags,
        git_commit=commit, git_branch=branch, git_dirty=dirty,
        ci_provider=provider, ci_build=build)


def describe_tests(results: Sequence[TestResult]) -> list[TestRecord]:
    records = []
    for result in results:
        leaked = result.verdict in (Verdict.LEAK, Verdict.KNOWN)
        records.append(TestRecord(
            nodeid=result.nodeid, outcome=result.outcome or "", verdict=str(result.verdict),
            bytes_per_run=result.size_per_run if leaked else 0,
            blocks_per_run=result.count_per_run if leaked else 0,
            runs=result.runs,
            top_sites=[f"{s.filename}:{s.lineno}" for s in result.sites],
            top_types=[t.type for t in result.types],
            signatures=sorted({o.signature for o in result.owners if o.signature}),
            duration=result.memory.duration if result.memory else None,
            rss_start=result.memory.rss_start if result.memory else None,
            rss_end=result.memory.rss_end if result.memory else None))
    return records


def record(url: str, *, rootdir: Path, started: datetime, finished: datetime,
           exit_status: int, outcomes: dict[str, int], options: Sequence[str],
           tags: dict[str, str], results: Sequence[TestResult]) -> tuple[int, str]:
    """Write the run to the store at ``url``: (its id, where, as shown to users)."""
    store = HistoryStore(url)
    try:
        run = describe_run(rootdir=rootdir, started=started, finished=finished,
                           exit_status=exit_status, outcomes=outcomes, options=options,
                           tags=tags)
        memory = run_memory(results)
        if memory is not None:
            run.peak_rss, run.growth_rate = memory.peak, memory.per_test
        return store.record(run, describe_tests(results)), store.where
    finally:
        store.close()
