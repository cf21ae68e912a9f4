"""Writing the files users keep (reports, snapshots) so no crash leaves half of one."""

from __future__ import annotations

import contextlib
import os


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
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
