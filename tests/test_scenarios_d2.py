"""Scenarios 5, 6 and 8 of the default suite on real Mininet networks: home-router-nat,
docker-bridge and routed-subnets.

Run under the machine's Mininet lock:
    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_scenarios_d2.py
Each test runs `python3 -m harness run SCENARIO` as a user would and checks the exit
status and the cells a user of that scenario cares about in matrix.json (what the
kernel answered, and which host answered a connect).  Every cell must pass, so a change
in any outcome fails the test; the named cells make the failure say what changed.
"""

import json
import shutil

import pytest

import harness_util as hu


# Every test needs root, starts on a clean machine and must leave it clean.
root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)


def run_scenario(tmp_path, name, switch='lxbr'):
    """Run one scenario; returns its matrix.json (the run must exit 0)."""
    res = hu.harness('run', name, '--switch', switch, '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    with open(tmp_path / 'latest' / name / 'matrix.json') as f:
        matrix = json.load(f)
    bad = [c for c in matrix['cells'] if c['verdict'] != 'pass']
    assert not bad, bad
    assert matrix['environment']['switch'] == switch
    return matrix


def cell(matrix, kind, host, addr, port, proto='tcp', options=()):
    """The one cell of matrix matching the arguments."""
    found = [c for c in matrix['cells'] if c['kind'] == kind and c['host'] == host
             and c['addr'] == addr and c['port'] == port and c['proto'] == proto
             and tuple(c['options']) == tuple(options)]
    assert len(found) == 1, f'{len(found)} cells for {kind} {host} {addr}:{port} {options}'
    return found[0]


def answer(c):
    """(actual, peer) of a connect cell."""
    return c['actual'], c['peer']


# -- home-router-nat ------------------------------------------------------------------------

def test_home_router_nat(tmp_path):
    m = run_scenario(tmp_path, 'home-router-nat')
    # The NAT router's public address is not the LAN server's: the seed's Errno 99.
    assert cell(m, 'bind', 'srv', '203.0.113.1', 6600)['actual'] == 'EADDRNOTAVAIL'
    assert cell(m, 'bind', 'srv', '192.168.1.50', 6600)['actual'] == 'OK'
    assert cell(m, 'bind', 'r1', '203.0.113.1', 6600)['actual'] == 'OK'
    assert cell(m, 'bind', 'srv', '203.0.113.1', 6600,
                options=('freebind',))['actual'] == 'OK'
    # Outside in: the port forward reaches srv; no forward is refused by the router;
    # a forward behind a drop rule is silence.  None of them is Errno 99.
    assert answer(cell(m, 'connect', 'ext', '203.0.113.1', 6677)) == ('OK', 'srv')
    assert cell(m, 'connect', 'ext', '203.0.113.1', 6678)['actual'] == 'ECONNREFUSED'
    assert cell(m, 'connect', 'ext', '203.0.113.1', 6679,
                options=('timeout=300',))['actual'] == 'ETIMEDOUT'
    assert cell(m, 'connect', 'ext', '192.168.1.50', 6677)['actual'] == 'ENETUNREACH'
    # Inside out: masqueraded, answered by ext.
    assert answer(cell(m, 'connect', 'srv', '203.0.113.10', 7001)) == ('OK', 'ext')
    connects = [c for c in m['cells'] if c['kind'] == 'connect']
    assert all(c['actual'] != 'EADDRNOTAVAIL' for c in connects)
    # The faults really were applied, and recorded as such.
    assert any(s['kind'] == 'fault' and s['host'] == 'r1' and s['ok'] for s in m['steps'])


# -- docker-bridge ---------------------------------------------------------------------------

def test_docker_bridge(tmp_path):
    m = run_scenario(tmp_path, 'docker-bridge')
    # The real Docker Errno 99: ::1 with IPv6 disabled; 127.0.0.1 is refused instead.
    c = cell(m, 'connect', 'c5', '::1', 5000)
    assert c['actual'] == 'EADDRNOTAVAIL'
    assert c['message'] == 'Cannot assign requested address'
    assert cell(m, 'connect', 'c5', '127.0.0.1', 5000)['actual'] == 'ECONNREFUSED'
    assert cell(m, 'connect', 'c5', '::1', 5000, proto='udp')['actual'] == 'EADDRNOTAVAIL'
    assert cell(m, 'connect', 'c4', '::1', 5000)['actual'] == 'ECONNREFUSED'
    assert cell(m, 'bind', 'c5', '::1', 6600)['actual'] == 'EADDRNOTAVAIL'
    # Published ports: every failed mapping is refused, never Errno 99; the right one
    # is answered by its container.
    for port in (8080, 8081, 8082):
        assert cell(m, 'connect', 'ext', '198.51.100.1', port)['actual'] == 'ECONNREFUSED'
    assert answer(cell(m, 'connect', 'ext', '198.51.100.1', 8083)) == ('OK', 'c4')
    # The same failed mappings through the userland proxy (dh's loopback, another
    # container to the gateway): connected, then closed without a byte, which is not
    # an answer; the right mapping is answered by c4 through it too.  Docker's OUTPUT
    # DNAT sends dh's connect to its own outer address straight to c1: refused.
    for host, addr, ports in (('dh', '127.0.0.1', (8080, 8081, 8082)),
                              ('c2', '172.17.0.1', (8080,))):
        for port in ports:
            c = cell(m, 'connect', host, addr, port)
            assert (c['actual'], c['peer'], c['after']) == ('OK', None, 'eof'), c
            assert c['expected_after'] == 'eof'
        c = cell(m, 'connect', host, addr, 8083)
        assert (c['actual'], c['peer'], c['after']) == ('OK', 'c4', 'greeting'), c
    assert cell(m, 'connect', 'dh', '198.51.100.1', 8080)['actual'] == 'ECONNREFUSED'
    # ... and every result file says so.
    run = tmp_path / 'latest'
    csv_rows = (run / 'docker-bridge' / 'connect.csv').read_text().splitlines()
    assert csv_rows[0].endswith(',expected_after,after')
    assert any(r.startswith('dh,127.0.0.1,8080,') and r.endswith(',eof,eof')
               for r in csv_rows)
    assert '| OK/eof | OK/eof | OK/eof |' in (run / 'summary.md').read_text()
    assert 'OK, eof' in (run / 'report.html').read_text()
    # Inside c1 its loopback-only service works.
    assert answer(cell(m, 'connect', 'c1', '127.0.0.1', 80)) == ('OK', 'c1')
    # Binding the host's published address inside a container is Errno 99.
    assert cell(m, 'bind', 'c1', '198.51.100.1', 6600)['actual'] == 'EADDRNOTAVAIL'
    assert [s['argv'][-1] for s in m['steps'] if s['kind'] == 'fault'] == \
        ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']


# -- routed-subnets --------------------------------------------------------------------------

def test_routed_subnets(tmp_path):
    m = run_scenario(tmp_path, 'routed-subnets')
    srv4, srv6, t300, t2000 = '10.0.2.10', 'fd00:2::10', ('timeout=300',), ('timeout=2000',)

    def tcp4(host):
        return cell(m, 'connect', host, srv4, 5001, options=t300)['actual']

    assert tcp4('h1') == 'ENETUNREACH'        # no default route
    assert tcp4('h2') == 'EHOSTUNREACH'       # unreachable route
    assert tcp4('h3') == 'ECONNREFUSED'       # reject with tcp reset
    assert tcp4('h4') == 'ETIMEDOUT'          # drop
    assert tcp4('h5') == 'EHOSTUNREACH'       # reject icmp host-unreachable
    assert tcp4('h6') == 'ECONNREFUSED'       # reject icmp port-unreachable
    assert tcp4('h7') == 'EHOSTUNREACH'       # reject icmp admin-prohibited
    assert answer(cell(m, 'connect', 'h8', srv4, 5001, options=t300)) == ('OK', 'srv')
    assert answer(cell(m, 'connect', 'h8', srv6, 5001, options=t300)) == ('OK', 'srv')
    # IPv6 differs where it matters: admin-prohibited is EACCES.
    assert cell(m, 'connect', 'h7', srv6, 5001, options=t2000)['actual'] == 'EACCES'
    assert cell(m, 'connect', 'h7', srv6, 5002, 'udp', t300)['actual'] == 'EACCES'
    assert cell(m, 'connect', 'h6', srv6, 5001, options=t2000)['actual'] == 'ECONNREFUSED'
    assert cell(m, 'connect', 'h2', srv6, 5001, options=t300)['actual'] == 'EHOSTUNREACH'
    # A tcp-reset rule lets UDP through.
    assert answer(cell(m, 'connect', 'h3', srv4, 5002, 'udp', t300)) == ('OK', 'srv')
    # No Errno 99 anywhere on a connect, and every host binds its own addresses.
    assert all(c['actual'] != 'EADDRNOTAVAIL' for c in m['cells'] if c['kind'] == 'connect')
    own = [c for c in m['cells'] if c['column'].startswith('tcp own')]
    assert len(own) == 20 and all(c['actual'] == 'OK' for c in own)


# -- the same three on Open vSwitch's userspace datapath -------------------------------------

@pytest.mark.skipif(not shutil.which('ovs-vsctl'), reason='Open vSwitch is not installed')
def test_d2_scenarios_on_ovs_user(tmp_path):
    """They declare ovs-user; the same cells hold there (one run, all three)."""
    names = ('home-router-nat', 'docker-bridge', 'routed-subnets')
    res = hu.harness('run', *names, '--switch', 'ovs-user', '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    for name in names:
        with open(tmp_path / 'latest' / name / 'matrix.json') as f:
            m = json.load(f)
        assert m['environment']['switch'] == 'ovs-user'
        assert all(c['verdict'] == 'pass' for c in m['cells']), name
    with open(tmp_path / 'latest' / 'docker-bridge' / 'matrix.json') as f:
        m = json.load(f)
    assert cell(m, 'connect', 'c5', '::1', 5000)['actual'] == 'EADDRNOTAVAIL'
