"""`diff RUN_A RUN_B`: the cells that differ between two run folders, one line each
(harness/ci/baseline.py).  Exit 0 same, 1 differ, 2 bad input."""

from ..ci import cmd_diff


def add_parser(sub):
    cmd = sub.add_parser('diff', help='list the cells that differ between two run folders')
    cmd.add_argument('run_a', metavar='RUN_A')
    cmd.add_argument('run_b', metavar='RUN_B')
    return cmd


def main(args):
    return cmd_diff(args)
