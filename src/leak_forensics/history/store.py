"""Opening a history database, bringing its schema up to date, and reading and writing it.

Several CI jobs may write to one store at the same moment: each run is one transaction
(on SQLite in WAL mode, with a busy timeout, so writers wait instead of failing). A store
written by a newer version of this toolkit is refused before anything is written, so an
older checkout never damages a newer team's history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from ..analysis.memory_trend import TaggedSample
from ..errors import BadInput
from . import schema

#: The newest revision in ``migrations/versions`` (a test holds the two together).
HEAD = "0002"
#: The advisory lock that serialises schema upgrades on PostgreSQL ("leakfore" in ASCII).
_LOCK_KEY = 0x6C65616B666F7265
_MIGRATIONS = Path(__file__).with_name("migrations")
#: Seconds a writer waits for another to finish with a SQLite file.
_BUSY_TIMEOUT = 30


class HistoryError(BadInput):
    """The store cannot be used: unreachable, not a history, or from a newer version."""


@dataclass
class RunRecord:
    started: datetime
    finished: datetime
    exit_status: int
    outcomes: dict[str, int]
    host: str
    python: str
    platform: str
    plugin_version: str
    options: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    ci_provider: str | None = None
    ci_build: str | None = None
    peak_rss: int | None = None
    growth_rate: float | None = None


@dataclass
class TestRecord:
    nodeid: str
    outcome: str
    verdict: str
    bytes_per_run: int = 0
    blocks_per_run: int = 0
    runs: int = 1
    top_sites: list[str] = field(default_factory=list)
    top_types: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    duration: float | None = None
    rss_start: int | None = None
    rss_end: int | None = None

    __test__ = False  # not a pytest test class


def engine_for(url: str) -> Engine:
    """An engine for ``url``; a bad URL or a missing driver is one line."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise HistoryError(f"{url!r} is not a database URL (e.g. sqlite:///history.db, "
                           "postgresql+psycopg://host/db)") from None
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, connect_args={"timeout": _BUSY_TIMEOUT} if sqlite
                               else {})
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise HistoryError(f"{parsed.render_as_string(hide_password=True)}: no driver for it "
                           f"({exc}); for PostgreSQL: pip install "
                           "'pytest-leak-forensics[postgresql]'") from None
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection: Connection) -> None:
    """Take the write lock when a transaction begins, not at its first write: two
    processes that both found no tables would otherwise both create them (and one
    fail). The driver's own transaction handling is off (``_sqlite_pragmas``)."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:  # noqa: ANN401  # a DB-API connection
    dbapi_connection.isolation_level = None  # SQLAlchemy's begin event starts transactions
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the one writer
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class HistoryStore:
    def __init__(self, url: str, create: bool = True) -> None:
        """``create``: make the store if there is none (a run does; a reader does not)."""
        self.url = url
        self.where = make_url(url).render_as_string(hide_password=True) \
            if _is_url(url) else url
        if not create and not _exists(url):
            raise HistoryError(f"no history at {self.where} (pytest --leak-forensics "
                               "records each run there)")
        self.engine = engine_for(url)
        try:
            self._upgrade()
        except SQLAlchemyError as exc:
            raise HistoryError(f"{self.where}: {_first_line(exc)}") from None

    def _current(self) -> list[str] | None:
        """The store's schema revisions, or None if it has no version table yet."""
        try:
            with self.engine.connect() as connection:
                return [str(row[0]) for row in
                        connection.exec_driver_sql("SELECT version_num FROM alembic_version")]
        except SQLAlchemyError:
            return None

    def _upgrade(self) -> None:
        # Alembic costs 0.14 s to import: a store already at this version does without it.
        if self._current() == [HEAD]:
            return
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        known = {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # one upgrade at a time
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
            current = set(MigrationContext.configure(connection).get_current_heads())
            newer = current - known
            if newer:
                raise HistoryError(
                    f"{self.where} was written by a newer pytest-leak-forensics (schema "
                    f"{', '.join(sorted(newer))}); upgrade it to use this history")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def record(self, run: RunRecord, tests: list[TestRecord]) -> int:
        """Write one run and its tests in one transaction; return the run's id."""
        try:
            with self.engine.begin() as connection:
                run_id = connection.execute(
                    insert(schema.runs).values(**vars(run)).returning(schema.runs.c.id)
                ).scalar_one()
                if tests:
                    connection.execute(insert(schema.tests),
                                       [{"run_id": run_id, **vars(t)} for t in tests])
        except SQLAlchemyError as exc:
            raise HistoryError(f"{self.where}: {_first_line(exc)}") from None
        return int(run_id)

    def set_exit_status(self, run_id: int, status: int) -> None:
        """The run's final exit status, once an alert has changed it."""
        try:
            with self.engine.begin() as connection:
                connection.execute(update(schema.runs).where(schema.runs.c.id == run_id)
                                   .values(exit_status=status))
        except SQLAlchemyError as exc:
            raise HistoryError(f"{self.where}: {_first_line(exc)}") from None

    def add_samples(self, run_id: int, samples: Sequence[TaggedSample]) -> None:
        """Attach a runner's samples to the run its pytest recorded."""
        rows = [{"run_id": run_id, "time": s.time, "pid": s.pid, "process": s.process,
                 "rss": s.rss, "nodeid": s.nodeid} for s in samples]
        self.run(run_id)  # one line if there is no such run
        try:
            with self.engine.begin() as connection:
                if rows:
                    connection.execute(insert(schema.samples), rows)
        except SQLAlchemyError as exc:
            raise HistoryError(f"{self.where}: {_first_line(exc)}") from None

    def samples(self, run_id: int) -> list[dict[str, Any]]:
        return self._rows(select(schema.samples).where(schema.samples.c.run_id == run_id)
                          .order_by(schema.samples.c.id))

    def runs(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Runs, newest first, each with ``leaks``: its tests whose verdict is a leak."""
        leaks = select(func.count()).where(schema.tests.c.run_id == schema.runs.c.id,
                                           schema.tests.c.verdict == "leak") \
            .scalar_subquery().label("leaks")
        return self._rows(select(schema.runs, leaks).order_by(schema.runs.c.id.desc())
                          .limit(limit))

    def tests(self, run_id: int) -> list[dict[str, Any]]:
        query = select(schema.tests).where(schema.tests.c.run_id == run_id) \
            .order_by(schema.tests.c.id)
        return self._rows(query)

    def run(self, run_id: int) -> dict[str, Any]:
        rows = self._rows(select(schema.runs).where(schema.runs.c.id == run_id))
        if not rows:
            raise HistoryError(f"{self.where} has no run {run_id} (leak-forensics history "
                               "lists them)")
        return rows[0]

    def baseline(self, run_id: int, branch: str | None) -> int | None:
        """The run to compare ``run_id`` with: the latest earlier run on the same branch,
        else the latest earlier run."""
        earlier = select(schema.runs.c.id).where(schema.runs.c.id < run_id) \
            .order_by(schema.runs.c.id.desc()).limit(1)
        if branch is not None:
            same = self._rows(earlier.where(schema.runs.c.git_branch == branch))
            if same:
                return int(same[0]["id"])
        rows = self._rows(earlier)
        return int(rows[0]["id"]) if rows else None

    def _rows(self, query: Any) -> list[dict[str, Any]]:  # noqa: ANN401  # any select
        try:
            with self.engine.connect() as connection:
                return [dict(row._mapping) for row in connection.execute(query)]
        except SQLAlchemyError as exc:
            raise HistoryError(f"{self.where}: {_first_line(exc)}") from None

    def close(self) -> None:
        self.engine.dispose()


def _is_url(url: str) -> bool:
    try:
        make_url(url)
    except ArgumentError:
        return False
    return True


def _exists(url: str) -> bool:
    """False only for a SQLite file that is not there; a server is asked when used."""
    if not _is_url(url):
        return True  # engine_for says why it is not a URL
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return True
    return Path(parsed.database).is_file()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
