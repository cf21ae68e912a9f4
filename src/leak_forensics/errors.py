"""The one error type the command line turns into a one-line message and exit status 2."""


class BadInput(ValueError):
    """A file or an argument the user can fix; the message is one line, saying which."""


class SnapshotError(BadInput):
    """A file is not a readable snapshot; the message is one line for the user."""
