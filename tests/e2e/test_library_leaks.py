"""A leak wholly inside an installed library is listed apart, with its package and
version, and fails only when asked; the same code under the rootdir is the user's leak."""

import pytest

LIBRARY = """
_SEEN = []


def handle(request):
    _SEEN.append({"request": request, "body": [request] * 4})
    return len(_SEEN)
"""

TESTS = """
import leakylib

_MINE = []


def test_through_the_library():
    assert leakylib.handle("ping")


def test_own_leak():
    _MINE.append([1, 2, 3])
"""


@pytest.fixture
def installed(pytester, install_library):
    """``leakylib`` 1.2.0, installed outside the rootdir."""
    install_library("leakylib", "1.2.0", LIBRARY)
    pytester.makepyfile(test_app=TESTS)
    return pytester


def test_a_library_leak_is_listed_apart_and_does_not_fail(run_forensics, installed):
    result, report, verdicts = run_forensics("--leak-forensics-fail")
    assert result.ret == 1  # the user's own leak fails
    library = verdicts["test_through_the_library"]
    assert library["verdict"] == "known-leak"
    assert library["known"]["source"] == "library"
    assert library["known"]["rule"] == "library:leakylib==1.2.0"
    assert "--leak-forensics-allow='root:leakylib.*'" in library["known"]["reason"]
    assert any(o["root"] == "leakylib._SEEN" for o in library["owners"])
    assert verdicts["test_own_leak"]["verdict"] == "leak"
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_through_the_library*library rule library:leakylib==1.2.0*"])


def test_asked_to_a_library_leak_fails_too(run_forensics, installed):
    result, _, verdicts = run_forensics("--leak-forensics-fail", "--leak-forensics-fail-library")
    assert verdicts["test_through_the_library"]["verdict"] == "leak"
    result.assert_outcomes(failed=2)


def test_the_same_code_under_the_rootdir_is_the_users_leak(run_forensics, pytester):
    pytester.makepyfile(leakylib=LIBRARY, test_app=TESTS)
    _, _, verdicts = run_forensics()
    assert verdicts["test_through_the_library"]["verdict"] == "leak"
