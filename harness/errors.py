"""The harness's errors: every one of them means exit status 2 ("usage or environment").

Exit status 1 is reserved for "a cell differed" (CI reads it that way), so anything
that keeps the harness from measuring -- bad input, a hostile file, a machine that
cannot run the network -- is one of these, with a message that says what to do.
"""


class UsageError(Exception):
    """Bad input or environment: the message is printed, exit 2."""


class EnvError(UsageError):
    """The machine cannot run the harness as asked (not root, no Mininet, firewall)."""


class BadInput(UsageError):
    """A file the harness was given (run folder, shard, expectation, state file) that
    cannot be used: the message names the file and the field."""


class Interrupted(BaseException):
    """SIGTERM arrived (SIGINT arrives as KeyboardInterrupt)."""
