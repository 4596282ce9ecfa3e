"""Any Mininet topology, and the catalogue of misconfigurations applied to it (real
Mininet networks, under the Mininet lock):

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_derive.py

- mn's built-ins (single,3 / linear,4 / tree,2,2) and a custom file with a Linux
  router between two subnets: the derived bind and connect matrices pass, the
  cross-subnet connects are `control`, the rest are predicted by rule;
- mn's own loader and bindlab accept the same custom file; a broken file, a file
  without `topos`, an unknown topology and misused options are exit 2;
- each mutation on single,3 changes exactly the cells its rules say, on a fresh
  network each time;
- the seed's server against the fixed one under every mutation but the name ones
  and the timed ones beside addr-late: the mutation matrix shows where each breaks,
  cell by cell;
- the timed mutations together on one shared network, with a server and a client
  program: each step fired at its second, the cells in time on either side of it,
  every undo proved;
- the name mutations on one shared network with a client program given {name}.
"""

import importlib.machinery
import importlib.util
import json
import os
import re
import sys

import pytest

import harness_util as hu

REPO = hu.REPO
sys.path.insert(0, REPO)
from harness.judge import cells as cellmod  # noqa: E402
from harness.judge.history import words  # noqa: E402
from harness.report import read_run  # noqa: E402
from harness.scenarios import mutate  # noqa: E402

ROUTER_FILE = os.path.join(REPO, 'examples', 'topologies', 'two_subnets.py')
RULE_PREDICTED = {'owner-binds', 'wildcard-binds', 'loopback-binds', 'listener-answers'}
# The timed mutations but addr-late cost seconds of timeline on every network they
# run on: they run once, together (test_timed_mutations_on_one_network_with_programs);
# the runs of every mutation below take the rest of the catalogue (EVERY).
TIMED_TOGETHER = ('vip-failover', 'link-flap', 'dad-slow', 'renumber')
EVERY = ','.join(m.name for m in mutate.CATALOGUE if m.name not in TIMED_TOGETHER)


@pytest.fixture(autouse=True)
def clean_machine():
    yield from hu.root_and_clean()


def run(tmp_path, *args):
    """`harness run ARGS --out tmp`; (CompletedProcess, the run read back or None)."""
    res = hu.harness('run', *args, '--out', str(tmp_path / 'out'))
    try:
        return res, read_run(str(tmp_path / 'out'))
    except Exception:
        return res, None


def by_cell(cells):
    return {(c.host, c.kind, c.column): c for c in cells}


@pytest.mark.parametrize('spec, hosts', [('single,3', 3), ('linear,4', 4),
                                          ('tree,2,2', 4)])
def test_builtin_topology_is_derived_and_passes(tmp_path, spec, hosts):
    """Every host binds every address (its own OK, the others' EADDRNOTAVAIL), the
    wildcards and loopback, and one free address; every host reaches every host's
    server.  All by rule on one layer-2 segment: no `control` cell."""
    res, got = run(tmp_path, '--topo', spec, '--switch', 'lxbr')
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (matrix,) = got.matrices
    cells = matrix['cells']
    addrs = [f'10.0.0.{n}' for n in range(1, hosts + 1)]
    columns = addrs + ['0.0.0.0', '127.0.0.1', '::', '::1', '10.255.255.254']
    assert len([c for c in cells if c.kind == 'bind']) == hosts * len(columns) * 2
    assert len([c for c in cells if c.kind == 'connect']) == hosts * hosts * 2
    cell = by_cell(cells)
    for n in range(1, hosts + 1):
        assert cell[(f'h{n}', 'bind', f'tcp 10.0.0.{n}')].actual == 'OK'
        other = addrs[n % hosts]
        assert cell[(f'h{n}', 'bind', f'tcp {other}')].actual == 'EADDRNOTAVAIL'
        assert cell[(f'h{n}', 'connect', f'tcp {other}:7001')].peer == \
            f'h{(n % hosts) + 1}'
    assert {c.rule for c in cells} == RULE_PREDICTED
    assert all(c.verdict == 'pass' for c in cells)


def test_single_topology_on_ovs_user(tmp_path):
    """The same derived matrices on Open vSwitch's userspace datapath."""
    res, got = run(tmp_path, '--topo', 'single,3', '--switch', 'ovs-user')
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert got.matrices[0]['environment']['switch'] == 'ovs-user'


def test_custom_file_with_a_router(tmp_path):
    """Two subnets behind a Linux router (a Node class of the file's own): the router
    is a host of both subnets; same-subnet connects are predicted, cross-subnet ones
    are `control`, and everything passes.  A `control` cell is determinism, not an
    expectation: netprobe's outcome is compared with a second netprobe batch on the
    same network, so it fails only when the two disagree; what it got is checked
    here by hand (h1 reaches h3 across the router: OK from h3)."""
    res, got = run(tmp_path, '--custom', ROUTER_FILE, '--topo', 'twosubnets')
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    cell = by_cell(got.matrices[0]['cells'])
    assert cell[('h1', 'connect', 'tcp 10.0.1.12:7001')].rule == 'listener-answers'
    assert cell[('r1', 'connect', 'tcp 10.0.2.13:7001')].rule == 'listener-answers'
    across = cell[('h1', 'connect', 'tcp 10.0.2.13:7001')]
    assert (across.rule, across.actual, across.peer) == ('control', 'OK', 'h3')
    assert 'measured' in across.reason
    assert cell[('r1', 'bind', 'tcp 10.0.2.1')].actual == 'OK'
    assert cell[('h1', 'bind', 'tcp 10.0.2.254')].actual == 'EADDRNOTAVAIL'


def test_mn_itself_accepts_the_same_file():
    """mn's own --custom/--topo code loads the file and builds the Topo (no network
    is started: mn's error path would run its machine-wide cleanup)."""
    loader = importlib.machinery.SourceFileLoader('mn_script', '/usr/bin/mn')
    spec = importlib.util.spec_from_loader('mn_script', loader)
    mn = importlib.util.module_from_spec(spec)
    loader.exec_module(mn)
    runner = mn.MininetRunner.__new__(mn.MininetRunner)
    runner.custom(None, '--custom', ROUTER_FILE, None)
    topo = mn.buildTopo(mn.TOPOS, 'twosubnets')
    assert sorted(topo.hosts()) == ['h1', 'h2', 'h3', 'h4', 'r1']


@pytest.mark.parametrize('content, args, message', [
    ('def broken(:\n', ['--topo', 'x'], 'SyntaxError'),
    ('x = 1\n', ['--topo', 'x'], 'defines no `topos'),
    (None, ['--topo', 'nosuch,3'], "unknown topology 'nosuch'"),
    (None, ['--custom', ROUTER_FILE], '--custom FILE needs --topo'),
    (None, ['--mutate', 'all'], '--mutate needs --topo'),
    (None, ['--topo', 'single,3', '--mutate', 'addr-frob'], 'unknown mutation addr-frob'),
    (None, ['--topo', 'single,3', '--mutate', 'all', '--mutate-hosts', 'h9'], 'no host h9'),
    (None, ['--topo', 'torus,3,3'], 'close a loop'),
])
def test_bad_topology_input_exits_2(tmp_path, content, args, message):
    """Exit 2 with a message, nothing built, no traceback."""
    if content is not None:
        path = tmp_path / 'custom.py'
        path.write_text(content)
        args = ['--custom', str(path)] + args
    before = hu.snapshot()
    res = hu.harness('run', *args, '--out', str(tmp_path / 'out'))
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr and 'Traceback' not in res.stderr, res.stderr
    assert hu.snapshot() == before


# -- mutations ---------------------------------------------------------------------------------

def _cells(spec):
    """'h1 b tcp 10.0.0.1=EADDRNOTAVAIL; ...' -> {(host, kind, column): actual}."""
    out = {}
    for item in spec.split(';'):
        where, actual = item.strip().rsplit('=', 1)
        host, kind, column = where.split(' ', 2)
        out[(host, {'b': 'bind', 'c': 'connect', 'j': 'join', 'm': 'mcast-if',
                    's': 'send'}[kind], column)] = actual
    return out


_H1_CONNECTS = ('h1 c tcp 10.0.0.2:7001={0}; h1 c tcp 10.0.0.3:7001={0}; '
                'h1 c udp 10.0.0.2:7002={1}; h1 c udp 10.0.0.3:7002={1}')
_TO_H1 = ('h2 c tcp 10.0.0.1:7001={0}; h2 c udp 10.0.0.1:7002={0}; '
          'h3 c tcp 10.0.0.1:7001={0}; h3 c udp 10.0.0.1:7002={0}')
_NEW_V6 = 'h1 b tcp fd00:bd::1={0}; h1 b udp fd00:bd::1={0}; ' \
          'h2 b tcp fd00:bd::1={1}; h2 b udp fd00:bd::1={1}; ' \
          'h3 b tcp fd00:bd::1={1}; h3 b udp fd00:bd::1={1}'
# What each mutation of h1 changes on single,3 (and to what), by its rules.
CHANGED_BY = {
    'addr-del': 'h1 b tcp 10.0.0.1=EADDRNOTAVAIL; h1 b udp 10.0.0.1=EADDRNOTAVAIL; '
                'h1 c tcp 10.0.0.1:7001=ENETUNREACH; h1 c udp 10.0.0.1:7002=ENETUNREACH; '
                + _H1_CONNECTS.format('ENETUNREACH', 'ENETUNREACH') + '; ' +
                _TO_H1.format('ETIMEDOUT'),
    'addr-move': 'h1 b tcp 10.0.0.1=EADDRNOTAVAIL; h1 b udp 10.0.0.1=EADDRNOTAVAIL; '
                 'h1 c tcp 10.0.0.1:7001=ENETUNREACH; h1 c udp 10.0.0.1:7002=ENETUNREACH; '
                 + _H1_CONNECTS.format('ENETUNREACH', 'ENETUNREACH') +
                 '; h2 b tcp 10.0.0.1=OK; h2 b udp 10.0.0.1=OK; '
                 'h2 c tcp 10.0.0.1:7001=OK; h2 c udp 10.0.0.1:7002=ETIMEDOUT; '
                 'h3 c tcp 10.0.0.1:7001=OK; h3 c udp 10.0.0.1:7002=ETIMEDOUT',
    'ipv6-tentative': _NEW_V6.format('EADDRNOTAVAIL', 'EADDRNOTAVAIL'),
    'ipv6-dadfailed': _NEW_V6.format('OK', 'EADDRNOTAVAIL'),
    'ipv6-off': 'h1 b tcp ::1=EADDRNOTAVAIL; h1 b udp ::1=EADDRNOTAVAIL',
    'link-down': _H1_CONNECTS.format('ENETUNREACH', 'ENETUNREACH') + '; ' +
                 _TO_H1.format('ETIMEDOUT'),
    'ports-narrow': 'h1 c tcp 10.0.0.1:7001=EADDRNOTAVAIL; h1 c udp 10.0.0.1:7002=EAGAIN; '
                    + _H1_CONNECTS.format('EADDRNOTAVAIL', 'EAGAIN'),
    'port-taken': '; '.join(f'h1 b {p} {a}=EADDRINUSE' for p in ('tcp', 'udp')
                            for a in ('10.0.0.1', '0.0.0.0', '127.0.0.1', '::', '::1')),
    'route-del': _H1_CONNECTS.format('ENETUNREACH', 'ENETUNREACH') + '; ' +
                 _TO_H1.format('ETIMEDOUT'),
    'fw-drop': 'h1 c tcp 10.0.0.1:7001=ETIMEDOUT; h1 c udp 10.0.0.1:7002=ETIMEDOUT; ' +
               _TO_H1.format('ETIMEDOUT'),
    'fw-reject': 'h1 c tcp 10.0.0.1:7001=ECONNREFUSED; h1 c udp 10.0.0.1:7002=ECONNREFUSED'
                 '; ' + _TO_H1.format('ECONNREFUSED'),
    'nonlocal-bind': '; '.join(f'h1 b {p} {a}=OK' for p in ('tcp', 'udp')
                               for a in ('10.0.0.2', '10.0.0.3', '10.255.255.254')),
    # their own cells, which the unmutated network has not (each `changed`): the
    # service address 10.255.255.254 came and went
    'mcast-if-gone': 'h1 j udp 239.1.1.1@10.255.255.254=ENODEV; '
                     'h1 m udp 239.1.1.1@10.255.255.254=EADDRNOTAVAIL; '
                     'h1 j udp 239.1.1.1@10.0.0.1=OK; h1 m udp 239.1.1.1@10.0.0.1=OK',
    'source-gone': 'h1 s udp 10.255.255.254->10.0.0.2:7002 pktinfo=ENETUNREACH; '
                   'h1 s udp 10.255.255.254->10.0.0.2:7002=EADDRNOTAVAIL; '
                   'h1 s udp 10.0.0.1->10.0.0.2:7002 pktinfo=OK',
    # in time: 10.0.0.1 missing until 1.5 s; h1's own connects run after its
    # retrying bind (one plan a host, in order), h2's and h3's before 1.5 s
    'addr-late': 'h1 b tcp 10.0.0.1=EADDRNOTAVAIL; h1 b udp 10.0.0.1=EADDRNOTAVAIL; '
                 + _TO_H1.format('ETIMEDOUT') + '; h1 b tcp 10.0.0.1 retry=3 every=100=OK'
                 '; h1 b tcp 10.0.0.1 freebind=OK',
    # the name mutations: h1's own resolver files and its name cases (each `changed`)
    'localhost-v6': 'h1 b tcp ::1=EADDRNOTAVAIL; h1 b udp ::1=EADDRNOTAVAIL; '
                    'h1 b tcp localhost=::1 EADDRNOTAVAIL; '
                    'h1 c tcp localhost:7001=::1 EADDRNOTAVAIL',
    'hosts-stale': 'h1 c tcp db.bindlab.test:7001 timeout=300=10.255.255.254 EHOSTUNREACH; '
                   'h1 c tcp 10.255.255.254:7001 timeout=300=EHOSTUNREACH; '
                   'h1 b tcp db.bindlab.test=10.255.255.254 EADDRNOTAVAIL',
    'name-public': 'h1 b tcp www.bindlab.test=203.0.113.254 EADDRNOTAVAIL; '
                   'h1 b tcp www.bindlab.test freebind=203.0.113.254 OK',
    'dns-down': 'h1 c tcp api.bindlab.test:7001 timeout=300=EAI_AGAIN; '
                'h1 b tcp api.bindlab.test=EAI_AGAIN',
}
_NAME_MUTATIONS = ('localhost-v6', 'hosts-stale', 'name-public', 'dns-down')


# A few derived cells under a mutation of h1, by hand: (expected, rule) the rules
# must give them, whatever the network then does.
DERIVED_UNDER = {
    'fw-reject': {('h2', 'connect', 'tcp 10.0.0.1:7001'): ('ECONNREFUSED', 'fw-reject'),
                  ('h1', 'connect', 'tcp 10.0.0.2:7001'): ('OK', 'listener-answers')},
    'ports-narrow': {('h1', 'connect', 'udp 10.0.0.2:7002'): ('EAGAIN', 'ports-exhausted'),
                     ('h2', 'connect', 'tcp 10.0.0.3:7001'): ('OK', 'listener-answers')},
    'addr-del': {('h1', 'connect', 'tcp 10.0.0.2:7001'): ('ENETUNREACH', 'no-route'),
                 ('h1', 'bind', 'tcp 10.0.0.1'): ('EADDRNOTAVAIL', 'owner-binds')},
    'addr-move': {('h2', 'bind', 'tcp 10.0.0.1'): ('OK', 'owner-binds'),
                  ('h1', 'bind', 'tcp 10.0.0.1'): ('EADDRNOTAVAIL', 'owner-binds')},
}


def test_each_mutation_changes_exactly_what_its_rules_say(tmp_path):
    """Every mutation (EVERY) on h1 of single,3, each on a fresh network (nothing of
    the one before remains):

    - the cells that changed against the unmutated network are exactly the rule's
      (CHANGED_BY, by hand);
    - every cell a rule predicts passes; an `observed` cell passes by construction
      (mutate.annotate makes its outcome its expectation), so it is checked against
      the hand-written outcome instead: CHANGED_BY's where it changed, else OK (every
      connect of unmutated single,3 is OK);
    - a few cells' derived expectation and rule are the hand-written DERIVED_UNDER."""
    res, got = run(tmp_path, '--topo', 'single,3', '--mutate', EVERY,
                   '--mutate-hosts', 'h1')
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (matrix,) = got.matrices
    entries = {m['name']: m for m in matrix['mutations']}
    assert sorted(entries) == sorted(CHANGED_BY)
    observed_somewhere = 0
    for name, spec in CHANGED_BY.items():
        entry = entries[name]
        changed = {(c.host, c.kind, c.column): c.actual
                   for c in entry['cells'] if c.changed}
        assert changed == _cells(spec), name
        assert entry['target'] == 'h1' and entry['problem'] is None
        predicted = [c for c in entry['cells'] if c.rule != 'observed']
        assert predicted and all(c.verdict == 'pass' for c in predicted), name
        for cell in entry['cells']:
            if cell.rule == 'observed':
                observed_somewhere += 1
                key = (cell.host, cell.kind, cell.column)
                assert cell.actual == _cells(spec).get(key, 'OK'), (name, key)
        cell = {(c.host, c.kind, c.column): c for c in entry['cells']}
        for key, want in DERIVED_UNDER.get(name, {}).items():
            assert (cell[key].expected, cell[key].rule) == want, (name, key)
        assert entry['steps'] or name in ('port-taken', 'name-public', 'dns-down'), name
    assert observed_somewhere     # addr-del's connects to 10.0.0.1, for one
    _addr_late_in_order(entries['addr-late'])
    with open(os.path.join(got.folder, matrix['scenario'], 'mutations.json')) as f:
        assert json.load(f)['mutations'][0]['cells'][0]['control'] is not None
    with open(os.path.join(got.folder, 'junit.xml')) as f:
        assert 'h2 under addr-move on h1' in f.read()


# A client given {name}, with a timeout of its own (4 s: asyncio.wait_for).
NAME_CLIENT = f'{sys.executable} {REPO}/tests/programs/python/client.py {{name}} {{port}} 0.0.0.0'


def test_name_mutations_on_one_network_with_a_name_client(tmp_path):
    """The four name mutations of h1 on one single,2 network, with a client program
    given {name}: each undone and the undo proved (h1's resolver files unmounted:
    every entry's network stays `shared`, and each mutation changes only its own
    cells, nothing of the one before); netprobe's name cells and the program's say
    which address the name gave, or that it did not resolve."""
    res, got = run(tmp_path, '--topo', 'single,2', '--mutate', ','.join(_NAME_MUTATIONS),
                   '--mutate-hosts', 'h1', '--mutate-networks', 'shared',
                   '--client', NAME_CLIENT)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    entries = {m['name']: m for m in got.matrices[0]['mutations']}
    assert list(entries) == list(_NAME_MUTATIONS)
    assert {e['network'] for e in entries.values()} == {'shared'}, entries
    for name, entry in entries.items():
        changed = {(c.host, c.kind, c.column): c.actual for c in entry['cells'] if c.changed}
        assert changed == _cells(CHANGED_BY[name]), name
        assert all(c.verdict == 'pass' for c in entry['cells']), name
    program = {(e['name'], c.column): c for e in entries.values() for c in e['cells']
               if c.program}
    assert {k: (c.actual, c.method) for k, c in program.items()} == {
        ('localhost-v6', 'tcp localhost:7001'): ('::1 EADDRNOTAVAIL', 'tracer'),
        ('hosts-stale', 'tcp db.bindlab.test:7001 timeout=300'):
            ('10.255.255.254 EHOSTUNREACH', 'tracer'),
        ('dns-down', 'tcp api.bindlab.test:7001 timeout=300'): ('EAI_AGAIN', 'tracer')}
    assert program[('localhost-v6', 'tcp localhost:7001')].resolved == ['::1']
    assert 'localhost 7001' in program[('localhost-v6', 'tcp localhost:7001')].program


def _addr_late_in_order(entry):
    """addr-late's timed step fired at its second (never early), on the timeline the
    cells' tries are on: the retrying bind failed until then and bound after it."""
    (step,) = [s for s in entry['steps'] if s['kind'] == 'timed']
    assert step['ok'] and step['argv'][:3] == ['ip', 'addr', 'add'], step
    assert 1.5 <= step['fired_s'] <= step['done_s'], step
    cells = {(c.host, c.kind, c.column): c for c in entry['cells']}
    retry = cells[('h1', 'bind', 'tcp 10.0.0.1 retry=3 every=100')]
    assert [w for _t, w in retry.tries[:-1]] == ['EADDRNOTAVAIL'] * (len(retry.tries) - 1)
    assert retry.tries[-1][1] == 'OK' and len(retry.tries) >= 5
    assert max(t for t, _w in retry.tries[:-1]) <= step['done_s'] + 0.15   # a try's length, clocks
    assert step['fired_s'] - 0.15 <= retry.ok_at



def _timed(entry, host, verb):
    """The one timed step of entry on host whose argv has verb ('add', 'up', ...)."""
    (step,) = [s for s in entry['steps'] if s['kind'] == 'timed' and s['host'] == host
               and verb in s['argv']]
    assert step['ok'] and step['at'] <= step['fired_s'] <= step['done_s'], step
    return step


def _retried_after(cell, step, within, at_least=0.0):
    """cell (a bind with retry=) failed with EADDRNOTAVAIL until step took effect (and
    at_least seconds more: DAD) and succeeded after it, inside its expectation's
    bound: the order of events, never exact times (0.15 s: a try's length, clocks)."""
    words = [w for _t, w in cell.tries]
    assert words[-1] == 'OK' and set(words[:-1]) == {'EADDRNOTAVAIL'}, cell.tries
    assert cell.tries[0][0] < step['fired_s'] + at_least, cell.tries   # one before it
    assert step['fired_s'] + at_least - 0.15 <= cell.ok_at <= within, (cell.ok_at, step)
    assert cell.verdict == 'pass' and cell.expected_within == within


def test_timed_mutations_on_one_network_with_programs(tmp_path):
    """addr-late, vip-failover, link-flap, dad-slow and renumber on h1 of single,3, on
    one shared network (each undone and the undo proved before the next), with the
    seed's server (binds 10.0.0.1) and a client on every host.  Each step fired at
    its second or later; the plain binds made at t=0 fail (or work) as the world was
    then; a retrying bind fails until the step (and DAD after it) and binds after it,
    within its bound; IP_FREEBIND binds at once; a VIP answers from its owner on
    either side of the failover."""
    res, got = run(tmp_path, '--topo', 'single,3', '--mutate',
                   'addr-late,' + ','.join(TIMED_TOGETHER), '--mutate-hosts', 'h1',
                   '--mutate-networks', 'shared',
                   '--server', f'{PY} examples/seed_server.py',
                   '--client', f'{PY} examples/client.py {{addr}} {{port}} {{src}}')
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]  # the seed's bug
    (matrix,) = got.matrices
    entries = {m['name']: m for m in matrix['mutations']}
    assert list(entries) == ['addr-late'] + list(TIMED_TOGETHER)
    for name, entry in entries.items():     # every undo proved: the network stayed shared
        assert (entry['network'], entry['problem'], entry['skipped']) == \
            ('shared', None, None), (name, entry['network'])
        failed = {(c.host, c.kind, c.column) for c in entry['cells'] if c.verdict != 'pass'}
        seed = {(h, 'bind', 'tcp server program') for h in ('h2', 'h3')}
        assert failed == seed | ({('h1', 'bind', 'tcp server program')}
                                 if name == 'addr-late' else set()), (name, failed)
    cells = {name: by_cell(e['cells']) for name, e in entries.items()}
    _addr_late_in_order(entries['addr-late'])

    vip, up = 'tcp 10.255.255.254', 'tcp 10.255.255.254:7001'
    entry, cell = entries['vip-failover'], cells['vip-failover']
    gone, moved = _timed(entry, 'h1', 'del'), _timed(entry, 'h2', 'add')
    assert all(_timed(entry, h, 'flush')['fired_s'] >= max(gone['at'], moved['at'])
               for h in ('h1', 'h2', 'h3'))
    assert (cell[('h1', 'bind', vip)].actual, cell[('h2', 'bind', vip)].actual,
            cell[('h3', 'bind', vip)].actual) == ('OK', 'EADDRNOTAVAIL', 'EADDRNOTAVAIL')
    _retried_after(cell[('h2', 'bind', vip + ' retry=3 every=100')], moved, 3)
    assert cell[('h2', 'bind', vip + ' freebind')].actual == 'OK'
    before = cell[('h3', 'connect', up + ' delay=1 timeout=300')]
    after = cell[('h3', 'connect', up + ' delay=2000 retry=2 every=100 timeout=300')]
    assert (before.actual, before.peer, after.actual, after.peer) == ('OK', 'h1', 'OK', 'h2')
    assert before.ok_at < gone['fired_s'] <= moved['done_s'] < after.tries[0][0]

    ula = 'tcp fd00:bd::1'
    entry, cell = entries['link-flap'], cells['link-flap']
    assert ['sysctl', '-q', '-w', 'net.ipv6.conf.h1-eth0.keep_addr_on_down=1'] in \
        [s['argv'] for s in entry['steps']]
    _retried_after(cell[('h1', 'bind', ula + ' retry=5 every=100')],
                   _timed(entry, 'h1', 'up'), 5, at_least=0.5)    # DAD: 1 probe, 1 s
    assert cell[('h1', 'bind', ula)].actual == 'EADDRNOTAVAIL'   # tentative while down
    assert cell[('h1', 'bind', ula + ' freebind')].actual == 'OK'

    entry, cell = entries['dad-slow'], cells['dad-slow']
    _retried_after(cell[('h1', 'bind', ula + ' retry=4 every=100')],
                   _timed(entry, 'h1', 'add'), 4, at_least=1.0)   # DAD: 3 probes, 1.5 s
    assert cell[('h1', 'bind', ula)].actual == 'EADDRNOTAVAIL'
    assert cell[('h1', 'bind', ula + ' freebind')].actual == 'OK'

    entry, cell = entries['renumber'], cells['renumber']
    new = _timed(entry, 'h1', 'add')
    assert _timed(entry, 'h1', 'del')['done_s'] <= new['fired_s']
    _retried_after(cell[('h1', 'bind', vip + ' retry=3 every=100')], new, 3)
    assert (cell[('h1', 'bind', 'tcp 10.0.0.1')].actual,
            cell[('h1', 'bind', vip)].actual) == ('OK', 'EADDRNOTAVAIL')   # at t=0
    old = cell[('h1', 'bind', 'tcp 10.0.0.1 delay=2000')]
    assert old.actual == 'EADDRNOTAVAIL' and old.tries[0][0] > new['done_s']
    # the client programs run after the timeline, when the old address answers nobody:
    # the connects of t=0 to it stay netprobe's (it answered then), saying why
    assert all(cell[(h, 'connect', 'tcp 10.0.0.1:7001')].method == 'netprobe' and
               "this case's moment, t=0 s" in cell[(h, 'connect', 'tcp 10.0.0.1:7001')].note
               for h in ('h2', 'h3'))

    # the seed's server (started at t=0) meets Errno 99 only where 10.0.0.1 came late
    assert [cells[n][('h1', 'bind', 'tcp server program')].actual for n in entries] == \
        ['EADDRNOTAVAIL'] + ['OK'] * len(TIMED_TOGETHER)

# The servers below bind a number they choose and resolve no name: the name mutations
# would only add rows equal to the unmutated network's (they have their own test).
NUMERIC = [n for n in EVERY.split(',') if n not in _NAME_MUTATIONS]


def mutation_matrix(tmp_path, server, networks='fresh', targets=('h1', 'h2')):
    """Every mutation of NUMERIC on targets (h1: the seed's address holder; h2: h3
    mirrors it in single,3, the same role, another address), for a server on every
    host: {(row, host): cell text}, holding every row and column; res.mutations: the
    mutations.json entries."""
    res, got = run(tmp_path, '--topo', 'single,3', '--mutate', ','.join(NUMERIC),
                   '--mutate-hosts', ','.join(targets), '--mutate-networks', networks,
                   '--server', server)
    assert {m['network'] for m in got.matrices[0]['mutations']} == {networks}
    _rows, _hosts, table = cellmod.mutation_matrix(got.matrices[0].get('mutations'))
    res.mutations = got.matrices[0]['mutations']
    names = NUMERIC
    assert {row for row, _h in table} == {f'{n} {t}' for n in names for t in targets}
    assert {host for _r, host in table} == {'h1', 'h2', 'h3'}
    return res, table


# Debian's interpreter by its path: on a machine whose `python3` is a wrapper script
# (pyenv's shim costs ~70 ms a launch), 144 launches of it would be most of the test.
PY = sys.executable


def test_seed_and_fixed_server_under_every_mutation(tmp_path):
    """The server that binds 10.0.0.1 breaks with EADDRNOTAVAIL where h1 loses the
    address, works where another host gains it or may bind it anyway, and meets a
    taken port only on h1; the one that binds 0.0.0.0 survives everything except
    port-taken, even on h1, where the seed's address goes (h2 would add nothing)."""
    res, fixed = mutation_matrix(tmp_path / 'fixed', f'{PY} examples/fixed_server.py',
                                 targets=('h1',))
    assert res.returncode == 1           # port-taken breaks it: that is the finding
    for (row, host), text in fixed.items():
        name, target = row.split()
        want = 'EADDRINUSE*!' if (name, target) == ('port-taken', host) else 'OK'
        assert text == want, (row, host, text)
    res, seed = mutation_matrix(tmp_path / 'seed', f'{PY} examples/seed_server.py',
                                'shared')   # its program files: each mutation's own
    assert res.returncode == 1
    special = {('addr-del h1', 'h1'): 'EADDRNOTAVAIL*!',
               ('addr-move h1', 'h1'): 'EADDRNOTAVAIL*!', ('addr-move h1', 'h2'): 'OK*',
               ('port-taken h1', 'h1'): 'EADDRINUSE*!',
               ('addr-late h1', 'h1'): 'EADDRNOTAVAIL*!',     # started before it came
               ('nonlocal-bind h2', 'h2'): 'OK*'}
    for (row, host), text in seed.items():
        want = special.get((row, host), 'OK' if host == 'h1' else 'EADDRNOTAVAIL!')
        assert text == want, (row, host, text)
    # in time (probe/intime.py): started at the timeline's t=0, its first bind was
    # Errno 99 and it exited 1 by itself, long before 10.0.0.1 came back at 1.5 s
    (late,) = [c for m in res.mutations if (m['name'], m['target']) == ('addr-late', 'h1')
               for c in m['cells'] if (c.host, c.column) == ('h1', 'tcp server program')]
    assert (late.method, late.exit, late.stopped) == ('tracer', 1, False), late.to_json()
    assert [w for _t, w in late.tries] == ['EADDRNOTAVAIL'] and 0 <= late.tries[0][0] < 1.5
    assert re.fullmatch(r'EADDRNOTAVAIL at [01]\.\d\d s, exited 1', words(late)), words(late)


def test_record_and_check_cover_mutations(tmp_path):
    """--record writes the mutated cells into the expectation file (one line each,
    with their mutation); --check against it passes; a changed mutated outcome is
    named with its mutation."""
    base = str(tmp_path / 'expect')
    args = ['--topo', 'single,3', '--mutate', 'nonlocal-bind', '--mutate-hosts', 'h1',
            '--baseline', base]
    res = hu.harness('run', *args, '--record', '--out', str(tmp_path / 'a'))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    with open(os.path.join(base, 'single-3.json')) as f:
        text = f.read()
    assert '"mutation": "nonlocal-bind h1"' in text
    res = hu.harness('run', *args, '--check', '--out', str(tmp_path / 'b'))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    path = os.path.join(base, 'single-3.json')
    lines = text.splitlines()
    at = next(i for i, ln in enumerate(lines) if '"mutation": "nonlocal-bind h1"' in ln
              and '"column": "tcp 10.0.0.2"' in ln)
    lines[at] = lines[at].replace('"actual": "OK"', '"actual": "EADDRNOTAVAIL"')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    res = hu.harness('run', *args, '--check', '--out', str(tmp_path / 'c'))
    assert res.returncode == 1
    assert 'single-3 bind h1 tcp 10.0.0.2 [nonlocal-bind h1]: EADDRNOTAVAIL -> OK' \
        in res.stdout
