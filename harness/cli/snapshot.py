"""`snapshot [-o FILE] [--redact]`: this host's network as one JSON file (the
namespace bindlab runs in): addresses with their flags, links, routes, rules,
neighbours, listeners, the sysctls that decide binds, /etc/hosts, resolv.conf and
the hostname (harness/replica/).  Read-only, connects nowhere, needs no root (what
it could not read is listed in the file's `unreadable`).  Exit 0, or 2 when the
file cannot be written."""

import json
import sys

from ..files import write_file
from ..replica import check_snapshot, redact_snapshot, take_snapshot
from .common import EXIT_OK


def add_parser(sub):
    cmd = sub.add_parser('snapshot', help='this host\'s addresses, routes, listeners and '
                                          'bind sysctls as one JSON file (read-only)')
    cmd.add_argument('-o', '--output', metavar='FILE',
                     help='write the snapshot to FILE (default: standard output)')
    cmd.add_argument('--redact', action='store_true',
                     help='relabel addresses (public ones into documentation ranges), '
                          'names and MACs consistently, for a bug report')
    return cmd


def main(args):
    snap = take_snapshot()
    if args.redact:
        snap = redact_snapshot(snap)
    check_snapshot(snap, args.output or '<snapshot>')     # what we write, we can read back
    text = json.dumps(snap, indent=1, sort_keys=False) + '\n'
    if args.output:
        write_file(args.output, text)
        print(f'bindlab: snapshot written to {args.output} ({len(snap["interfaces"])} '
              f'interfaces, {len(snap["listeners"])} listeners, '
              f'{len(snap["unreadable"])} things unreadable)', file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK
