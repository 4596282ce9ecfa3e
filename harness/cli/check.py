"""`check [SCENARIO]`: from another terminal, probe the open lab again (harness/lab/
lab.py: check_lab).  Exit 0 the goal holds, 1 not yet (or no goal), 2 no lab open."""

from ..lab import check_lab
from .lab import add_lab_options, check_student_option, interruptible


def add_parser(sub):
    cmd = sub.add_parser('check', help='probe the open lab again: exit 0 solved, 1 not '
                                       'yet, 2 no lab open',
                         description='Check the open lab: what changed since the last '
                                     'check, and whether the goal of its sheet holds.')
    cmd.add_argument('scenario', nargs='?', metavar='SCENARIO',
                     help='the scenario the open lab must be')
    add_lab_options(cmd)
    return cmd


def main(args):
    check_student_option(args)
    return interruptible(check_lab, args.scenario, args.student)
