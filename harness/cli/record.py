"""`record RUN`: write a run folder's matrices as the expectation files (golden
baselines, harness/ci/baseline.py).  Exit 0, 2 bad input or an unmeasured cell."""

from ..ci import BASELINE_DIR, cmd_record


def add_parser(sub):
    cmd = sub.add_parser('record', help='write a run folder\'s matrices as expectation '
                                        'files')
    cmd.add_argument('run', metavar='RUN')
    cmd.add_argument('--baseline', default=BASELINE_DIR, metavar='DIR')
    return cmd


def main(args):
    return cmd_record(args)
