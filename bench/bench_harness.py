"""bench_harness: issue 14's benchmark -- the harness against stock Mininet, and its
probe phase against the kernel's floor, side by side in one run.

For 10, 50, 100 and 200 hosts (topologies/scale.py: Linux bridges of <= 30 hosts
under a root bridge, so no bridge has the 60+ ports where OVS's userspace datapath
drops traffic), on the same topology each time:

    build+stop   stock Mininet's build, start and stop (--builder mininet) against
                 the bindlab builder's (--builder fast), nothing else in between;
    whole run    Mininet's own check, a user's whole run: stock build, net.pingAll()
                 (one ping per ordered host pair), stop; against a whole harness run
                 of the full bind + connect matrices: build, setup+ready, servers,
                 probe, teardown, judge (cells made of the observations) and
                 every result file (results.write_run);
    probe/floor  the harness's probe phase (one `netprobe batch` per host, every
                 record parsed) against build/bench/floor: the same bind and connect
                 calls in a bare C loop, entering the same namespaces, against the
                 same servers, with as many workers as cores, measured in the same
                 run just before the probe phase (and not counted in its whole run).

The targets of issues 14 and 31 are printed beside each ratio (printed, never
asserted): whole 200-host run <= 10 s and within 1.5x the floor measured in the same
run, whole 50-host run <= 2.5 s, whole run >= 8x pingAll(timeout=1) at 50 hosts and
>= 10x at 200, probe phase <= 2x the floor.  Needs root and
`make build/bench/floor` (`make bench` builds it); takes the run lock like a
harness run.  pingAll is the long part: one ping per ordered pair, one after
another (a `ping` process through the host's shell each), so its time grows with the
square of the hosts.  By default it runs at 10 and 50 hosts only; for a larger size
the table shows an estimate marked `~`: that size's own stock build+stop plus its
pairs times the per-ping cost of the largest measured pingAll, which the targets'
lines print (--pingall 10,50,100,200 measures them all, and takes far longer).

    sudo /usr/bin/python3 bench/bench_harness.py [--sizes 10,50,100,200]
                                                 [--pingall 10,50] [--floor-parts]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import shutil
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from harness.judge import cells  # noqa: E402
from harness.net import machine  # noqa: E402
from harness.net import network  # noqa: E402
from harness import probe  # noqa: E402
from harness.report import results  # noqa: E402
from harness.errors import Interrupted, UsageError  # noqa: E402
from harness.runner import run_scenario  # noqa: E402
from harness.net.session import Session  # noqa: E402
from harness.ledger.state import clean as clean_state  # noqa: E402
from topologies.scale import ScaleTopo, scale_scenario  # noqa: E402

FLOOR = os.path.join(REPO, 'build', 'bench', 'floor')
SWITCH = 'lxbr'
WHOLE_TARGET_S = {50: 2.5, 200: 10.0}
PINGALL_TARGET = {50: 8.0, 200: 10.0}
FLOOR_TARGET = 2.0
WHOLE_FLOOR_TARGET = {200: 1.5}


def quiet(_msg):
    """The harness's log lines are not the benchmark's output."""


# -- stock Mininet ------------------------------------------------------------------------

def build_stop(hosts, builder, state):
    """Seconds to build, start and stop the scale topology with builder."""
    topo = ScaleTopo(hosts=hosts)
    network.check_names_free(topo)
    t0 = time.monotonic()
    net = None
    try:
        net = network.build(topo, SWITCH, state, builder, quiet)
        network.start(net, SWITCH)
    finally:
        network.stop(net, quiet)
        _forget(state)
    return time.monotonic() - t0


def pingall_run(hosts, state):
    """(seconds, loss %) of a stock Mininet build, net.pingAll() and stop."""
    from mininet.log import setLogLevel
    setLogLevel('warning')
    topo = ScaleTopo(hosts=hosts)
    network.check_names_free(topo)
    t0 = time.monotonic()
    net = None
    try:
        net = network.build(topo, SWITCH, state, 'mininet', quiet)
        network.start(net, SWITCH)
        loss = net.pingAll(timeout='1')
    finally:
        network.stop(net, quiet)
        _forget(state)
    return time.monotonic() - t0, loss


def _forget(state):
    left = clean_state(state.data, quiet)
    if left:
        raise UsageError('could not remove: ' + ', '.join(left))
    state.forget_all()


# -- the harness, and the floor beside its probe phase --------------------------------------

class FloorThenBatches(probe.Batches):
    """The harness's prober (probe.Batches), which first runs build/bench/floor over
    the same calls in the same namespaces, the servers listening: floor_s is the
    floor's own clock, batches_s the probe phase proper."""

    floor_s, batches_s, floor_record, parts, parts_s = None, None, None, False, 0.0

    def observe(self, net):
        if self.parts:
            t0 = time.monotonic()
            print_floor_parts(net, self.scenario)
            self.parts_s = time.monotonic() - t0
        self.floor_record = run_floor(net, self.scenario)
        self.floor_s = self.floor_record['elapsed_us'] / 1e6
        t0 = time.monotonic()
        out = super().observe(net)
        self.batches_s = time.monotonic() - t0
        return out


def floor_plan(net, scenario, kinds=('bind', 'connect')):
    """floor's plan: per host, its namespace and each of its bind and connect cases
    (of kinds)."""
    by_host = {}
    for _cid, case in probe.cases_of(scenario):
        if case.kind in kinds:
            by_host.setdefault(case.host, []).append(f'{case.kind} {case.addr} {case.port}')
    lines = []
    for host, items in by_host.items():
        lines.append(f'ns /proc/{net.get(host).pid}/ns/net')
        lines += items
    return '\n'.join(lines) + '\n'


def run_floor(net, scenario, kinds=('bind', 'connect'), workers=None):
    """floor's record ({workers, binds, connects, ok, failed, elapsed_us})."""
    argv = [FLOOR] + ([] if workers is None else ['--workers', str(workers)])
    res = subprocess.run(argv, input=floor_plan(net, scenario, kinds), capture_output=True,
                         text=True, timeout=300)
    if res.returncode != 0:
        raise UsageError(f'{FLOOR} failed ({res.returncode}): {res.stderr.strip()}')
    return json.loads(res.stdout)


def print_floor_parts(net, scenario):
    """The floor split (--floor-parts): binds alone and connects alone, on every core
    and on one, in us a call."""
    for kinds in (('bind',), ('connect',)):
        for workers in (None, 1):
            rec = run_floor(net, scenario, kinds, workers)
            calls = rec['binds'] + rec['connects']
            print(f'  floor, {kinds[0]}s only, {rec["workers"]} worker(s): '
                  f'{rec["elapsed_us"] / 1e6:.2f} s, '
                  f'{rec["elapsed_us"] / max(calls, 1):.1f} us a call '
                  f'({rec["ok"]} ok, {rec["failed"]} failed)', flush=True)


def harness_run(hosts, session, netprobe, out_dir, parts=False):
    """One whole harness run of the scale scenario, result files included.
    Returns (result, whole seconds without the floor, the prober)."""
    sc = scale_scenario(hosts, name=f'scale-{hosts}')
    made = {}

    def prober(scenario):
        made['p'] = FloorThenBatches(scenario, netprobe, session.state)
        made['p'].parts = parts
        return made['p']
    meta = {'switch': session.switch, 'argv': sys.argv[1:], 'netprobe': netprobe,
            'environment': machine.environment_facts(session.switch, 'fast')}
    t0 = time.monotonic()
    res = run_scenario(sc, session.switch, session.state, netprobe, quiet, prober=prober)
    t1 = time.monotonic()
    results.write_run(out_dir, results.new_run_id() + f'-{hosts}', meta, [res])
    res.timings['files_s'] = time.monotonic() - t1
    p = made.get('p')
    whole = time.monotonic() - t0 - ((p.floor_s or 0) + p.parts_s if p else 0)
    return res, whole, p


# -- the table --------------------------------------------------------------------------

def verdicts(res):
    c = cells.counts(res.cells)
    text = f'{c["pass"]}/{c["fail"]}/{c["error"]}'
    return text + (f' problem: {res.problem}' if res.problem else '')


def target(value, goal, at_most=True):
    met = value <= goal if at_most else value >= goal
    return f'{"<=" if at_most else ">="} {goal:g} {"met" if met else "MISSED"}'


def measure(sizes, ping_sizes, session, netprobe, floor_parts=False):
    """Print every figure; returns 0 when every run could measure."""
    ok = True
    print(f'scale topology ({session.switch}), {os.cpu_count()} cores; seconds')
    print(f'{"hosts":>5} {"cells":>6} | {"mn build+stop":>13} {"fast":>6} {"x":>5} | '
          f'{"build":>5} {"setup":>5} {"serv":>5} {"probe":>5} {"down":>5} {"judge":>5} '
          f'{"files":>5} '
          f'{"whole":>6} | {"floor":>5} {"probe/floor":>11} | {"pingAll":>7} '
          f'{"whole x":>7} | pass/fail/error')
    out_dir = tempfile.mkdtemp(prefix='bench-harness-')
    notes, per_ping = [], None
    try:
        for n in sizes:
            stock = build_stop(n, 'mininet', session.state)
            fast = build_stop(n, 'fast', session.state)
            res, whole, p = harness_run(n, session, netprobe, out_dir,
                                        parts=floor_parts and n == max(sizes))
            t = res.timings
            probe_s = p.batches_s if p and p.batches_s else t['probe_s']
            floor_s = p.floor_s if p and p.floor_s else float('nan')
            ping_s, loss, mark = None, None, ' '
            if n in ping_sizes:
                ping_s, loss = pingall_run(n, session.state)
                per_ping = (ping_s - stock) / (n * (n - 1))
            elif per_ping:
                ping_s, mark = stock + per_ping * n * (n - 1), '~'
            ping = (f'{mark}{ping_s:>6.1f} {ping_s / whole:>6.1f}x' if ping_s
                    else f'{"-":>7} {"-":>7}')
            print(f'{n:>5} {len(res.cells):>6} | {stock:>13.2f} {fast:>6.2f} '
                  f'{stock / fast:>4.1f}x | {t["build_s"]:>5.2f} {t["prepare_s"]:>5.2f} '
                  f'{t["servers_s"]:>5.2f} {probe_s:>5.2f} {t["teardown_s"]:>5.2f} '
                  f'{t.get("judge_s", 0):>5.2f} {t["files_s"]:>5.2f} {whole:>6.2f} | '
                  f'{floor_s:>5.2f} '
                  f'{probe_s / floor_s:>10.2f}x | {ping} | {verdicts(res)}', flush=True)
            if n in WHOLE_TARGET_S:
                notes.append(f'whole {n}-host run {whole:.2f} s: '
                             f'{target(whole, WHOLE_TARGET_S[n])}')
            if ping_s and n in PINGALL_TARGET:
                how = (f'pingAll {per_ping * 1000:.0f} ms a ping, loss {loss:.0f}%'
                       if loss is not None else
                       f'pingAll estimated at {per_ping * 1000:.0f} ms a ping')
                notes.append(f'whole run vs pingAll at {n} hosts {ping_s / whole:.1f}x '
                             f'({how}): {target(ping_s / whole, PINGALL_TARGET[n], False)}')
            notes.append(f'probe phase / floor at {n} hosts {probe_s / floor_s:.2f}x '
                         f'(floor: {p.floor_record["workers"]} workers, '
                         f'{p.floor_record["ok"]} ok, {p.floor_record["failed"]} failed): '
                         f'{target(probe_s / floor_s, FLOOR_TARGET)}')
            if n in WHOLE_FLOOR_TARGET:
                notes.append(f'whole run / floor at {n} hosts {whole / floor_s:.2f}x: '
                             f'{target(whole / floor_s, WHOLE_FLOOR_TARGET[n])}')
            ok = ok and not res.problem and not cells.mismatches(res.cells)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    print('targets (issues 14 and 31):')
    for line in notes:
        print(f'  {line}')
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', default='10,50,100,200')
    parser.add_argument('--pingall', default='10,50')
    parser.add_argument('--floor-parts', action='store_true',
                        help='at the largest size, also the floor of binds alone and of '
                        'connects alone, on every core and on one')
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(',') if x]
    ping_sizes = {int(x) for x in args.pingall.split(',') if x}
    if os.geteuid() != 0:
        print('bench_harness: needs root (Mininet); skipped')
        return 0
    if not os.access(FLOOR, os.X_OK):
        print(f'bench_harness: {FLOOR} is missing: run `make build/bench/floor`')
        return 2
    try:
        machine.check_environment(SWITCH)
        netprobe = probe.netprobe_path()
        with Session(SWITCH, quiet, results.new_run_id()) as session:
            return measure(sizes, ping_sizes, session, netprobe, args.floor_parts)
    except UsageError as exc:
        print(f'bench_harness: {exc}')
        return 2
    except (KeyboardInterrupt, Interrupted):
        print('bench_harness: interrupted; the network was torn down')
        return 2


if __name__ == '__main__':
    sys.exit(main())
