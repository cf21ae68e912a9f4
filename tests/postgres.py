"""A throwaway PostgreSQL server for the history tests, started from the machine's own
binaries (Debian's ``postgresql`` package; ``.ci/run`` installs it) by pytest-postgresql's
executor, on loopback, and stopped at the end.

``pg_ctl`` runs through a wrapper: it drops mirakuru's mark (see below) and, as root
(PostgreSQL refuses to run as root, and CI runs as root), runs the server as the
``postgres`` user the package makes.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil  # noqa: F401  # before pytester's snapshot of sys.modules: the executor's

# clean-up needs it at the end of the session, after pytester took back later imports
import pytest
from mirakuru.base import ENV_UUID
from pytest_postgresql.executors.proc import PostgreSQLExecutor

#: CI sets this: there, a missing server is a failure, never a skip.
REQUIRED = os.environ.get("LEAK_FORENSICS_REQUIRE_POSTGRESQL") == "1"
_databases = itertools.count()


def _pg_ctl() -> str | None:
    found = shutil.which("pg_ctl")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[str]:
    """The server's URL without a database: ``postgresql+psycopg://postgres@127.0.0.1:N``."""
    pg_ctl = _pg_ctl()
    if pg_ctl is None:
        message = ("no PostgreSQL binaries (pg_ctl) on this machine: the PostgreSQL half of "
                   "the history tests is skipped (apt-get install postgresql runs it)")
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    base = Path(tempfile.mkdtemp(prefix="leak-forensics-pg-"))
    as_user = ""
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        as_user = "runuser -u postgres -- "
    # mirakuru marks what it starts with an environment variable, and every process that
    # imports it (each pytester subprocess, through pytest-postgresql's entry point) kills
    # at its exit every process whose mark *contains* its own pid as text: a server that
    # kept the mark died, now and then, at the exit of an unrelated run. It drops the mark.
    wrapper = Path(tempfile.mkdtemp(prefix="leak-forensics-pg-ctl-")) / "pg_ctl"
    wrapper.write_text(f'#!/bin/sh\nexec env -u {ENV_UUID} {as_user}"{pg_ctl}" "$@"\n')
    wrapper.chmod(0o755)
    port = _free_port()
    server = PostgreSQLExecutor(
        executable=str(wrapper), host="127.0.0.1", port=port, datadir=str(base / "data"),
        unixsocketdir=str(base), logfile=str(base / "server.log"), startparams="-w",
        dbname="postgres", user="postgres")
    server.start()
    try:
        _wait_until_ready(f"postgresql://postgres@127.0.0.1:{port}/postgres")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(wrapper.parent, ignore_errors=True)


def _wait_until_ready(address: str, seconds: float = 60) -> None:
    """The port opens before the server takes connections ("the database system is
    starting up"): wait for the first one to succeed."""
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(address, connect_timeout=5).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def new_database(server: str) -> str:
    """A fresh, empty database on the server; its URL."""
    import psycopg

    name = f"history_{os.getpid()}_{next(_databases)}"
    address = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{address}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"
