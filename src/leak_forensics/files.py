"""Writing the files users keep (reports, snapshots) so no crash leaves half of one."""

from __future__ import annotations

import contextlib
import os

from .errors import BadInput


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """A reader of ``path`` sees the old file or the new one, never half of one.

    The temporary file sits beside the target, so the final rename stays on one file
    system; it is created with ``open`` rather than ``mkstemp`` so the umask decides its
    permissions, as for any other file the user writes.
    """
    temporary = f"{os.fspath(path)}.{os.urandom(4).hex()}.tmp"
    try:
        with open(temporary, "xb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError) and exc.errno is not None:
            # Named after the file the user asked for, not the temporary one.
            raise OSError(exc.errno, exc.strerror, os.fspath(path)) from None
        raise


def check_writable(path: str, what: str) -> None:
    """Fail now, in one line, if ``path`` cannot be written at the end of a long run.

    Missing parent directories are made, as pytest's ``--junitxml`` makes them.
    """
    if os.path.isdir(path):
        raise BadInput(f"{what}: {path} is a directory; give a file name")
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"{what}: cannot create {parent}: {exc.strerror or exc}") from None
    if not os.access(parent, os.W_OK) or (os.path.exists(path)
                                          and not os.access(path, os.W_OK)):
        raise BadInput(f"{what}: {path} cannot be written (permission denied)")
