"""The judge on real traced calls: programs this project did not write, traced by
libbindtrace.so in two namespaces (conftest.Pair: h1 10.0.0.1, h2 10.0.0.2), their
records decided as a launch decides them (harness/probe/traced.py), and the cells
judged against real cases (port-conflicts' own, or cases written here) by the one
judge (harness/judge/judging.py, calls.py).  What a user relies on (issue 27):

- a call is matched to its case normalised: asyncio's [::] listener (SO_REUSEADDR and
  IPV6_V6ONLY) is port-conflicts' `[::]:7000 v6only=1` case; a link-local bind the
  program scoped itself (fe80::...%N, N the interface's index) is the case that names
  the interface;
- a client that gives up on EALREADY (a second connect() while the first is under way,
  then close() or exit) is an EALREADY cell saying why, with its whole wait;
- a client whose own timeout is shorter than the case's (curl --connect-timeout 1 on a
  timeout=5000 case) is judged as the twin with that short a wait, or, without one, is
  not judged, saying its own timeout came before the kernel's verdict.

Destination 10.0.0.9 has a permanent neighbour entry to a MAC nobody holds: every SYN
leaves and nothing ever answers (the kernel's own verdict would take minutes).
"""

import os
import subprocess
import sys

import pytest

import nsutil

sys.path.insert(0, nsutil.REPO)
from harness.judge import judge  # noqa: E402
from harness.probe import cases_of  # noqa: E402
from harness.probe.launches import read_trace, scope_of  # noqa: E402
from harness.probe.programs import Launch, observation, Program  # noqa: E402
from harness.probe.traced import decide_traced  # noqa: E402
from harness.scenario import bind, connect, explicit  # noqa: E402
from topologies.port_conflicts import scenarios as port_conflicts  # noqa: E402

PYTHON = '/usr/bin/python3'
LIB = os.environ.get('BINDTRACE_LIB') or os.path.join(nsutil.REPO, 'build',
                                                      'libbindtrace.so')
SILENT = '10.0.0.9'          # neighbour entry to a MAC nobody holds: no answer, ever
PORT = 7001

ASYNCIO_SERVER = '''
import asyncio
async def main():
    server = await asyncio.start_server(lambda r, w: None, host="::", port=7000)
    server.close()
asyncio.run(main())
'''
# A non-blocking connect, a second connect() 0.3 s later (EALREADY: still under way),
# then close() or exit without it: Ruby's Socket.tcp and client_reconnect give up so.
GIVE_UP_ON_EALREADY = '''
import errno, os, socket, sys, time
s = socket.socket()
s.setblocking(False)
assert s.connect_ex((sys.argv[1], int(sys.argv[2]))) == errno.EINPROGRESS
time.sleep(0.3)
assert s.connect_ex((sys.argv[1], int(sys.argv[2]))) == errno.EALREADY
if sys.argv[3] == "close":
    s.close()
os._exit(1)
'''


@pytest.fixture
def silent(pair):
    """The pair, with 10.0.0.9 a silent destination of h2."""
    pair.h2.ip('neigh', 'add', SILENT, 'lladdr', '02:00:00:00:00:09', 'dev', pair.h2_dev,
               'nud', 'permanent')
    return pair


class InNetns:
    """A namespace with the one command call of a Mininet host the probe stage uses
    (popen), so that launches.scope_of reads the namespace's own interfaces."""

    def __init__(self, ns):
        self.ns = ns

    def popen(self, argv, **kwargs):
        return subprocess.Popen(self.ns.argv(argv), **kwargs)


def traced(ns, argv, tmp_path):
    """argv run in ns under libbindtrace.so; its records."""
    trace = tmp_path / 'trace.jsonl'
    if trace.exists():
        trace.unlink()
    env = ['env', f'LD_PRELOAD={LIB}', f'BINDTRACE_FILE={trace}', f'NETPROBE_HOST={ns.label}']
    nsutil.run(ns.argv(env + [str(a) for a in argv]), check=False)
    return read_trace(str(trace))


def cell_of(cases, cid, host, recs, role, port, node=None, argv=('program',)):
    """The cell of case cid judged from a launch's trace records (decided as the
    launch decides them, the scope resolved in the host as run_launch does)."""
    case = dict(cases)[cid]
    launch = Launch(Program(role, 'program', case.proto), host, list(argv), cid,
                    index=0, addr=case.addr, port=port)
    got = decide_traced(launch, recs, exited=True)
    assert got is not None, recs
    if got.get('bind') and node is not None:
        got['bind'] = dict(got['bind'], scope=scope_of(node, got['bind']))
    launch.outcome = dict(got, exit=1, stopped=False, files={})
    cells = judge(cases, {cid: observation(launch)})
    return [c for c in cells if c.id == cid][0]


def case_id(cases, host, column):
    return [cid for cid, c in cases if (c.host, c.label()) == (host, column)][0]


def test_asyncio_listener_on_v6_wildcard_is_the_v6only_case(pair, tmp_path):
    """asyncio sets SO_REUSEADDR and IPV6_V6ONLY on [::]: port-conflicts' `tcp [::]:7000`
    (a dual-stack bind, EADDRINUSE) is judged as its `[::]:7000 v6only=1` case (OK),
    whose reuse options the scenario does not test."""
    recs = traced(pair.h1, [PYTHON, '-c', ASYNCIO_SERVER], tmp_path)
    binds = [r for r in recs if r['op'] == 'bind']
    assert binds and set(binds[0]['options']) == {'reuseaddr', 'v6only=1'}, binds
    cases = cases_of(port_conflicts[0])
    cid = case_id(cases, 'h1', 'tcp [::]:7000')
    cell = cell_of(cases, cid, 'h1', recs, 'server', 7000)
    twin = case_id(cases, 'h1', 'tcp [::]:7000 v6only=1')
    assert (cell.expected, cell.actual, cell.verdict) == ('OK', 'OK', 'pass')
    assert f'bind(::, reuseaddr, v6only=1), not the case\'s bind(::): judged as case ' \
           f'{twin}' in cell.note


def test_a_link_local_bind_scoped_by_the_program_is_the_scoped_case(pair, tmp_path):
    """The tracer writes fe80::...%N; the case names the interface: the unscoped case
    (EINVAL) is judged as the scoped one (OK), and the scoped case needs no note."""
    dev = pair.h1_dev
    pair.h1.ip('addr', 'add', 'fe80::1:1/64', 'dev', dev, 'nodad')
    code = ('import socket\ns = socket.socket(socket.AF_INET6)\n'   # as Java scopes it
            f's.bind(("fe80::1:1", 6677, 0, socket.if_nametoindex("{dev}")))\n'
            's.listen()\n')
    recs = traced(pair.h1, [PYTHON, '-c', code], tmp_path)
    assert [r['addr'] for r in recs if r['op'] == 'bind'][0].startswith('fe80::1:1%')
    cases = [('b1', bind('h1', 'fe80::1:1', 6677, explicit('EINVAL', 'no scope'))),
             ('b2', bind('h1', f'fe80::1:1%{dev}', 6677, explicit('OK', 'scoped')))]
    node = InNetns(pair.h1)
    unscoped = cell_of(cases, 'b1', 'h1', recs, 'server', 6677, node)
    assert (unscoped.expected, unscoped.actual, unscoped.verdict) == ('OK', 'OK', 'pass')
    assert f'called bind(fe80::1:1%{dev}), not the case\'s bind(fe80::1:1): judged as ' \
           'case b2' in unscoped.note
    scoped = cell_of(cases, 'b2', 'h1', recs, 'server', 6677, node)
    assert (scoped.verdict, scoped.note) == ('pass', None)


@pytest.mark.parametrize('how', ['close', 'exit'])
def test_a_client_that_gives_up_on_ealready_is_ealready(silent, tmp_path, how):
    """EINPROGRESS, EALREADY, then close() (or exit): the cell is EALREADY, saying the
    program gave up while its connect was under way, with the whole wait (close: the
    tracer's record of it) as elapsed_us, not the first call's microseconds."""
    recs = traced(silent.h2, [PYTHON, '-c', GIVE_UP_ON_EALREADY, SILENT, PORT, how],
                  tmp_path)
    assert [r.get('error') for r in recs if r['op'] in ('connect', 'close')] == \
        ['EINPROGRESS', 'EALREADY'] + ([None] if how == 'close' else []), recs
    cases = [('c1', connect('h2', SILENT, PORT, explicit('ETIMEDOUT', 'nobody answers'),
                            options=('timeout=300',)))]
    cell = cell_of(cases, 'c1', 'h2', recs, 'client', PORT)
    assert (cell.actual, cell.verdict) == ('EALREADY', 'fail')
    assert 'gave up while its connect() was under way: its second connect() said ' \
           'EALREADY' in cell.message
    assert ('closed the socket' if how == 'close' else 'exited') in cell.message
    if how == 'close':
        assert cell.elapsed_us >= 300_000


def _timeouts(twin):
    """A connect to the silent address as a program that waits 5 s would see it, and,
    with twin, the same connect for a caller that gives up at 300 ms."""
    cases = [('c1', connect('h2', SILENT, PORT, explicit('EHOSTUNREACH', 'the kernel\'s '
                                                         'verdict'),
                            options=('timeout=5000',)))]
    if twin:
        cases.append(('c2', connect('h2', SILENT, PORT, explicit('ETIMEDOUT', 'nothing '
                                                                 'within 300 ms'),
                                    options=('timeout=300',))))
    return cases


def test_a_client_with_a_shorter_timeout_is_judged_by_that_twin(silent, tmp_path):
    """curl --connect-timeout 1 closes its socket after 1 s: ETIMEDOUT, judged as the
    timeout=300 twin (ETIMEDOUT), saying so; without the twin, not judged (ERROR),
    saying its own timeout came before the kernel's verdict, never a plain fail."""
    recs = traced(silent.h2, ['curl', '-s', '--connect-timeout', '1',
                              f'http://{SILENT}:{PORT}/'], tmp_path)
    assert [r.get('phase') for r in recs if r['op'] in ('connect', 'close')] == \
        ['call', 'gave-up'], recs
    cell = cell_of(_timeouts(True), 'c1', 'h2', recs, 'client', PORT)
    assert (cell.expected, cell.actual, cell.verdict) == ('ETIMEDOUT', 'ETIMEDOUT', 'pass')
    assert 900_000 < cell.elapsed_us < 3_000_000
    assert 'short of the case\'s timeout=5000 ms: judged as case c2 (timeout=300)' in \
        cell.note
    alone = cell_of(_timeouts(False), 'c1', 'h2', recs, 'client', PORT)
    assert (alone.actual, alone.verdict) == ('ERROR', 'error')
    assert 'not judged: the program gave up after 1.0' in alone.message
    assert 'its own timeout came before the kernel\'s verdict' in alone.message
