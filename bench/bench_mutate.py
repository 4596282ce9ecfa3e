"""bench_mutate: every mutation of a 4-host topology with one server program, in one
run, against the same misconfigurations as one `harness run` each.

A: `harness run --topo single,4 --mutate all --mutate-networks shared --server
   '/usr/bin/python3 examples/fixed_server.py'` (one process: the unmutated network, then 12
   mutations x 4 targets on one shared network, each undone and the undo proved
   before the next);
F: the same with `--mutate-networks fresh`, the default (each mutation on a freshly
   built network);
B: the same 48 (mutation, target) pairs, each its own `harness run --topo single,4
   --mutate NAME --mutate-hosts TARGET --server ...` (what a user writing one scenario
   per misconfiguration runs: a process, a lock, a network and result files each;
   --pairs N times the first N and scales up).
Printed: the wall time of each, the ratios F/A and B/A, whether every mutation of A
was undone on the shared network, and A against its target (5x faster than F).
Never asserted.  Needs root; takes the run lock like a harness run.

    sudo /usr/bin/python3 bench/bench_mutate.py [--topo single,4] [--pairs N]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from harness.scenarios.mutate import CATALOGUE  # noqa: E402

# Debian's interpreter by its path, as the harness runs: where `python3` is a wrapper
# script (pyenv's shim: ~70 ms a launch, 196 launches in A) the server's own start
# would be most of what is timed, in A, F and B alike.
SERVER = f'{sys.executable} examples/fixed_server.py'


def harness(out, *args):
    """One `harness run` to the end; (seconds, exit status)."""
    t0 = time.monotonic()
    res = subprocess.run(['/usr/bin/python3', '-m', 'harness', 'run', *args, '--out', out,
                          '--server', SERVER], cwd=REPO, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        print(res.stdout[-2000:] + res.stderr[-2000:])
    return time.monotonic() - t0, res.returncode


def networks(out):
    """{network: count} of the mutations.json entries of the run at out/latest."""
    import glob
    import json
    count = {}
    for path in glob.glob(os.path.join(out, 'latest', '*', 'mutations.json')):
        with open(path) as f:
            for entry in json.load(f)['mutations']:
                key = entry.get('network', 'fresh').split(';')[0]
                count[key] = count.get(key, 0) + 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--topo', default='single,4')
    parser.add_argument('--pairs', type=int, default=6,
                        help='time only the first N separate runs of B and scale up '
                             '(0: all of them)')
    args = parser.parse_args()
    if os.geteuid() != 0:
        print('bench_mutate: needs root (Mininet); skipped')
        return 0
    hosts = [f'h{n}' for n in range(1, int(args.topo.split(',')[1]) + 1)]
    pairs = [(m.name, h) for m in CATALOGUE for h in hosts]
    with tempfile.TemporaryDirectory() as out:
        a, status = harness(out, '--topo', args.topo, '--mutate', 'all',
                            '--mutate-networks', 'shared')
        if status not in (0, 1):
            return 1
        shared = networks(out)
        fresh, status = harness(out, '--topo', args.topo, '--mutate', 'all',
                                '--mutate-networks', 'fresh')
        if status not in (0, 1):
            return 1
        todo = pairs[:args.pairs] if args.pairs else pairs
        b = 0.0
        for name, host in todo:
            seconds, status = harness(out, '--topo', args.topo, '--mutate', name,
                                      '--mutate-hosts', host)
            if status not in (0, 1):
                return 1
            b += seconds
        b *= len(pairs) / len(todo)
    print(f'{len(pairs)} (mutation, target) pairs of --topo {args.topo}, one server '
          f'program:')
    print(f'  A --mutate all, one network  {a:7.1f} s   ({shared})')
    print(f'  F --mutate all, fresh ones   {fresh:7.1f} s')
    print(f'  B one run per pair           {b:7.1f} s'
          + (f' (scaled from {len(todo)} runs)' if len(todo) < len(pairs) else ''))
    print(f'  F / A                        {fresh / a:7.1f}x')
    print(f'  B / A                        {b / a:7.1f}x')
    print(f'target: A at least 5x faster than F: {fresh / a:.1f}x -> '
          f'{"met" if fresh / a >= 5 else "MISSED"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
