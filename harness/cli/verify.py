"""`verify RUN`: compare a run folder (say one merged from shards) with the
expectation files (harness/ci/baseline.py).  Exit 0 unchanged, 1 changed, 2 no
baseline or bad input.  (`check` is the lab's re-probe.)"""

from ..ci import BASELINE_DIR, cmd_verify


def add_parser(sub):
    cmd = sub.add_parser('verify', help='compare a run folder with the expectation files')
    cmd.add_argument('run', metavar='RUN')
    cmd.add_argument('--baseline', default=BASELINE_DIR, metavar='DIR')
    return cmd


def main(args):
    return cmd_verify(args)
