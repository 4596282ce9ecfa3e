"""The command line: python3 -m harness (or `bindlab`, bin/bindlab) COMMAND ...

One module a command, each with the same two functions, registered in COMMANDS in
the order `--help` lists them:

    add_parser(sub)   the command's subparser: its arguments and its help line
    main(args)        the command: calls into the stages' faces; the exit status

    list  run  clean-net  lab  check  diff  record  verify  merge  explain  grade
    docker-real  snapshot             (help COMMAND is COMMAND --help)

Every argument is parsed here and nowhere else in harness/ (python3 -m harness.lab
ARGS is `lab ARGS`, harness/lab/__main__.py).  Nothing imports this package but
harness/__main__.py, harness/lab/__main__.py and bin/bindlab; it may import every
stage's face (tests/test_stages.py).  `--version` prints harness.__version__.

Exit status: 0 every cell passed; 1 some cell failed or could not be measured (or
clean-net could not remove everything, or a baseline changed, or the lab is not
solved yet); 2 usage or environment error, hostile or broken input, or an
interrupted run -- the message says what to do, and nothing is left built.
"""

import argparse
import sys

from .. import __version__
from ..errors import Interrupted, UsageError
from ..ledger import LockBusy
from ..report import warn
from . import (check, clean_net, diff, docker_real, explain, grade, lab,
               list as listing, merge, record, run, snapshot, verify)
from .common import EXIT_USAGE, Misuse, PROG

COMMANDS = (('list', listing), ('run', run), ('clean-net', clean_net), ('lab', lab),
            ('check', check), ('diff', diff), ('record', record), ('verify', verify),
            ('merge', merge), ('explain', explain), ('grade', grade),
            ('docker-real', docker_real), ('snapshot', snapshot))

__all__ = ['COMMANDS', 'main']


def build_parser(prog=PROG):
    """(the parser, {command name: its subparser})."""
    parser = argparse.ArgumentParser(prog=prog,
                                     description='Run bindlab scenarios on Mininet.')
    parser.add_argument('--version', action='version', version=f'bindlab {__version__}')
    sub = parser.add_subparsers(dest='command', required=True)
    parsers = {}
    for name, module in COMMANDS:
        parsers[name] = module.add_parser(sub)
        assert sub.choices.get(name) is parsers[name], f'{module.__name__} is not {name}'
    # Listed for the usage line only: main() turns `help X` into `X --help`.
    sub.add_parser('help', help='the options of one command: help COMMAND').add_argument(
        'topic', nargs='?', metavar='COMMAND')
    return parser, parsers


def main(argv=None, prog=PROG):
    """Parse argv (default sys.argv[1:]) and run its command; the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == 'help':              # `help [COMMAND]`: COMMAND --help
        argv = argv[1:2] + ['--help']
    parser, parsers = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        return dict(COMMANDS)[args.command].main(args)
    except Misuse as exc:
        parsers[args.command].error(str(exc))   # exits 2
    except (UsageError, LockBusy) as exc:
        warn(str(exc))
        return EXIT_USAGE
    except (KeyboardInterrupt, Interrupted):
        warn('interrupted: the network was torn down; no result files written')
        return EXIT_USAGE
