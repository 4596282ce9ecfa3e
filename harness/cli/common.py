"""What the command modules share: the exit statuses, the program's name, where
results go, and Misuse (a usage error the parser itself cannot see)."""

import os

from .. import INSTALLED, REPO

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
PROG = 'python3 -m harness'     # bin/bindlab passes prog='bindlab'


class Misuse(Exception):
    """Arguments that parsed but do not go together: harness/cli/__init__.py prints
    the command's usage line and `PROG COMMAND: error: MESSAGE`, exit 2, as argparse
    does for what it checks itself."""


def default_out():
    """Where results go without --out: the clone's results/, or ./results of the
    current folder for an installed bindlab (harness/__init__.py: INSTALLED)."""
    return os.path.abspath('results') if INSTALLED else os.path.join(REPO, 'results')
