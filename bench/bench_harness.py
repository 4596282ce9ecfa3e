"""bench_harness: the probe phase of full bind + connect matrices, harness vs by hand.

For 10, 50, 100 and 200 hosts (topologies/scale.py, Linux bridges of <= 30 hosts
under a root bridge), one run each through the harness's own runner: the time of
build (Mininet), setup+ready (static ARP, ping and TCP readiness), servers (one
`netprobe serve` per host, each waited for by its readiness line), probe (one
`netprobe batch` per host, all at once, until every record is in) and teardown, and
cells per second of the probe phase.  Servers are a column of their own: on this
VM every process start costs ~9 ms (fork+exec, measured with /bin/true), so N
listeners cost N x 9 ms whoever starts them; both ways below use the same servers.  Beside it, for 10 and 50 hosts,
the same matrices taken the way a Mininet user writes it by hand -- one
`host.cmd('netprobe bind ...')` / `host.cmd('netprobe connect ...')` per cell, the
same servers -- on a network built the same way, and the ratio of the two probe
phases.  Both ways must agree cell for cell (the by-hand matrix is judged too).

Targets (printed, never asserted): a 100-host probe phase under 2 s; the harness at
least 50x faster than by hand.  Needs root; takes the run lock like a harness run.

    sudo /usr/bin/python3 bench/bench_harness.py [--sizes 10,50,100,200]
                                                 [--by-hand 10,50] [--switch lxbr]
"""

import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from harness import cells, machine, probe, results  # noqa: E402
from harness.errors import Interrupted, UsageError  # noqa: E402
from harness.judge import Observation  # noqa: E402
from harness.runner import run_scenario  # noqa: E402
from harness.session import Session  # noqa: E402
from topologies.scale import scale_scenario  # noqa: E402


class ByHand:
    """The probe phase as a Mininet user writes it: one host.cmd per cell (a prober of
    the pipeline, like probe.Batches; the servers are the pipeline's, the same)."""

    def __init__(self, scenario, netprobe):
        self.scenario, self.netprobe = scenario, netprobe

    def prepare(self, net):
        """Nothing to start ahead."""

    def observe(self, net):
        out = {}
        for cid, case in probe.cases_of(self.scenario):
            argv = [self.netprobe, '--host', case.host, case.kind]
            argv += ['--udp'] if case.proto == 'udp' else []
            text = net.get(case.host).cmd(*(argv + [case.addr, str(case.port)]))
            lines = [line for line in text.splitlines() if line.startswith('{')]
            try:
                out[cid] = Observation.of_record(probe.parse_record(lines[0], case.kind))
            except (IndexError, ValueError) as exc:
                out[cid] = Observation.error(f'no record ({exc}): {text[:200]!r}')
        return out


def one(hosts, session, netprobe, by_hand=False):
    """Run the scale scenario of `hosts` hosts once; returns the result dict."""
    sc = scale_scenario(hosts, name=f'scale-{hosts}')
    prober = (lambda scenario: ByHand(scenario, netprobe)) if by_hand else None
    return run_scenario(sc, session.switch, session.state, netprobe,
                        lambda m: print(f'  {m}'), prober=prober)


def explain(res):
    """Print what the cells that did not pass got (counts, and a few in words)."""
    bad = cells.mismatches(res['cells'])
    if res['problem']:
        print(f'       problem: {res["problem"]}')
    if not bad:
        return
    got = {}
    for c in bad:
        got[(c['kind'], c['actual'])] = got.get((c['kind'], c['actual']), 0) + 1
    print('       not passed: ' + ', '.join(f'{n} {k} {a}' for (k, a), n in sorted(got.items())))
    for c in bad[:3]:
        print(f'       e.g. {cells.describe(c)}')


def verdicts(res):
    c = cells.counts(res['cells'])
    return f'{c["pass"]} pass/{c["fail"]} fail/{c["error"]} error'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', default='10,50,100,200')
    parser.add_argument('--by-hand', default='10,50')
    parser.add_argument('--switch', default='lxbr', choices=('lxbr', 'ovs'))
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(',') if x]
    hand_sizes = [int(x) for x in args.by_hand.split(',') if x]
    if os.geteuid() != 0:
        print('bench_harness: needs root (Mininet); skipped')
        return 0
    try:
        machine.check_environment(args.switch)
        netprobe = probe.netprobe_path()
        with Session(args.switch, lambda m: print(f'  {m}'),
                     results.new_run_id()) as session:
            return measure(sizes, hand_sizes, session, netprobe)
    except UsageError as exc:
        print(f'bench_harness: {exc}')
        return 2
    except (KeyboardInterrupt, Interrupted):
        print('bench_harness: interrupted; the network was torn down')
        return 2


def measure(sizes, hand_sizes, session, netprobe):
    """Run and print every figure; returns 0 when every run could measure."""
    switch = session.switch
    print(f'harness probe phase, full bind + connect matrices ({switch}):')
    print(f'{"hosts":>6} {"cells":>7} {"build s":>8} {"setup s":>8} {"servers s":>9} '
          f'{"probe s":>8} {"teardown s":>10} {"cells/s":>9}  verdicts')
    fast, ok = {}, True
    for n in sizes:
        res = one(n, session, netprobe)
        t = res['timings']
        fast[n] = res
        cells = len(res['cells'])
        rate = cells / t['probe_s'] if t['probe_s'] else 0
        print(f'{n:>6} {cells:>7} {t["build_s"]:>8.2f} {t["prepare_s"]:>8.2f} '
              f'{t["servers_s"]:>9.3f} {t["probe_s"]:>8.3f} {t["teardown_s"]:>10.2f} {rate:>9.0f}  '
              f'{verdicts(res)}', flush=True)
        ok = ok and not res['problem']
        explain(res)
    if 100 in fast:
        p = fast[100]['timings']['probe_s']
        print(f'target: 100-host probe phase under 2 s: {p:.3f} s -> '
              f'{"met" if p < 2 else "MISSED"}')
    print('\nby hand (one host.cmd per cell) on the same network, same servers:')
    print(f'{"hosts":>6} {"cells":>7} {"by hand s":>10} {"harness s":>10} {"ratio":>7}'
          '  matrices agree')
    for n in hand_sizes:
        slow = one(n, session, netprobe, by_hand=True)
        quick = fast.get(n) or one(n, session, netprobe)
        ratio = slow['timings']['probe_s'] / quick['timings']['probe_s']
        same = [c['actual'] for c in slow['cells']] == [c['actual'] for c in quick['cells']]
        print(f'{n:>6} {len(slow["cells"]):>7} {slow["timings"]["probe_s"]:>10.2f} '
              f'{quick["timings"]["probe_s"]:>10.3f} {ratio:>6.0f}x  '
              f'{"yes" if same else "NO"} ({verdicts(slow)})', flush=True)
        print(f'target: >= 50x by hand at {n} hosts: {ratio:.0f}x -> '
              f'{"met" if ratio >= 50 else "MISSED"}')
        ok = ok and same
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
