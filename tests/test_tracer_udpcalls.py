"""Both tracers on a user's multicast receiver and a UDP server replying from a
chosen source (issue 25; csrc/trace/trace_udpcalls.h), in real namespaces.

tests/programs/c/mcast_receiver.c joins a group on an interface address (IPv4) or
name (IPv6) and sets the multicast interface; udp_reply.c sends one datagram from a
source given in IP_PKTINFO or bound first.  Each runs under libbindtrace.so (glibc
build) and under bindtrace-sys (the musl static build: what LD_PRELOAD cannot
reach), on h1 (10.0.0.1 and the secondary 10.0.0.11, fd00::1; 10.0.0.2 is h2's).
The records of both tracers are the same but for timing and who traced; each
program's records judged against the join, mcast-if and send cases of its calls
(harness/scenarios/udpcalls.py: the rule table's expectations) pass, and the
errno is the kernel's: ENODEV for a join on another host's address, ENETUNREACH
for a PKTINFO source the host lacks, EINVAL for an IPv6 one.  The programs cannot
tell they are traced, memcheck finds nothing in the new interposers, and a whole
`harness run --server --client` gives the programs their cells.
"""

import json
import os

import pytest

import nsutil
from test_systrace import build, sys_argv
from test_tracer import lib_path, read_trace

from harness.judge import make_cell
from harness.probe import observe_udpcall
from harness.scenarios.udpcalls import (expect_join, expect_mcast_if, expect_send, join,
                                        mcast_if, send)

OWNERS = {'10.0.0.1': 'h1', '10.0.0.11': 'h1', '10.0.0.2': 'h2', 'fd00::1': 'h1'}
# (program, arguments): every call the cases below judge.
RUNS = [('mcast_receiver', ['239.1.1.1', '10.0.0.1', '5353']),
        ('mcast_receiver', ['239.1.1.1', '10.0.0.2', '5353']),
        ('mcast_receiver', ['ff12::1:1', '{dev}', '5353']),
        ('udp_reply', ['10.0.0.2', '7002', '10.0.0.11', 'pktinfo']),
        ('udp_reply', ['10.0.0.2', '7002', '10.0.0.12', 'pktinfo']),
        ('udp_reply', ['10.0.0.2', '7002', '10.0.0.11', 'bound']),
        ('udp_reply', ['fd00::2', '7002', 'fd00::12', 'pktinfo'])]
UNSTABLE = ('elapsed_us', 'pid', 'tid', 'tracer', 'host', 'local', 'sport', 'prog',
            'mono_ns')


def cases(dev):
    """The cases of the calls in RUNS, expectations by the rule table."""
    return [
        join('h1', '239.1.1.1', expect_join('h1', '10.0.0.1', OWNERS), '10.0.0.1', 5353),
        join('h1', '239.1.1.1', expect_join('h1', '10.0.0.2', OWNERS), '10.0.0.2', 5353),
        mcast_if('h1', '239.1.1.1', expect_mcast_if('h1', '10.0.0.1', OWNERS), '10.0.0.1'),
        send('h1', '10.0.0.2', 7002, expect_send('h1', '10.0.0.11', OWNERS, pktinfo=True),
             pktinfo='10.0.0.11'),
        send('h1', '10.0.0.2', 7002, expect_send('h1', '10.0.0.12', OWNERS, pktinfo=True),
             pktinfo='10.0.0.12'),
        send('h1', '10.0.0.2', 7002, expect_send('h1', '10.0.0.11', OWNERS),
             src='10.0.0.11'),
        send('h1', 'fd00::2', 7002, expect_send('h1', 'fd00::12', OWNERS, pktinfo=True),
             pktinfo='fd00::12'),
    ]


@pytest.fixture(scope='module')
def traced(tmp_path_factory):
    """Every run of RUNS under each tracer: {tracer: [records]}, and h1's device."""
    for target in ('build/programs/glibc/mcast_receiver', 'build/programs/glibc/udp_reply',
                   'build/programs/musl/mcast_receiver', 'build/programs/musl/udp_reply'):
        build(target)
    out, lab = tmp_path_factory.mktemp('udptrace'), nsutil.Lab()
    try:
        h1, h2 = lab.netns('h1'), lab.netns('h2')
        dev, _ = lab.veth(h1, h2, '10.0.0.1/24', '10.0.0.2/24')
        h1.addr_add(dev, '10.0.0.11/24')
        h1.addr_add(dev, 'fd00::1/64', 'nodad')
        got = {'plain': {}}
        for tracer, libc in (('preload', 'glibc'), ('syscall', 'musl')):
            trace = out / f'{tracer}.jsonl'
            for prog, args in RUNS:
                argv = [os.path.join(nsutil.REPO, 'build', 'programs', libc, prog)] + \
                    [a.format(dev=dev) for a in args]
                plain = nsutil.run(h1.argv(argv), check=False)
                if tracer == 'preload':
                    argv = ['env', f'LD_PRELOAD={lib_path()}', f'BINDTRACE_FILE={trace}',
                            'BINDTRACE_HOST=h1'] + argv
                else:
                    argv = sys_argv(trace, argv, 'h1')
                proc = nsutil.run(h1.argv(argv), check=False)
                got['plain'][(libc, prog, tuple(args))] = (
                    (plain.returncode, plain.stdout, plain.stderr),
                    (proc.returncode, proc.stdout, proc.stderr))
            got[tracer] = read_trace(str(trace))
        return got, dev
    finally:
        assert not lab.remove()


def test_the_programs_cannot_tell(traced):
    """Each program says the same traced as untraced: exit status, output, and the
    errno of the call that failed (strerror in its message)."""
    got, _dev = traced
    assert len(got['plain']) == 2 * len(RUNS)
    for run, (plain, traced_) in got['plain'].items():
        assert plain == traced_, run
    failed = [p for p, _t in got['plain'].values() if p[0] != 0]
    assert failed and all(p[0] == 1 for p in failed)


def test_both_tracers_record_the_same_calls(traced):
    got, _dev = traced
    strip = lambda recs: [{k: v for k, v in r.items() if k not in UNSTABLE}
                          for r in recs if r['op'] in ('join', 'mcast-if', 'send')]
    # 3 joins, 2 mcast-ifs (the failed join ends its program), 4 sends
    pre, sys_ = strip(got['preload']), strip(got['syscall'])
    assert len(pre) == 9 and pre == sys_, (pre, sys_)
    calls = {(r['op'], r['ok'], r['error'], r['call']) for r in pre}
    assert ('join', False, 'ENODEV', 'setsockopt(IP_ADD_MEMBERSHIP)') in calls
    assert ('send', False, 'ENETUNREACH', 'sendmsg(IP_PKTINFO)') in calls
    assert ('send', False, 'EINVAL', 'sendmsg(IPV6_PKTINFO)') in calls


@pytest.mark.parametrize('tracer', ['preload', 'syscall'])
def test_each_call_judged_right(traced, tracer):
    got, dev = traced
    recs = got[tracer]
    for n, case in enumerate(cases(dev)):
        obs = observe_udpcall(case, recs)
        assert obs is not None, (case.label(), recs)
        cell = make_cell(f'{case.kind[0]}{n}', case, obs)
        assert cell.verdict == 'pass', cell.to_json()
        assert cell.method == ('syscall' if tracer == 'syscall' else 'tracer')
    rec = next(r for r in recs if r['op'] == 'join' and r['family'] == 'inet6')
    assert rec['ok'] and rec['ifindex'] > 0 and rec['if'] == str(rec['ifindex'])


# A user's receiver and replier in a whole run: `harness run --server --client`.
SCENARIO_FILE = '''
import os, sys
sys.path.insert(0, {repo!r})
from mininet.topo import Topo
from harness.scenario import (Scenario, addr_add, expect_join, expect_send, join,
                              send)

class _Two(Topo):
    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2):
            self.addLink(self.addHost('h%d' % n, ip='10.0.0.%d/24' % n), s1)

topos = {{'two': _Two}}
_OWNERS = {{'10.0.0.1': 'h1', '10.0.0.11': 'h1', '10.0.0.2': 'h2'}}
scenarios = [Scenario(
    name='user-udpcalls', title='a user receiver and replier', topo=_Two,
    setup=(addr_add('h1', '10.0.0.11/24', 'h1-eth0', why='a secondary address'),),
    cases=tuple([join(h, '239.1.1.1', expect_join(h, a, _OWNERS), a)
                 for h in ('h1', 'h2') for a in ('10.0.0.1', '10.0.0.2')] +
                [send('h1', '10.0.0.2', 7002, expect_send('h1', a, _OWNERS, pktinfo=True),
                      pktinfo=a) for a in ('10.0.0.11', '10.0.0.12')]),
    default=False)]
'''


def test_user_programs_have_cells_in_every_result_file(tmp_path):
    """A multicast receiver (--server, told the interface) and a UDP replier from a
    chosen source (--client, told the source), each traced: their cells are the
    programs' (method tracer, the command in `program`), judged right, in matrix.json,
    junit.xml and summary.md."""
    import harness_util as hu
    for target in ('build/programs/glibc/mcast_receiver', 'build/programs/glibc/udp_reply'):
        build(target)
    path = tmp_path / 'user_udpcalls.py'
    path.write_text(SCENARIO_FILE.format(repo=nsutil.REPO))
    prog = os.path.join(nsutil.REPO, 'build', 'programs', 'glibc')
    res = hu.harness('run', '--scenario-file', str(path), '--out', str(tmp_path / 'out'),
                     '--server', f'{prog}/mcast_receiver {{addr}} {{if}} 5353',
                     '--client', f'{prog}/udp_reply {{addr}} {{port}} {{src}} pktinfo')
    assert res.returncode == 0, res.stdout + res.stderr
    folder = tmp_path / 'out' / 'latest'
    with open(folder / 'user-udpcalls' / 'matrix.json') as f:
        cells = json.load(f)['cells']
    got = {(c['kind'], c['host'], c['column']): (c['actual'], c['method'], c['verdict'])
           for c in cells}
    assert got == {
        ('join', 'h1', 'udp 239.1.1.1@10.0.0.1'): ('OK', 'tracer', 'pass'),
        ('join', 'h1', 'udp 239.1.1.1@10.0.0.2'): ('ENODEV', 'tracer', 'pass'),
        ('join', 'h2', 'udp 239.1.1.1@10.0.0.1'): ('ENODEV', 'tracer', 'pass'),
        ('join', 'h2', 'udp 239.1.1.1@10.0.0.2'): ('OK', 'tracer', 'pass'),
        ('send', 'h1', 'udp 10.0.0.11->10.0.0.2:7002 pktinfo'): ('OK', 'tracer', 'pass'),
        ('send', 'h1', 'udp 10.0.0.12->10.0.0.2:7002 pktinfo'): ('ENETUNREACH', 'tracer',
                                                                'pass'),
    }, got
    assert all('mcast_receiver' in c['program'] or 'udp_reply' in c['program'] for c in cells)
    junit = (folder / 'junit.xml').read_text()
    assert 'name="h2 join udp 239.1.1.1@10.0.0.1"' in junit
    assert 'send matrix' in (folder / 'summary.md').read_text()


def test_no_memory_errors_in_the_new_interposers_under_valgrind(tmp_path):
    """memcheck watches libbindtrace.so's setsockopt, sendto and sendmsg interposers
    and their records inside the programs: a join that works and one that fails, a
    PKTINFO source the host lacks (IPv4 and IPv6), a bound source."""
    build('build/programs/glibc/mcast_receiver')
    build('build/programs/glibc/udp_reply')
    prog = os.path.join(nsutil.REPO, 'build', 'programs', 'glibc')
    trace, lab = tmp_path / 'trace.jsonl', nsutil.Lab()
    try:
        h1, h2 = lab.netns('h1'), lab.netns('h2')
        dev, _ = lab.veth(h1, h2, '10.0.0.1/24', '10.0.0.2/24')
        h1.addr_add(dev, 'fd00::1/64', 'nodad')
        runs = [['mcast_receiver', '239.1.1.1', '10.0.0.1', '5353'],
                ['mcast_receiver', '239.1.1.1', '10.0.0.2', '5353'],
                ['udp_reply', '10.0.0.2', '7002', '10.0.0.12', 'pktinfo'],
                ['udp_reply', 'fd00::2', '7002', 'fd00::12', 'pktinfo'],
                ['udp_reply', '10.0.0.2', '7002', '10.0.0.1', 'bound']]
        for argv in runs:
            proc = nsutil.run(h1.argv(['env', f'LD_PRELOAD={lib_path()}',
                                       f'BINDTRACE_FILE={trace}', 'valgrind', '-q',
                                       '--error-exitcode=9', '--trace-children=no',
                                       os.path.join(prog, argv[0])] + argv[1:]),
                              check=False)
            assert proc.returncode in (0, 1), (argv, proc.stderr)
    finally:
        assert not lab.remove()
    ops = [r['op'] for r in read_trace(str(trace))
           if r['op'] in ('join', 'mcast-if', 'send')]
    assert ops == ['join', 'mcast-if', 'join', 'send', 'send', 'send'], ops
