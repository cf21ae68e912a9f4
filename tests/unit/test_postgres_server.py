"""The tests' own PostgreSQL server must live as long as the session that started it."""

import psutil
import psycopg
from mirakuru.base import ENV_UUID


def test_no_other_process_exit_can_kill_the_server(postgresql_server):
    # mirakuru's exit hook, run by every process that imports it, kills each process whose
    # mark contains that process's pid as text: the server must carry no mark.
    address = postgresql_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{address}/postgres") as connection:
        backend = connection.execute("SELECT pg_backend_pid()").fetchone()[0]
        server = psutil.Process(backend).ppid()
    assert psutil.Process(server).name() == "postgres"
    assert ENV_UUID not in psutil.Process(server).environ()
