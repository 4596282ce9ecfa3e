"""`explain RUN CELL...`: one cell of a run folder explained: its outcome, the reason
and rule, the lab sheet's words (harness/lab/explain.py)."""

from ..lab import explain_run
from .common import EXIT_OK


def add_parser(sub):
    cmd = sub.add_parser('explain', help='explain one cell of a run: outcome, reason, '
                                         'rule, the lab sheet\'s words')
    cmd.add_argument('run', metavar='RUN', help='a run folder (or results/ with latest)')
    cmd.add_argument('cell', nargs='+', metavar='CELL',
                     help='the cell: HOST KIND COLUMN (h2 bind tcp 10.0.0.1) or its id')
    cmd.add_argument('--scenario', metavar='NAME', help='the scenario, when the run has '
                                                        'several with that cell')
    return cmd


def main(args):
    for line in explain_run(args.run, ' '.join(args.cell), args.scenario):
        print(line)
    return EXIT_OK
