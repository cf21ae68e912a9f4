"""Errors shown to users: bad input (one line, exit status 2 on the command line) and the
warning an internal error of the plugin becomes."""


class BadInput(ValueError):
    """A file or an argument the user can fix; the message is one line, saying which."""


class SnapshotError(BadInput):
    """A file is not a readable snapshot; the message is one line for the user."""


class LeakForensicsWarning(UserWarning):
    """Something went wrong inside leak-forensics; the test run itself is unaffected."""
