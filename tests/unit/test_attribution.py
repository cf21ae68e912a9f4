"""Which frames are the user's, a library's, the standard library's or the harness's."""

import json
import os

import hypothesis
import objgraph
import sqlalchemy

from leak_forensics.analysis.attribution import FrameClassifier, Kind
from leak_forensics.snapshot import model as snapshot


def test_libraries_beside_a_single_file_harness_module_stay_libraries(tmp_path):
    classifier = FrameClassifier(str(tmp_path))
    # objgraph is one file in site-packages; its directory is every library's.
    assert classifier.kind(objgraph.__file__) is Kind.HARNESS
    assert classifier.kind(sqlalchemy.__file__) is Kind.LIBRARY
    assert classifier.kind(json.__file__) is Kind.STDLIB
    assert classifier.kind(str(tmp_path / "app.py")) is Kind.USER


def test_pytest_plugins_from_outside_the_rootdir_are_harness(tmp_path):
    plugins = ["hypothesis.extra.pytestplugin", "conftest"]
    classifier = FrameClassifier(str(tmp_path), plugins=plugins)
    inner = os.path.join(os.path.dirname(hypothesis.__file__), "core.py")
    assert classifier.kind(inner) is Kind.HARNESS
    assert classifier.kind(sqlalchemy.__file__) is Kind.LIBRARY


def test_own_allocations_are_those_our_code_asked_for(tmp_path):
    classifier = FrameClassifier(str(tmp_path))
    ours, user = snapshot.__file__, str(tmp_path / "test_app.py")
    library = sqlalchemy.__file__
    # psutil/objgraph called from our code: ours. Our code running the user's test, which
    # calls a library: the user's.
    assert classifier.is_own(((library, 1), (ours, 2)))
    assert not classifier.is_own(((library, 1), (user, 2), (ours, 3)))
    assert not classifier.is_own(((json.__file__, 1), (library, 2)))
