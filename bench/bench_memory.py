"""bench_memory: the peak resident size of a whole run, per cell (issue 31).

For 200 and 400 hosts (topologies/scale.py's full bind and connect matrices: 80,400
and 320,400 cells), one whole `harness run` each, in its own process: build, probe,
judge, every result file, teardown.  Printed: the cells, the wall time, the largest
resident size any process of the run reached (the harness, or the child that writes
matrix.json: the run's rusage from wait4), that
size per cell, and the target beside it: at most 1 KB a cell (the issue measured
4.1 KB at 400 hosts).  Never asserted.  Needs root; takes the run lock like a run.

    sudo /usr/bin/python3 bench/bench_memory.py [--sizes 200,400]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_KB = 1.0
SCENARIO_FILE = '''
from topologies.scale import scale_scenario
scenarios = [scale_scenario(hosts={hosts}, name='scale-{hosts}', default=False)]
'''


def whole_run(hosts, folder):
    """(cells, seconds, peak resident bytes) of one whole run of `hosts` hosts."""
    path = os.path.join(folder, f'scale{hosts}.py')
    with open(path, 'w') as f:
        f.write(SCENARIO_FILE.format(hosts=hosts))
    out = os.path.join(folder, f'out{hosts}')
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, '-m', 'harness', 'run', '--scenario-file',
                             path, '--out', out], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - t0
    err = proc.stderr.read().decode(errors='replace')
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        print(err[-2000:])
        return None
    with open(os.path.join(out, 'latest', 'summary.json')) as f:
        summary = json.load(f)
    cells = sum(sum(s['counts'].values()) for s in summary['scenarios'])
    # wait4's usage is the harness's and its waited-for children's (the matrix.json
    # writer): ru_maxrss is the largest of them.
    return cells, seconds, usage.ru_maxrss * 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', default='200,400')
    args = parser.parse_args()
    if os.geteuid() != 0:
        print('bench_memory: needs root (network namespaces); skipped')
        return 0
    print(f'{"hosts":>5} {"cells":>8} {"seconds":>8} {"peak MB":>8} {"KB/cell":>8}  target')
    with tempfile.TemporaryDirectory() as folder:
        for hosts in (int(n) for n in args.sizes.split(',')):
            got = whole_run(hosts, folder)
            if got is None:
                return 1
            cells, seconds, peak = got
            per = peak / 1024 / cells
            print(f'{hosts:>5} {cells:>8} {seconds:>8.1f} {peak / 2**20:>8.0f} {per:>8.2f}  '
                  f'<= {TARGET_KB:g} KB a cell: {per / TARGET_KB:.2f}x the target')
    return 0


if __name__ == '__main__':
    sys.exit(main())
