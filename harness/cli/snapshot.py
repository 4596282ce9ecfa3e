"""`snapshot [-o FILE] [--redact]`: this host's network as one JSON file (the
namespace bindlab runs in): addresses with their flags, links, routes, rules,
neighbours, listeners, the sysctls that decide binds, /etc/hosts, resolv.conf and
the hostname (harness/replica/).  `--check FILE...` reads snapshots back instead,
every field checked as hostile input.  Read-only, connects nowhere, needs no root (what
it could not read is listed in the file's `unreadable`).  Exit 0, or 2 when the
file cannot be written or a checked one is bad."""

import json
import sys

from ..errors import BadInput, UsageError
from ..files import write_file
from ..replica import check_snapshot, read_snapshot, redact_snapshot, take_snapshot
from .common import EXIT_OK, Misuse


def add_parser(sub):
    cmd = sub.add_parser('snapshot', help='this host\'s addresses, routes, listeners and '
                                          'bind sysctls as one JSON file (read-only)')
    cmd.add_argument('-o', '--output', metavar='FILE',
                     help='write the snapshot to FILE (default: standard output)')
    cmd.add_argument('--redact', action='store_true',
                     help='relabel addresses (public ones into documentation ranges), '
                          'names and MACs consistently, for a bug report')
    cmd.add_argument('--check', nargs='+', metavar='FILE',
                     help='take nothing: read each snapshot FILE and check every field '
                          '(exit 2 naming the file and field of the first bad one)')
    return cmd


def main(args):
    if args.check:
        if args.output or args.redact:
            raise Misuse('--check reads snapshots; it takes none (no -o, no --redact)')
        for path in args.check:
            snap = read_snapshot(path)
            print(f'{path}: a bindlab snapshot, version {snap["version"]}, '
                  f'{len(snap["interfaces"])} interfaces, {len(snap["listeners"])} '
                  f'listeners{", redacted" if snap["redacted"] else ""}')
        return EXIT_OK
    snap = take_snapshot()
    if args.redact:
        snap = redact_snapshot(snap)
    try:
        check_snapshot(snap, 'the snapshot')    # what we write, we can read back
    except BadInput as exc:
        raise UsageError(f'{exc}: this host gave a snapshot bindlab cannot read back; '
                         'nothing written (please report it)') from None
    text = json.dumps(snap, indent=1, sort_keys=False) + '\n'
    if args.output:
        write_file(args.output, text)
        print(f'bindlab: snapshot written to {args.output} ({len(snap["interfaces"])} '
              f'interfaces, {len(snap["listeners"])} listeners, '
              f'{len(snap["unreadable"])} things unreadable)', file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK
