"""Scenarios ipv6-dad, nonlocal-bind, port-exhaustion and port-conflicts on real networks.

Run under the machine's Mininet lock:
    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_scenarios_d1.py
Each test runs `python3 -m harness run SCENARIO` as a user would, requires exit 0, and
reads matrix.json for the cells a user of that scenario cares about: the errno the
kernel really gave, the local address it chose, the host that answered.
"""

import json

import pytest

import harness_util as hu


# Every test needs root, starts on a clean machine and must leave it clean.
root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)


class Matrix:
    """A scenario's matrix.json, looked up by (host, column) as the console shows it."""

    def __init__(self, path):
        with open(path) as f:
            self.data = json.load(f)
        self.cells = {}
        for c in self.data['cells']:
            key = (c['host'], c['column'])
            assert key not in self.cells, f'two cells at {key}: the matrix is ambiguous'
            self.cells[key] = c

    def __call__(self, host, column):
        """The cell of host in column (fails the test if there is none)."""
        assert (host, column) in self.cells, f'no cell {host} / {column!r}'
        return self.cells[(host, column)]

    def actual(self, host, column):
        return self(host, column)['actual']


def run_scenario(name, tmp_path, switch='lxbr'):
    """Run one scenario; assert it is green; return its Matrix."""
    res = hu.harness('run', name, '--switch', switch, '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.splitlines()[-1].endswith('passed, 0 failed'), res.stdout
    m = Matrix(tmp_path / 'latest' / name / 'matrix.json')
    assert all(c['verdict'] == 'pass' for c in m.data['cells'])
    assert m.data['environment']['switch'] == switch
    return m


# -- ipv6-dad --------------------------------------------------------------------------

def test_ipv6_dad(tmp_path):
    m = run_scenario('ipv6-dad', tmp_path)
    # The slow DAD really was applied before the tentative address came.
    argvs = [' '.join(s['argv']) for s in m.data['steps'] if s['ok']]
    assert 'sysctl -q -w net.ipv6.conf.h2-eth0.dad_transmits=20' in argvs
    for proto in ('tcp', 'udp'):
        # Tentative and dadfailed: errno 99, like an absent address.
        assert m.actual('h2', f'{proto} fd00::2') == 'EADDRNOTAVAIL'
        assert m.actual('h3', f'{proto} fd00::1') == 'EADDRNOTAVAIL'
        # nodad at once, and DAD completed.
        assert m.actual('h1', f'{proto} fd00::1') == 'OK'
        assert m.actual('h2', f'{proto} fd00::22') == 'OK'
        assert m.actual('h3', f'{proto} fd00::3') == 'OK'
        # Link-local: EINVAL without a scope, OK with it.
        assert m.actual('h2', f'{proto} fe80::200:ff:fe00:2') == 'EINVAL'
        assert m.actual('h2', f'{proto} fe80::200:ff:fe00:2%h2-eth0') == 'OK'
    assert m.actual('h2', 'tcp fd00::2 freebind') == 'OK'
    # Nobody reaches a tentative address; the dadfailed copy cuts h3 off from h1's.
    assert m.actual('h1', 'tcp [fd00::2]:7001 timeout=300') == 'ETIMEDOUT'
    assert m.actual('h3', 'tcp [fd00::1]:7001 timeout=300') == 'ETIMEDOUT'
    c = m('h2', 'tcp [fd00::1]:7001')
    assert (c['actual'], c['peer']) == ('OK', 'h1')
    # A tentative source is refused in the connect's own bind().
    c = m('h2', 'tcp [fd00::1]:7001 src=fd00::2')
    assert c['actual'] == 'EADDRNOTAVAIL'


# -- nonlocal-bind -------------------------------------------------------------------------

def test_nonlocal_bind(tmp_path):
    m = run_scenario('nonlocal-bind', tmp_path)
    # The seed's bind, without and with IP_FREEBIND, and with ip_nonlocal_bind (h3).
    assert m.actual('h2', 'tcp 10.0.0.1') == 'EADDRNOTAVAIL'
    assert m.actual('h2', 'tcp 10.0.0.1 freebind') == 'OK'
    assert m.actual('h2', 'udp 10.0.0.1 freebind') == 'OK'
    assert m.actual('h3', 'tcp 10.0.0.1') == 'OK'
    assert m.actual('h3', 'tcp 10.0.0.99') == 'OK'
    assert m.actual('h3', 'tcp fd00::1') == 'OK'
    assert m.actual('h1', 'tcp 10.0.0.2') == 'EADDRNOTAVAIL'
    # A foreign source: refused at bind, at the IPv4 route, or unanswered over IPv6.
    assert m.actual('h2', 'tcp 10.0.0.3:7001 src=10.0.0.1') == 'EADDRNOTAVAIL'
    c = m('h2', 'tcp 10.0.0.3:7001 src=10.0.0.1 freebind')
    assert (c['actual'], c['local']) == ('ENETUNREACH', None)
    assert m.actual('h3', 'tcp 10.0.0.2:7001 src=10.0.0.1') == 'ENETUNREACH'
    assert m.actual('h2', 'tcp [fd00::3]:7001 src=fd00::1 freebind timeout=300') == \
        'ETIMEDOUT'
    # h2's freebind listener on 10.0.0.1 is never reached: h1 owns the address.
    for host in ('h1', 'h2', 'h3'):
        assert m.actual(host, 'tcp 10.0.0.1:7002') == 'ECONNREFUSED'
    servers = [s for s in m.data['servers'] if s['host'] == 'h2' and s['port'] == 7002]
    assert servers and all(s['record']['ok'] for s in servers)


# -- port-exhaustion --------------------------------------------------------------------------

def test_port_exhaustion(tmp_path):
    m = run_scenario('port-exhaustion', tmp_path)
    first, second = m('h1', 'tcp 10.0.0.2:5001 hold #1'), m('h1', 'tcp 10.0.0.2:5001 hold #2')
    assert (first['actual'], first['local']) == ('OK', '10.0.0.1:40000')
    assert (second['actual'], second['local']) == ('OK', '10.0.0.1:40001')
    third = m('h1', 'tcp 10.0.0.2:5001 hold #3')
    assert (third['actual'], third['local']) == ('EADDRNOTAVAIL', None)
    # The 4-tuple rule: other destinations reuse the same two ports.
    c = m('h1', 'tcp 10.0.0.2:5002 hold #1')
    assert (c['actual'], c['local'], c['peer']) == ('OK', '10.0.0.1:40000', 'h2')
    c = m('h1', 'tcp 10.0.0.3:5001 hold #1')
    assert (c['actual'], c['peer']) == ('OK', 'h3')
    assert m.actual('h1', 'tcp [fd00::2]:5001 hold #2') == 'OK'
    assert m.actual('h1', 'tcp [fd00::2]:5001 hold #3') == 'EADDRNOTAVAIL'
    # UDP: no per-destination sharing, and another errno.
    assert m.actual('h1', 'udp 10.0.0.3:5001 timeout=300 hold #1') == 'EAGAIN'
    # Ports taken by bind(): bind(0) runs out with EADDRINUSE, every connect with 99.
    assert m.actual('h4', 'tcp 0.0.0.0:0 hold #3') == 'EADDRINUSE'
    assert m.actual('h4', 'tcp 10.0.0.3:5001') == 'EADDRNOTAVAIL'
    # Bind-before-connect: the bind runs out first; IP_BIND_ADDRESS_NO_PORT does not.
    assert m.actual('h1', 'tcp 10.0.0.3:5002 src=10.0.0.1') == 'EADDRINUSE'
    c = m('h1', 'tcp 10.0.0.3:5002 src=10.0.0.1 bindnoport')
    assert (c['actual'], c['local'], c['peer']) == ('OK', '10.0.0.1:40000', 'h3')


# -- port-conflicts ----------------------------------------------------------------------------

def test_port_conflicts(tmp_path):
    m = run_scenario('port-conflicts', tmp_path)
    # A server holds the port.
    assert m.actual('h1', 'tcp 0.0.0.0:7000') == 'EADDRINUSE'
    assert m.actual('h1', 'tcp 10.0.0.1:7000') == 'EADDRINUSE'
    assert m.actual('h2', 'tcp 0.0.0.0:7000') == 'OK'
    # SO_REUSEADDR does not share a TCP listener's port; SO_REUSEPORT does; UDP differs.
    assert m.actual('h1', 'tcp 0.0.0.0:7002 reuseaddr') == 'EADDRINUSE'
    assert m.actual('h1', 'tcp 0.0.0.0:7003 reuseport') == 'OK'
    assert m.actual('h1', 'tcp 0.0.0.0:7003') == 'EADDRINUSE'
    assert m.actual('h1', 'udp 0.0.0.0:7102 reuseaddr') == 'OK'
    assert m.actual('h1', 'udp 0.0.0.0:7103 reuseport') == 'OK'
    # v4/v6 wildcard overlap, both orders.
    assert m.actual('h1', 'tcp 0.0.0.0:7010') == 'EADDRINUSE'
    assert m.actual('h1', 'udp 0.0.0.0:7010') == 'EADDRINUSE'
    assert m.actual('h1', 'tcp 0.0.0.0:7011') == 'OK'
    assert m.actual('h1', 'tcp [::]:7004') == 'EADDRINUSE'
    assert m.actual('h1', 'tcp [::]:7004 v6only=1') == 'OK'
    # The restart case: TIME_WAIT yields to SO_REUSEADDR only if the old server set it.
    assert m.actual('h1', 'tcp 0.0.0.0:7020 reuseaddr') == 'EADDRINUSE'
    assert m.actual('h1', 'tcp 0.0.0.0:7021 reuseaddr') == 'OK'
    # Dual-stack server answers IPv4; an IPv6-only one refuses it.
    c = m('h2', 'tcp 10.0.0.1:7110')
    assert (c['actual'], c['peer']) == ('OK', 'h1')
    assert m.actual('h2', 'tcp 10.0.0.1:7111') == 'ECONNREFUSED'
    assert m.actual('h2', 'tcp [fd00::1]:7111') == 'OK'


# -- the userspace OVS switch -------------------------------------------------------------------

def test_all_four_green_on_ovs_user(tmp_path):
    """The four scenarios claim ovs-user in switches=: they must be green there too."""
    names = ['ipv6-dad', 'nonlocal-bind', 'port-exhaustion', 'port-conflicts']
    res = hu.harness('run', *names, '--switch', 'ovs-user', '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    for name in names:
        m = Matrix(tmp_path / 'latest' / name / 'matrix.json')
        assert m.data['environment']['switch'] == 'ovs-user'
        assert m.data['cells'] and all(c['verdict'] == 'pass' for c in m.data['cells'])
