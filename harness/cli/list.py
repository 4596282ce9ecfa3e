"""`list`: the scenarios, one line each; --rules the rules a cell's expectation can
name, --mutations the --mutate catalogue."""

from ..net import check_mininet
from ..scenarios import CATALOGUE, load_all, RULES
from .common import EXIT_OK


def add_parser(sub):
    cmd = sub.add_parser('list', help='the scenarios, one line each')
    cmd.add_argument('--scenario-file', action='append', default=[], metavar='FILE')
    cmd.add_argument('--rules', action='store_true',
                     help="the rules a cell's expectation can name, instead")
    cmd.add_argument('--mutations', action='store_true',
                     help='the --mutate catalogue, instead')
    return cmd


def main(args):
    if args.rules:
        for name, text in RULES.items():
            print(f'{name:20} {text}')
        return EXIT_OK
    if args.mutations:
        for m in CATALOGUE:
            print(f'{m.name:15} {m.does:41} {m.stands_for}')
        return EXIT_OK
    check_mininet()
    repo, extra = load_all(args.scenario_file)
    for sc in repo + extra:
        mark = '' if sc.default else '  (not in the default suite)'
        print(f'{sc.name:16} {sc.title}  [{", ".join(sc.switches)}]{mark}')
    return EXIT_OK
