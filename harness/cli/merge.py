"""`merge DIR... --out DIR`: the run folders of shards (`run --shard K/N`) merged into
one run folder equal to an unsharded run (harness/ci/merge.py).  Exit 0 merged, 2
refused."""

from ..ci import cmd_merge


def add_parser(sub):
    cmd = sub.add_parser('merge', help='merge the run folders of shards into one run')
    cmd.add_argument('shards', nargs='+', metavar='DIR')
    cmd.add_argument('--out', required=True, metavar='DIR',
                     help='write the merged run into DIR/<run-id> (DIR/latest points at it)')
    return cmd


def main(args):
    return cmd_merge(args)
