"""Non-memory resources a run leaves behind: open files and sockets, child processes,
pending asyncio tasks, checked-out SQLAlchemy connections. (Threads: ``threads``.)

Each kind is listed cheaply enough to do around every test: file descriptors and child
processes from ``/proc/self`` (tens of microseconds), tasks from asyncio's own registry,
connections from pool check-out/check-in events. A baseline holds only identities; what
a run left is what is live now and was not then, described only when reported.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..integrations import sqlalchemy
from ..types import Frames

Site = Callable[[Frames], "str | None"]

_FD_DIR = next((d for d in ("/proc/self/fd", "/dev/fd") if os.path.isdir(d)), None)
_TASKS_DIR = "/proc/self/task"


@dataclass(frozen=True)
class Baseline:
    fds: frozenset[int]
    processes: frozenset[int]
    tasks: frozenset[int]
    connections: frozenset[int]


@dataclass(frozen=True)
class Left:
    """One resource a run left: its kind (the report's ``resources[].kind``), described
    on demand (``site`` names the line a stack is charged to)."""

    kind: str
    describe: Callable[[Site], str]


def baseline() -> Baseline:
    fds = _last_listed[0]
    if not _only_open(fds):
        fds = _last_listed[0] = frozenset(_fds())
    return Baseline(fds, frozenset(_children()),
                    frozenset(id(t) for t in _pending_tasks()),
                    frozenset(sqlalchemy.checkouts.open))


def left_since(base: Baseline) -> list[Left]:
    # Another thread may have opened a descriptor as the listing started: then the
    # listing's own got another number, and is still in it.
    found = [] if _only_open(base.fds) else [
        Left("fd", _fd_text(fd)) for fd in _fds() if fd not in base.fds and _is_open(fd)]
    found += [Left("process", _process_text(pid)) for pid in _children()
              if pid not in base.processes]
    found += [Left("asyncio-task", _task_text(task)) for task in _pending_tasks()
              if id(task) not in base.tasks]
    found += [Left("db-connection", _checkout_text(key))
              for key in list(sqlalchemy.checkouts.open) if key not in base.connections]
    return found


#: goleak and pyleak retry for about 0.4 s before calling anything leaked.
SETTLE_SECONDS = 0.4


def settle(base: Baseline, between: Callable[[], object],
           seconds: float = SETTLE_SECONDS) -> list[Left]:
    """What is still left after retrying with growing pauses (a collection in between,
    which closes files and returns connections nothing holds any more)."""
    left = left_since(base)
    deadline = time.monotonic() + seconds
    pause = 0.01
    while left and time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
        between()
        left = left_since(base)
    return left


# -- file descriptors --------------------------------------------------------------------

def _fds() -> list[int]:
    """The open descriptors, less the listing's own, which is in the listing and closed
    by now: the lowest free number as it starts, found by taking and giving back one
    (3 us, where asking each listed descriptor whether it is open took 1 us each)."""
    if _FD_DIR is None:
        return []
    try:
        own = os.open(os.devnull, os.O_RDONLY)
        os.close(own)
        names = os.listdir(_FD_DIR)
    except OSError:
        return []
    return [fd for fd in map(int, names) if fd != own]


#: The kernel gives the number of open descriptors as the size of ``/proc/self/fd``
#: (Linux 6.2 and later; 0 before).
_COUNTED = _FD_DIR == "/proc/self/fd" and os.stat(_FD_DIR).st_size > 0
#: The descriptors the last listing found (``baseline``).
_last_listed: list[frozenset[int]] = [frozenset()]


def _only_open(fds: frozenset[int]) -> bool:
    """Are exactly ``fds`` open? Asked without listing them (a few us, where listing
    ``/proc/self/fd`` took ~32 between jinja2's tests): as many are open as there are
    of ``fds``, and each of them is still open, so no other is."""
    if not _COUNTED or not fds:
        return False
    try:
        if os.stat(_FD_DIR).st_size != len(fds):  # type: ignore[arg-type]  # _COUNTED: a path
            return False
    except OSError:
        return False
    return all(map(_is_open, fds))


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _fd_text(fd: int) -> Callable[[Site], str]:
    def describe(site: Site) -> str:
        try:
            target = os.readlink(f"{_FD_DIR}/{fd}")
        except OSError:
            target = "?"
        if target.startswith("socket:"):
            target = _socket_text(fd, target)
        return f"fd {fd} -> {target}, still open"
    return describe


def _socket_text(fd: int, fallback: str) -> str:
    import socket
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return fallback
    with sock:
        try:
            local = sock.getsockname()
        except OSError:
            local = None
        try:
            peer = sock.getpeername()
        except OSError:
            peer = None
    kind = {socket.AF_INET: "tcp/udp", socket.AF_INET6: "tcp6/udp6"}.get(
        sock.family, getattr(sock.family, "name", "socket"))
    parts = [f"{kind} socket"]
    if local:
        parts.append(f"local {local}")
    if peer:
        parts.append(f"peer {peer}")
    return " ".join(parts)


# -- child processes ---------------------------------------------------------------------

def _children() -> list[int]:
    """Live child processes; on Linux from each thread's ``children`` file (cheap)."""
    if _childless():
        return []
    try:
        tids = os.listdir(_TASKS_DIR)
    except OSError:
        return _children_psutil()
    pids: list[int] = []
    for tid in tids:
        try:
            pids += map(int, _read(f"{_TASKS_DIR}/{tid}/children").split())
        except OSError:
            continue
    return [pid for pid in pids if not _is_zombie(pid)]


def _childless() -> bool:
    """Has the process no child at all, not even an exited one? Most tests start none,
    and one ``waitid`` call (~1 us; it reaps nothing, and sees every thread's children)
    says so where listing them from ``/proc`` takes two files (~15 us between tests)."""
    waitid = getattr(os, "waitid", None)
    if waitid is None:  # Windows
        return False
    try:
        waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    except OSError:
        return False
    return False


def _read(path: str) -> bytes:
    """A small ``/proc`` file's bytes, without a file object (5 us instead of 12: this
    runs around every test)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536)
    finally:
        os.close(fd)


def _children_psutil() -> list[int]:
    import psutil
    try:
        return [p.pid for p in psutil.Process().children()
                if p.status() != psutil.STATUS_ZOMBIE]
    except psutil.Error:
        return []


def _is_zombie(pid: int) -> bool:
    """An exited child nobody waited for holds no resources but its table entry."""
    try:
        return _read(f"/proc/{pid}/stat").rpartition(b")")[2].split()[0] == b"Z"
    except (OSError, IndexError):
        return True


def _process_text(pid: int) -> Callable[[Site], str]:
    def describe(site: Site) -> str:
        import psutil
        try:
            command = " ".join(psutil.Process(pid).cmdline()) or "?"
        except psutil.Error:
            command = "?"
        return f"pid {pid} ({command[:80]}) still running"
    return describe


# -- asyncio tasks -----------------------------------------------------------------------

def _pending_tasks() -> list[object]:
    """Tasks not done on loops that are not closed (a closed loop's tasks go with it)."""
    tasks_module = sys.modules.get("asyncio.tasks")
    if tasks_module is None:
        return []
    registry = [getattr(tasks_module, name, ()) for name in ("_all_tasks", "_scheduled_tasks")]
    found = []
    for tasks in registry:
        if not tasks:  # the usual case: a set's length, where iterating a WeakSet costs ~10 us
            continue
        for task in list(tasks):
            try:
                if not task.done() and not task.get_loop().is_closed():
                    found.append(task)
            except Exception:
                continue
    return found


def _task_text(task: object) -> Callable[[Site], str]:
    def describe(site: Site) -> str:
        name = getattr(task, "get_name", lambda: "?")()
        coro = getattr(task, "get_coro", lambda: None)()
        qualname = getattr(coro, "__qualname__", type(coro).__name__)
        origin = getattr(coro, "cr_origin", None)  # (file, line, function), innermost first
        where = site(tuple((f, n) for f, n, _ in origin)) if origin else None
        created = f" created at {where}," if where else ""
        return f"{name} ({qualname}){created} still pending"
    return describe


def track_coroutine_origins(depth: int) -> int:
    """Coroutines remember where they were created (``cr_origin``, ``depth`` frames):
    a few microseconds per coroutine, so only around the repetitions of a suspect.
    Returns the depth set before, to restore."""
    before = sys.get_coroutine_origin_tracking_depth()
    sys.set_coroutine_origin_tracking_depth(depth)
    return before


# -- SQLAlchemy connections (followed in ``integrations.sqlalchemy``) ----------------------

def _checkout_text(key: int) -> Callable[[Site], str]:
    pool, frames = sqlalchemy.checkouts.open.get(key, ("pool", ()))

    def describe(site: Site) -> str:
        where = site(frames) if frames else None
        taken = f" checked out at {where}," if where else ""
        return f"connection from a {pool}{taken} never returned"
    return describe
