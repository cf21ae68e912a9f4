"""The test utilities' fixtures (``leak_forensics.testing``), registered with the plugin
whether or not the leak checks are on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ..errors import ConfigError
from ..settings import parse_bool

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..integrations.sqlalchemy_cleanup import EngineTracker

METADATA_INI = "leak_forensics_sqlite_metadata"
AUTOUSE_INI = "leak_forensics_cleanup_autouse"


def add_ini(parser: pytest.Parser) -> None:
    parser.addini(METADATA_INI, "the SQLAlchemy MetaData the sqlite_session fixture creates "
                  "its tables from, as package.module:Base.metadata")
    parser.addini(AUTOUSE_INI, "run comprehensive_test_cleanup around every test "
                  "(true/false; default false)", default="false")


def configure(config: pytest.Config) -> None:
    """Raises ConfigError on an ini value that is not a boolean."""
    if parse_bool(f"ini {AUTOUSE_INI}", config.getini(AUTOUSE_INI)):
        config.pluginmanager.register(_Autouse(), "leak_forensics_cleanup_autouse")


class _Autouse:
    @pytest.fixture(autouse=True)
    def _leak_forensics_cleanup_autouse(self, comprehensive_test_cleanup: None) -> None:
        """Requests the cleanup for every test (ini ``leak_forensics_cleanup_autouse``)."""


@pytest.fixture
def tracked_engines() -> Iterator[EngineTracker]:
    """Engines the test creates are disposed after it; connections it never returned
    are logged with the line that took them (``tracked_engines.checked_out``)."""
    from ..integrations.sqlalchemy_cleanup import track_engines

    with track_engines() as tracker:
        yield tracker


@pytest.fixture
def sqlite_session(request: pytest.FixtureRequest) -> Iterator[Session]:
    """A session on an in-memory SQLite database for one test, with the tables of the
    ``MetaData`` given by indirect parametrisation or ini ``leak_forensics_sqlite_metadata``."""
    from ..integrations.sqlalchemy_cleanup import load_metadata, sqlite_session

    metadata: Any = getattr(request, "param", None)
    spec = request.config.getini(METADATA_INI)
    if metadata is None and spec:
        try:
            metadata = load_metadata(str(spec))
        except ConfigError as exc:
            pytest.fail(f"leak-forensics: ini {METADATA_INI}: {exc}", pytrace=False)
    with sqlite_session(metadata) as session:
        yield session


@pytest.fixture
def comprehensive_test_cleanup(request: pytest.FixtureRequest) -> Iterator[None]:
    """The strategy's clean-up around one test: scoped sessions cleared, engines the test
    made disposed, its threads waited for, garbage collected, caches emptied; RSS
    growth and threads still alive logged at DEBUG on the ``leak_forensics`` logger."""
    from ..analysis.attribution import FrameClassifier, Kind
    from ..cleanup.per_test import TestCleanup

    config = request.config
    classifier = FrameClassifier(str(config.rootpath))
    cleanup = TestCleanup(
        hooks=lambda: config.hook.pytest_leak_forensics_cleanup(config=config),
        is_user_file=lambda filename: classifier.kind(filename) is Kind.USER)
    cleanup.before()
    yield
    cleanup.after()
