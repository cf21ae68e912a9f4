"""Resources a test leaves open — files, sockets, processes, asyncio tasks, database
connections — are leaks too, named with where they were made."""

import pytest

RESOURCE_LEAKS = {
    "fd": ("""
_OPEN = []
def test_it(tmp_path):
    _OPEN.append(open(tmp_path / "log.txt", "w"))  # LEAK
""", "fd", "log.txt, still open"),
    "socket": ("""
import socket
_SOCKETS = []
def test_it():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    _SOCKETS.append(server)  # LEAK
""", "fd", "socket local ('127.0.0.1',"),
    "process": ("""
import subprocess, sys
_CHILDREN = []
def test_it():
    _CHILDREN.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))
""", "process", "time.sleep(60)) still running"),
    "asyncio_task": ("""
import asyncio
LOOP = asyncio.new_event_loop()
async def poll():
    await asyncio.sleep(3600)
def test_it():
    async def start():
        asyncio.ensure_future(poll())  # LEAK
    LOOP.run_until_complete(start())
""", "asyncio-task", "(poll) created at test_mod.py:7, still pending"),
    "db_connection": ("""
from sqlalchemy import create_engine, text
from sqlalchemy.pool import QueuePool
ENGINE = create_engine("sqlite://", poolclass=QueuePool, pool_size=20)
_HELD = []
def test_it():
    conn = ENGINE.connect()  # LEAK
    conn.execute(text("select 1"))
    _HELD.append(conn)
""", "db-connection", "connection from a QueuePool checked out at test_mod.py:6, never returned"),
}


@pytest.mark.parametrize("name", sorted(RESOURCE_LEAKS))
def test_resource_left_open_is_a_leak_named_where_it_was_made(run_forensics, pytester, name):
    source, kind, detail = RESOURCE_LEAKS[name]
    pytester.makepyfile(test_mod=source)
    result, _, verdicts = run_forensics()
    assert result.ret == 0
    entry = verdicts["test_it"]
    assert entry["verdict"] == "leak", entry
    found = [r["detail"] for r in entry["resources"] if r["kind"] == kind]
    assert found and any(detail in d for d in found), entry["resources"]


def test_resources_closed_by_the_test_or_by_collection_are_clean(run_forensics, pytester):
    pytester.makepyfile(test_mod="""
import asyncio, socket, subprocess, sys
from sqlalchemy import create_engine, text
ENGINE = create_engine("sqlite:///:memory:")

def test_file(tmp_path):
    with open(tmp_path / "a.txt", "w") as handle:
        handle.write("x")

def test_dropped_file(tmp_path):
    open(tmp_path / "b.txt", "w")  # closed when collected

def test_process():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

def test_task():
    async def work():
        await asyncio.sleep(0)
    asyncio.run(work())

def test_connection():
    with ENGINE.connect() as conn:
        conn.execute(text("select 1"))
""")
    _, _, verdicts = run_forensics("-W", "ignore::ResourceWarning")
    assert {name: v["verdict"] for name, v in verdicts.items()} == {
        "test_file": "clean", "test_dropped_file": "clean", "test_process": "clean",
        "test_task": "clean",
        # sqlite3 keeps a weak reference per cursor until its 200th: a known leak.
        "test_connection": "known-leak"}
    assert not any(v["resources"] for v in verdicts.values()), verdicts


def test_a_stuck_thread_is_one_leak_with_what_it_keeps_folded_into_it(run_forensics,
                                                                     pytester):
    pytester.makepyfile(test_mine="""
import threading

def test_stuck_thread():
    stop = threading.Event()
    threading.Thread(target=stop.wait, name="stuck-worker", daemon=True).start()
""")
    result, data, verdicts = run_forensics()
    entry = verdicts["test_stuck_thread"]
    assert entry["verdict"] == "leak"
    # Its frames' locals, its target's closure, threading's weak record of it, the
    # method only C holds: all the thread's, one leak, one group.
    assert len(data["leak_groups"]) == 1
    group = data["leak_groups"][0]
    assert group["where"] == ("thread stuck-worker (Event.wait, daemon) started at "
                              "test_mine.py:5")
    assert len({o["signature"] for o in entry["owners"]}) == 1
    out = result.stdout.lines
    header = out.index("test_mine.py::test_stuck_thread leaks "
                       + next(line.split(" leaks ")[1] for line in out
                              if line.startswith("test_mine.py::test_stuck_thread leaks ")))
    assert out[header + 1] == ("  thread: stuck-worker (Event.wait, daemon) started at "
                               "test_mine.py:5, still alive")  # the cause comes first
    assert any(line.startswith("  kept alive by that thread (sampled): ") for line in out)
    assert not any("__closure__" in line or "the leak begins at thread" in line
                   for line in out)
    assert any("waited the whole thread timeout" in n for n in entry["notes"])
