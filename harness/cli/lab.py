"""`lab SCENARIO`: open a scenario as an interactive lab (harness/lab/lab.py).

`lab check [SCENARIO]` is `check [SCENARIO]` (harness/cli/check.py), so that
`python3 -m harness.lab check` (harness/lab/__main__.py: `lab ARGS`) keeps working.
The lab's options are the check's too (check reads only --student).
"""

from ..errors import Interrupted
from ..lab import check_lab, default_results, open_lab, valid_student
from ..net import add_builder_option, SWITCH_KINDS
from ..report import warn
from .common import EXIT_USAGE, Misuse


def add_parser(sub):
    cmd = sub.add_parser('lab', help='open a scenario as an interactive lab: its broken '
                                     'network and a Mininet CLI with `check`',
                         description='Open a scenario as an interactive lab, or check '
                                     'the open lab.')
    cmd.add_argument('scenario', nargs='?', metavar='SCENARIO|check')
    cmd.add_argument('rest', nargs='?', metavar='SCENARIO',
                     help='after `check`: the scenario the open lab must be')
    add_lab_options(cmd)
    return cmd


def add_lab_options(cmd):
    """The options of `lab` and `check`."""
    cmd.add_argument('--switch', choices=SWITCH_KINDS, default='auto')
    add_builder_option(cmd)
    cmd.add_argument('--scenario-file', action='append', default=[], metavar='FILE')
    cmd.add_argument('--student', metavar='ID',
                     help='the student: their own variant, and every check recorded '
                          'under RESULTS/lab/<scenario>/<ID>.jsonl')
    cmd.add_argument('--results', default=default_results(), metavar='DIR',
                     help='where the lab records go (default: results/)')
    cmd.add_argument('-v', '--verbose', action='store_true')


def check_student_option(args):
    """Misuse unless --student is absent or a student ID."""
    if args.student is not None and not valid_student(args.student):
        raise Misuse(f'--student {args.student!r}: a student ID is 1-64 letters, digits, '
                     '".", "_" or "-", starting with a letter or digit')


def main(args):
    check_student_option(args)
    if args.scenario == 'check':
        return interruptible(check_lab, args.rest, args.student)
    if args.scenario is None:
        raise Misuse('name a scenario (python3 -m harness list), or `check`')
    if args.rest is not None:
        raise Misuse(f'unexpected argument {args.rest!r}')
    return interruptible(open_lab, args.scenario, args.switch, args.builder,
                         args.scenario_file, args.student, args.results, args.verbose)


def interruptible(command, *argv):
    """command(*argv); Ctrl-C or SIGTERM before the lab's CLI was open: exit 2 (the
    lab is torn down by then)."""
    try:
        return command(*argv)
    except (KeyboardInterrupt, Interrupted):
        warn('interrupted: the lab was torn down')
        return EXIT_USAGE
