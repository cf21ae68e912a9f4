"""The commit, branch and dirtiness recorded with each run, read from a real checkout."""

import shutil
import subprocess

import pytest

from leak_forensics.history.run_info import git_state

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(path, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=path,
                   check=True, capture_output=True)


def test_a_checkout_gives_its_commit_branch_and_whether_tracked_files_changed(tmp_path):
    _git(tmp_path, "init", "-q", "-b", "trunk")
    assert git_state(tmp_path) == (None, None, None)  # no commit yet
    (tmp_path / "a.txt").write_text("1")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-q", "-m", "first")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, check=True,
                            capture_output=True, text=True).stdout.strip()
    (tmp_path / "untracked.txt").write_text("not counted")
    assert git_state(tmp_path) == (commit, "trunk", False)
    (tmp_path / "a.txt").write_text("2")
    assert git_state(tmp_path) == (commit, "trunk", True)
    _git(tmp_path, "checkout", "-q", "--detach")
    assert git_state(tmp_path) == (commit, None, True)


def test_outside_a_checkout_nothing_is_known(tmp_path):
    assert git_state(tmp_path) == (None, None, None)
