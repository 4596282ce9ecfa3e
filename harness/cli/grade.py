"""`grade DIR... [--out OUT]`: a class's lab records graded into grades.csv,
grades.xlsx, grades.md and paths.html (harness/lab/grade.py).  Exit 0, 1 when
nothing could be graded."""

from ..lab import write_grades
from ..report import log, warn


def add_parser(sub):
    cmd = sub.add_parser('grade', help='grade a class: results/lab/ records -> '
                                       'grades.csv, grades.xlsx, grades.md')
    cmd.add_argument('dirs', nargs='+', metavar='DIR',
                     help='collected results/ folders (or their lab/ folders)')
    cmd.add_argument('--out', default='grades', metavar='OUT',
                     help='where to write the grade files (default: ./grades)')
    return cmd


def main(args):
    return write_grades(args.dirs, args.out, log, warn)
