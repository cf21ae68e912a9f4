"""Database clean-up: engines a block made are disposed, connections it never returned
are named with their line, scoped sessions are emptied."""

from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.orm import scoped_session, sessionmaker
from sqlalchemy.pool import QueuePool

from leak_forensics.errors import ConfigError
from leak_forensics.integrations.sqlalchemy_cleanup import load_metadata, sqlite_session
from leak_forensics.testing import clear_scoped_sessions, track_engines

METADATA = MetaData()
ITEMS = Table("items", METADATA, Column("id", Integer, primary_key=True))


def test_engines_made_inside_are_disposed_and_a_connection_left_out_is_named(tmp_path):
    before = create_engine("sqlite://")
    with track_engines() as tracker:
        engine = create_engine(f"sqlite:///{tmp_path}/db.sqlite", poolclass=QueuePool)
        with engine.connect() as returned:
            returned.execute(text("select 1"))
        pool = engine.pool
        assert pool.checkedin() == 1
        kept = engine.connect()  # NEVER RETURNED
        unused = create_engine("sqlite://")
    assert set(map(id, tracker.engines)) == {id(engine), id(unused)}
    assert id(before) not in set(map(id, tracker.engines))
    assert pool.checkedin() == 0  # disposed: the returned connection is closed
    assert len(tracker.checked_out) == 1
    source = Path(__file__).read_text().splitlines()
    line = next(n for n, text in enumerate(source, 1) if "# NEVER RETURNED" in text)
    assert f"test_sqlalchemy_cleanup.py:{line} was never returned" in tracker.checked_out[0]
    kept.close()


def test_clear_scoped_sessions_removes_every_registrys_session():
    engine = create_engine("sqlite://")
    registry = scoped_session(sessionmaker(engine))
    registry()
    assert registry.registry.has()
    assert clear_scoped_sessions() >= 1
    assert not registry.registry.has()
    engine.dispose()


def test_sqlite_session_has_the_tables_and_is_rolled_back_closed_and_disposed():
    disposed = []
    on_dispose = disposed.append  # one bound method, to remove what was added
    event.listen(Engine, "engine_disposed", on_dispose)
    try:
        with sqlite_session(METADATA) as session:
            session.execute(insert(ITEMS).values(id=1))
            assert session.execute(select(ITEMS.c.id)).scalars().all() == [1]
            engine = session.get_bind()
    finally:
        event.remove(Engine, "engine_disposed", on_dispose)
    assert disposed == [engine]
    assert not session.in_transaction()
    with sqlite_session(METADATA) as fresh:
        assert fresh.execute(select(ITEMS.c.id)).scalars().all() == []


@pytest.mark.parametrize(("spec", "message"), [
    ("no_colon", "is not 'package.module:attribute'"),
    ("not_a_module_anywhere:Base", "cannot import not_a_module_anywhere"),
    ("test_sqlalchemy_cleanup:Missing.metadata", "'Missing' not found"),
    ("test_sqlalchemy_cleanup:ITEMS", "is a Table, not SQLAlchemy MetaData"),
])
def test_a_bad_metadata_setting_is_one_line(spec, message):
    with pytest.raises(ConfigError, match=message) as caught:
        load_metadata(spec)
    assert "\n" not in str(caught.value)


def test_metadata_is_found_by_its_dotted_name():
    assert load_metadata("test_sqlalchemy_cleanup:METADATA") is METADATA
