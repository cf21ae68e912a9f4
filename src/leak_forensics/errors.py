"""Every error a user can meet, in one place: bad input (one line; exit status 2 on the
command line, a usage error in pytest) and the warning an internal error becomes."""


class BadInput(ValueError):
    """A file or an argument the user can fix; the message is one line, saying which."""


class ConfigError(BadInput):
    """A setting (option, ini value, marker argument) is malformed; shown as is."""


class SnapshotError(BadInput):
    """A file is not a readable snapshot; the message is one line for the user."""


class ReportError(BadInput):
    """A file is not a readable leak report; the message is one line for the user."""


class LeakError(AssertionError):
    """``assert_no_leaks`` found a leak; the message is the report a leaking test gets.
    An ``AssertionError``, so that pytest shows it as a failed assertion."""


class LeakForensicsWarning(UserWarning):
    """Something went wrong inside leak-forensics; the test run itself is unaffected."""


class MemoryGrowthWarning(UserWarning):
    """A test that uses ``memory_monitor`` grew the process by more than its threshold.

    A warning, not a failure: RSS moves in pages and arenas, so one test's growth is a
    hint worth a look, and ``-W error::leak_forensics.MemoryGrowthWarning`` makes it fail
    where a team wants that."""
