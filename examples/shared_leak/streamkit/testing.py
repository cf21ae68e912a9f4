"""The test client: runs a command with its output captured."""

import io
from collections.abc import Callable

from ._compat import text_writer


class Runner:
    def invoke(self, command: Callable[..., None], *args: str) -> str:
        stream = io.BytesIO()
        out = text_writer(stream)
        command(*args, out=out)
        return stream.getvalue().decode("utf-8")
