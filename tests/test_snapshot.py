"""`bindlab snapshot` (issue 26) against real namespaces: what the file says is what
the namespace has, `--redact` relabels consistently and leaks nothing, and a hostile
snapshot file is refused (exit 2) naming the file and the field.

Each snapshot is taken by the real command run inside a namespace of the test's own
(`ip netns exec NS python3 -m harness snapshot`), with addresses, flags, a policy
rule, a neighbour, sysctls and a `netprobe serve` listener set up for real.
"""

import ipaddress
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOBODY = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups']
PUBLIC4, PUBLIC4_SECOND, PUBLIC6 = '8.8.4.4', '8.8.4.9', '2a00:1450:4001::5'
NEIGHBOUR_MAC = '02:11:22:33:44:55'
DOC = [ipaddress.ip_network(n) for n in ('192.0.2.0/24', '198.51.100.0/24',
                                         '203.0.113.0/24', '2001:db8::/32')]


def harness(*args, ns=None, wrap=()):
    argv = list(wrap) + [sys.executable, '-m', 'harness', *args]
    if ns is not None:
        argv = ns.argv(argv)
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)


def snapshot(ns, *args, wrap=()):
    done = harness('snapshot', *args, ns=ns, wrap=wrap)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def host(pair):
    """h1 of the pair with the odd cases: a secondary address, a tentative IPv6
    address, public addresses, a policy rule and its table, a permanent neighbour,
    two sysctls set, and netprobe serving on 127.0.0.1:7070."""
    h1, dev = pair.h1, pair.h1_dev
    h1.addr_add(dev, '10.0.0.7/24')                   # secondary: same subnet
    h1.addr_add(dev, f'{PUBLIC4}/24')
    h1.addr_add(dev, f'{PUBLIC4_SECOND}/24')
    h1.addr_add(dev, f'{PUBLIC6}/64', 'nodad')
    h1.sysctl(f'net.ipv6.conf.{dev}.dad_transmits', 60)   # tentative for a minute
    h1.addr_add(dev, '2001:db8:5::1/64')
    h1.ip('rule', 'add', 'from', '10.0.0.7', 'table', '100', 'pref', '100')
    h1.ip('route', 'add', 'default', 'via', '10.0.0.2', 'table', '100')
    h1.ip('neigh', 'add', '10.0.0.9', 'lladdr', NEIGHBOUR_MAC, 'dev', dev,
          'nud', 'permanent')
    h1.sysctl('net.ipv4.ip_nonlocal_bind', 1)
    h1.sysctl('net.ipv4.ip_local_port_range', '40000 40100')
    server = h1.serve('127.0.0.1', 7070)
    assert server.ready['ok'] is True, server.ready
    return pair


def iface(snap, name):
    return next(i for i in snap['interfaces'] if i['name'] == name)


def addr(snap, dev, address):
    return next(a for a in iface(snap, dev)['addresses'] if a['address'] == address)


def test_the_snapshot_says_what_the_namespace_has(host):
    snap = snapshot(host.h1)
    dev = host.h1_dev
    assert (snap['format'], snap['version'], snap['redacted']) == \
        ('bindlab-snapshot', 1, False)
    assert addr(snap, dev, '10.0.0.1')['flags'] == []
    assert 'secondary' in addr(snap, dev, '10.0.0.7')['flags']
    assert addr(snap, dev, '10.0.0.7')['prefixlen'] == 24
    assert 'tentative' in addr(snap, dev, '2001:db8:5::1')['flags']
    assert 'nodad' in addr(snap, dev, PUBLIC6)['flags']
    assert iface(snap, dev)['sysctls']['ipv6.dad_transmits'] == '60'
    assert iface(snap, dev)['kind'] == 'veth' and iface(snap, dev)['up'] is True
    assert snap['sysctls']['net.ipv4.ip_nonlocal_bind'] == '1'
    assert snap['sysctls']['net.ipv4.ip_local_port_range'] == '40000 40100'
    rule = [r for r in snap['rules'] if r['priority'] == 100]
    assert [(r['family'], r['src'], r['table']) for r in rule] == \
        [('inet', '10.0.0.7/32', '100')]
    assert {'table': '100', 'dst': '0.0.0.0/0', 'gateway': '10.0.0.2', 'dev': dev} \
        .items() <= next(r for r in snap['routes'] if r['table'] == '100').items()
    assert any(r['family'] == 'inet6' and r['dst'] == '2001:db8:5::/64'
               for r in snap['routes'])
    assert {'address': '10.0.0.9', 'dev': dev, 'mac': NEIGHBOUR_MAC,
            'state': ['PERMANENT']} in snap['neighbours']
    served = [x for x in snap['listeners'] if x['port'] == 7070]
    assert [(x['proto'], x['address']) for x in served] == [('tcp', '127.0.0.1')]
    assert [p['name'] for p in served[0]['processes']] == ['netprobe']
    assert snap['unreadable'] == [], snap['unreadable']


def test_without_root_it_says_what_it_could_not_read(host):
    snap = snapshot(host.h1, wrap=NOBODY)
    assert 'tentative' in addr(snap, host.h1_dev, '2001:db8:5::1')['flags']
    served = next(x for x in snap['listeners'] if x['port'] == 7070)
    assert served['processes'] == []                   # root's netprobe: not visible
    assert any('listener' in u['what'] and 'not root' in u['why']
               for u in snap['unreadable']), snap['unreadable']


def strings(value):
    """Every string in a JSON value."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def test_redact_is_consistent_and_leaks_nothing(host, tmp_path):
    plain = snapshot(host.h1)
    out = tmp_path / 'redacted.json'
    done = harness('snapshot', '--redact', '-o', str(out), ns=host.h1)
    assert done.returncode == 0, done.stderr
    red = json.loads(out.read_text())
    text = out.read_text()
    assert red['redacted'] is True
    # Nothing public, no MAC, no interface or host name of the original is left.
    public = {a['address'] for i in plain['interfaces'] for a in i['addresses']
              if ipaddress.ip_address(a['address']).is_global}
    macs = {i['mac'] for i in plain['interfaces']} | {NEIGHBOUR_MAC}
    macs -= {'00:00:00:00:00:00', None}
    assert {PUBLIC4, PUBLIC4_SECOND, PUBLIC6} <= public
    leaks = [s for s in set(strings(red)) for x in public | macs if x in s]
    assert not leaks, leaks
    assert host.h1_dev not in text and plain['host']['hostname'] != red['host']['hostname']
    # The interface, by its new name, in the same order; prefix lengths kept.
    dev = red['interfaces'][[i['name'] for i in plain['interfaces']].index(host.h1_dev)]
    pairs = list(zip(iface(plain, host.h1_dev)['addresses'], dev['addresses']))
    assert all(a['prefixlen'] == b['prefixlen'] and a['flags'] == b['flags']
               for a, b in pairs)
    label = {a['address']: b['address'] for a, b in pairs}
    # Public ones land in the documentation ranges, private ones stay private.
    for original in public:
        assert any(ipaddress.ip_address(label[original]) in n for n in DOC), label
    assert ipaddress.ip_address(label['10.0.0.1']).is_private
    # Subnets kept: the two 10.0.0.x and the two public IPv4 share their /24.
    net = {a: ipaddress.ip_network(f'{label[a]}/24', strict=False) for a in label
           if ':' not in a}
    assert net['10.0.0.1'] == net['10.0.0.7'] and net[PUBLIC4] == net[PUBLIC4_SECOND]
    assert net['10.0.0.1'] != net[PUBLIC4]
    # The same address is the same label everywhere: rule, route, neighbour, listener.
    rule = next(r for r in red['rules'] if r['priority'] == 100)
    assert rule['src'] == f'{label["10.0.0.7"]}/32'
    route = next(r for r in red['routes'] if r['table'] == '100')
    assert route['dev'] == dev['name'] and ipaddress.ip_address(route['gateway']) in net['10.0.0.1']
    assert any(r['dst'] == str(net[PUBLIC4]) and r['src'] == label[PUBLIC4]
               for r in red['routes'])
    neighbour = next(n for n in red['neighbours'] if n['dev'] == dev['name'])
    assert ipaddress.ip_address(neighbour['address']) in net['10.0.0.1']
    assert any(x['address'] == '127.0.0.1' and x['port'] == 7070
               for x in red['listeners'])
    checked = harness('snapshot', '--check', str(out))
    assert checked.returncode == 0 and 'redacted' in checked.stdout, checked.stderr


# ---- hostile snapshot files -------------------------------------------------------

def first_with_address(snap):
    return next(n for n, i in enumerate(snap['interfaces']) if i['addresses'])


def poison(snap, field):
    """Set one field to a hostile value; return the field's name as reported."""
    n = first_with_address(snap)
    where = {
        'name': (snap['interfaces'][n], 'name', '../../etc', f'interfaces[{n}].name'),
        'address': (snap['interfaces'][n]['addresses'][0], 'address', '10.0.0.300',
                    f'interfaces[{n}].addresses[0].address'),
        'prefixlen': (snap['interfaces'][n]['addresses'][0], 'prefixlen', 33 if
                      snap['interfaces'][n]['addresses'][0]['family'] == 'inet' else 129,
                      f'interfaces[{n}].addresses[0].prefixlen'),
        'flag': (snap['interfaces'][n]['addresses'][0], 'flags', ['$(reboot)'],
                 f'interfaces[{n}].addresses[0].flags[0]'),
        'route': (snap['routes'][0], 'dst', '10.0.0.1/33', 'routes[0].dst'),
        'dev': (snap['routes'][0], 'dev', 'eth0\nx', 'routes[0].dev'),
        'port': (snap['listeners'][0], 'port', 70000, 'listeners[0].port'),
        'sysctl': (snap['sysctls'], 'net.ipv4.ip_nonlocal_bind', '1; rm -rf /',
                   'sysctls.net.ipv4.ip_nonlocal_bind'),
        'unknown-sysctl': (snap['sysctls'], 'kernel.core_pattern', '|/bin/sh',
                           'sysctls.kernel.core_pattern'),
        'unknown': (snap, 'extra', 1, 'extra'),
        'version': (snap, 'version', 2, 'version'),
        'hosts': (snap, 'hosts', [{'address': '10.0.0.1', 'names': ['a b']}],
                  'hosts[0].names[0]'),
    }
    obj, key, value, name = where[field]
    obj[key] = value
    return name


@pytest.mark.parametrize('field', ['name', 'address', 'prefixlen', 'flag', 'route', 'dev',
                                   'port', 'sysctl', 'unknown-sysctl', 'unknown',
                                   'version', 'hosts'])
def test_a_hostile_snapshot_is_refused_naming_file_and_field(host, tmp_path, field):
    snap = snapshot(host.h1)
    named = poison(snap, field)
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(snap))
    done = harness('snapshot', '--check', str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f'{path}: {named}:' in done.stderr, done.stderr
    assert 'Traceback' not in done.stderr


@pytest.mark.parametrize('kind', ['symlink', 'fifo', 'not-json', 'not-an-object'])
def test_a_snapshot_that_is_no_file_or_no_json_is_refused(tmp_path, kind):
    path = tmp_path / 'snap.json'
    if kind == 'symlink':
        (tmp_path / 'real.json').write_text('{}')
        path.symlink_to(tmp_path / 'real.json')
    elif kind == 'fifo':
        os.mkfifo(path)
    else:
        path.write_text('{"format": "bindlab-snapshot",' if kind == 'not-json' else '[1]')
    done = harness('snapshot', '--check', str(path))
    assert done.returncode == 2 and str(path) in done.stderr, done.stderr
    assert 'Traceback' not in done.stderr


def test_redact_keeps_subnets_of_every_size_and_is_deterministic():
    """No namespace: a written snapshot with a public /16, an EUI-64 link-local
    address (its id is the MAC), a ULA, a name in hosts, resolv.conf and hostname."""
    sys.path.insert(0, REPO)
    from harness.replica import check_snapshot, redact_snapshot
    a = {'family': 'inet', 'scope': 'global', 'flags': [], 'label': None, 'peer': None}
    addresses = [dict(a, address='93.184.7.9', prefixlen=16),
                 dict(a, family='inet6', address='fe80::211:22ff:fe33:4455', prefixlen=64,
                      scope='link'),
                 dict(a, family='inet6', address='fd12:3456:789a:1::7', prefixlen=64)]
    snap = {'format': 'bindlab-snapshot', 'version': 1, 'taken': 'now', 'bindlab': '0',
            'redacted': False, 'host': {'hostname': 'web1', 'kernel': '6.1'},
            'interfaces': [{'name': 'enp3s0', 'index': 2, 'kind': 'ether',
                            'mac': '00:11:22:33:44:55', 'mtu': 1500, 'up': True,
                            'carrier': True, 'operstate': 'UP', 'master': None,
                            'addresses': addresses, 'sysctls': {}}],
            'routes': [], 'rules': [],
            'neighbours': [{'address': '93.184.200.1', 'dev': 'enp3s0', 'mac': None,
                            'state': ['STALE']}],
            'listeners': [], 'sysctls': {},
            'hosts': [{'address': '93.184.7.9', 'names': ['web1.corp.acme.com', 'web1']}],
            'resolv': {'nameservers': ['93.184.7.9'], 'search': ['corp.acme.com'],
                       'options': []}, 'unreadable': []}
    check_snapshot(snap, 'test')
    red = redact_snapshot(snap)
    check_snapshot(red, 'redacted')
    assert red == redact_snapshot(snap)                 # the same input, the same labels
    text = json.dumps(red)
    for secret in ('93.184', '11:22', '22ff:fe33', 'fd12:3456', 'web1', 'acme', 'enp3s0'):
        assert secret not in text, secret
    public, link, ula = red['interfaces'][0]['addresses']
    net = ipaddress.ip_network(f'{public["address"]}/16', strict=False)
    assert public['prefixlen'] == 16 and any(
        ipaddress.ip_address(public['address']) in n for n in DOC)
    assert ipaddress.ip_address(red['neighbours'][0]['address']) in net
    assert link['address'].startswith('fe80::') and ula['address'].startswith('fd')
    assert red['hosts'][0]['address'] == red['resolv']['nameservers'][0] == \
        public['address']
    host, domain = red['hosts'][0]['names'][0].split('.', 1)
    assert red['hosts'][0]['names'][1] == host == red['host']['hostname']
    assert red['resolv']['search'] == [domain]
