"""`run --from-snapshot` (issue 26): two real namespaces with odd cases are
snapshotted, replicated, and compared with their replica (real namespaces, a real
replica network, under the Mininet lock):

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_replica.py

The originals: `web` (eth0: 10.0.0.1/24, a secondary 10.0.0.7, a deprecated 10.0.0.8,
an IPv6 address added nodad and one kept tentative by a long DAD; a policy rule
sending 10.0.0.7's traffic to a table where 192.168.50.0/24 is unreachable; a
narrowed port range; netprobe listening on 127.0.0.1:5432) and `gw` (forwarding
between eth0 10.0.0.254/24 and eth1 192.168.50.1/24, whose veth peer eth1p, without
addresses, stays in gw; listening on 192.168.50.1:8080).

- the replica's `ip -j` addresses, routes (every table) and rules equal the
  originals', interface by interface, except what the run lists as not reproduced
  (eth1p);
- the replica's derived matrices pass by rule, and every one of their cases, run by
  netprobe on the originals too (with the same servers), has the same outcome there;
  so do the cases the policy rule decides (a connect from 10.0.0.7);
- each original has its own /etc/hosts (mounted in the snapshot's and the probes'
  own mount namespace): web's names its hostname at 10.0.0.99, an address it no
  longer has; gw's at 127.0.1.1 (Debian's line) and at its own IPv6 address.  The
  snapshot's hosts keep those lines; the replica's hosts say the
  hostname and bind it: 10.0.0.99 EADDRNOTAVAIL (rule hosts-file), 127.0.1.1 OK,
  the IPv6 one OK, the same as the originals; a redacted snapshot's replica says
  the redacted hostname, and its bind by that name fails at the relabelled address;
- a hostile snapshot is refused before anything is built (exit 2, naming the file
  and the field), a hosts line naming the hostname too; more lines naming it than
  a hosts file of the replica takes are listed as not reproduced;
- labs/bring-your-own-network.md's own `run --from-snapshot` line on the snapshots
  in examples/snapshots/ shows the Errno 99 cell the sheet names;
- on those, `--mutate addr-del,addr-move` passes (lb holds a secondary address) and
  `--record` then `--check` finds no change;
- `--from-docker` on examples/docker/inspect.json (hand-written in Docker's format:
  several bridges, IPv6, an internal network, a host-mode container) and
  recorded-dockerd.json (recorded from tests/test_docker.py's dockerd), and
  `--from-clab` on examples/clab/routed.clab.yml: the published ports, the bridge
  node, what is listed as not reproduced, hostile files refused.
"""

import ipaddress
import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

import harness_util as hu
import nsutil

REPO = hu.REPO
sys.path.insert(0, REPO)
from harness.net.session import Session  # noqa: E402
from harness.probe import Batches, cases_of, parse_record  # noqa: E402
from harness.probe.plans import plan_line, server_argv  # noqa: E402
from harness.replica import read_docker, read_snapshot, redact_snapshot  # noqa: E402
from harness.report import read_run, results  # noqa: E402
from harness.runner import judged, LiveNetwork, probe_live  # noqa: E402
from harness.scenario import connect, explicit  # noqa: E402
from harness.scenarios.mutate_names import LOOPBACK_HOSTS  # noqa: E402
from harness.scenarios.replicanames import OWN_LINES, OWN_NAMES, own_name  # noqa: E402
from harness.scenarios import from_snapshots  # noqa: E402

DUMPS = {'addrs': ['ip', '-j', 'addr', 'show'],
         'routes4': ['ip', '-j', '-4', 'route', 'show', 'table', 'all'],
         'routes6': ['ip', '-j', '-6', 'route', 'show', 'table', 'all'],
         'rules4': ['ip', '-j', '-4', 'rule', 'show'],
         'rules6': ['ip', '-j', '-6', 'rule', 'show']}
DROP = {'ifindex', 'link_index', 'link_netnsid', 'valid_life_time',
        'preferred_life_time', 'qdisc', 'group', 'txqlen', 'operstate', 'flags',
        'broadcast', 'address', 'link', 'mtu', 'link_type'}
TENTATIVE = '2001:db8:1::9'
# Cases the policy rule decides (the derived ones use the primary source address).
EXTRA = [('web', '192.168.50.1', 8080, ('src=10.0.0.7', 'timeout=300')),
         ('web', '192.168.50.1', 8080, ('timeout=300',)),
         ('gw', '10.0.0.1', 5432, ('timeout=300',)),
         ('web', '127.0.0.1', 5432, ('timeout=300',))]
# Each original's own /etc/hosts: web's hostname at an address it no longer has, gw's
# on Debian's 127.0.1.1 and on its own IPv6 address.
STALE = '10.0.0.99'
HOSTS = {'web': f'127.0.0.1 localhost\n{STALE} web.corp.example web\n',
         'gw': '127.0.0.1 localhost\n127.0.1.1 gw.corp.example gw\n'
               '2001:db8:1::fe gw\n'}
# Run "$@" with the file "$0" as /etc/hosts (in a mount namespace of its own).
WITH_HOSTS = ['unshare', '--mount', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"']


def sh(argv, input=None):
    return nsutil.run(argv, input=input)


def make_originals(lab):
    """web and gw as the module docstring says; returns them."""
    web, gw = lab.netns('web'), lab.netns('gw')
    sh(['ip', 'link', 'add', 'eth0', 'netns', web.name, 'type', 'veth', 'peer', 'name',
        'eth0', 'netns', gw.name])
    sh(['ip', '-n', gw.name, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name',
        'eth1p'])
    for ns, dev in ((web, 'eth0'), (gw, 'eth0'), (gw, 'eth1'), (gw, 'eth1p')):
        ns.ip('link', 'set', dev, 'up')
    web.addr_add('eth0', '10.0.0.1/24')
    web.addr_add('eth0', '10.0.0.7/24')
    web.addr_add('eth0', '10.0.0.8/24', 'valid_lft', 'forever', 'preferred_lft', '0')
    web.addr_add('eth0', '2001:db8:1::1/64', 'nodad')
    gw.addr_add('eth0', '10.0.0.254/24')
    gw.addr_add('eth0', '2001:db8:1::fe/64', 'nodad')
    gw.addr_add('eth1', '192.168.50.1/24')
    for ns, dev in ((web, 'eth0'), (gw, 'eth0'), (gw, 'eth1')):
        link_local = next(a['local'] for link in json.loads(
            ns.ip('-j', '-6', 'addr', 'show', 'dev', dev).stdout)
            for a in link.get('addr_info', []) if a.get('scope') == 'link')
        ns.wait_dad_done(dev, link_local)
    web.sysctl('net.ipv6.conf.eth0.dad_transmits', 900)     # tentative for 15 min
    web.addr_add('eth0', f'{TENTATIVE}/64')
    web.ip('route', 'add', 'default', 'via', '10.0.0.254')
    web.ip('-6', 'route', 'add', 'default', 'via', '2001:db8:1::fe')
    web.ip('rule', 'add', 'from', '10.0.0.7', 'table', '100', 'pref', '100')
    web.ip('route', 'add', 'unreachable', '192.168.50.0/24', 'table', '100')
    web.ip('route', 'add', 'default', 'via', '10.0.0.254', 'table', '100')
    web.sysctl('net.ipv4.ip_local_port_range', '40000 40100')
    gw.sysctl('net.ipv4.ip_forward', 1)
    gw.sysctl('net.ipv6.conf.all.forwarding', 1)
    assert web.serve('127.0.0.1', 5432).ready['ok'] is True
    assert gw.serve('192.168.50.1', 8080).ready['ok'] is True
    return web, gw


def take(ns, path, hosts):
    """`bindlab snapshot -o path` inside ns, with ns's label as the hostname and the
    file hosts as /etc/hosts."""
    sh(ns.argv(['unshare', '--uts'] + WITH_HOSTS + [str(hosts), 'sh', '-c',
                f'hostname {ns.label} && exec {hu.PYTHON} -m harness snapshot -o {path}']))
    return read_snapshot(str(path))


def normal(value):
    """A dump without what differs between any two namespaces (ifindexes, lifetimes)."""
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items() if k not in DROP}
    return value


def dump_of(runner):
    """{what: normalised dump} with runner(argv) -> stdout."""
    out = {what: normal(json.loads(runner(argv) or '[]')) for what, argv in DUMPS.items()}
    out['addrs'] = {link['ifname'].split('@')[0]: link['addr_info']
                    for link in out['addrs']}
    return out


def in_order(routes):
    """Routes sorted: two routes to one prefix on two links are listed in the order
    they were made, which says nothing about the network."""
    return sorted(routes, key=lambda r: json.dumps(r, sort_keys=True))


def probe(ns, cases, hosts):
    """Run [(cid, case)] with `netprobe batch` in ns, the file hosts as its
    /etc/hosts: {cid: (outcome, peer)} (a name case's outcome: 'ADDR WORD')."""
    plan = ''.join(plan_line(int(cid[1:]), case) + '\n' for cid, case in cases)
    done = subprocess.run(ns.argv(WITH_HOSTS + [str(hosts), nsutil.netprobe_path(),
                                                '--host', ns.label, 'batch']),
                          input=plan, capture_output=True, text=True, timeout=120)
    out = {}
    for line in done.stdout.splitlines():
        rec = parse_record(line)
        word = rec['error'] or 'OK'
        if rec.get('name') and rec.get('addr'):
            word = f'{rec["addr"]} {word}'
        out[rec['id']] = (word, rec.get('peer_host'))
    return out


@pytest.fixture(scope='module')
def replicated(tmp_path_factory):
    """(originals {name: Netns}, snapshots, the replica's scenario as completed, its
    ScenarioResult, its dumps, its extra cases' outcomes)."""
    if os.geteuid() != 0:
        pytest.skip('needs root')
    tmp = tmp_path_factory.mktemp('replica')
    lab = nsutil.Lab()
    try:
        web, gw = make_originals(lab)
        for name, text in HOSTS.items():
            (tmp / f'{name}.hosts').write_text(text)
        snaps = [(str(tmp / f'{ns.label}.json'), take(ns, tmp / f'{ns.label}.json',
                                                      tmp / f'{ns.label}.hosts'))
                 for ns in (web, gw)]
        scenario = from_snapshots(snaps)
        got = run_replica(scenario)
        yield {'web': web, 'gw': gw}, snaps, got
    finally:
        failures = lab.remove()
        assert not failures, failures


def extra_cases(scenario, extra):
    base = len(scenario.cases)
    return [(f'c{base + n}', connect(host, addr, port, explicit('OK', 'extra'), 'tcp',
                                     options))
            for n, (host, addr, port, options) in enumerate(extra)]


def run_replica(scenario, extra=EXTRA):
    """The replica built and probed as a run does it (with the extra connects),
    dumped while it is up, each host's `hostname` too."""
    log = lambda msg: None  # noqa: E731
    got = {}

    def prober(sc):
        got['scenario'] = sc
        got['extra'] = extra_cases(sc, extra)
        cases = sc.cases + tuple(c for _cid, c in got['extra'])
        return Batches(replace(sc, cases=cases), nsutil.plain_netprobe_path(), live.state)
    with Session('lxbr', log, results.new_run_id()) as session:
        with LiveNetwork(scenario, session.switch, session.state,
                         nsutil.plain_netprobe_path(), log) as live:
            assert live.problem is None, live.problem
            probed = probe_live(live, prober=prober)
            got['dumps'] = {h.name: dump_of(lambda argv, h=h: h.cmd(*argv))
                            for h in live.net.hosts}
            got['hostname'] = {h.name: h.cmd('hostname').strip() for h in live.net.hosts}
        got['observed'] = dict(probed.observations)   # judge() empties it
        got['result'] = judged(live, probed)
    return got


def test_the_replica_has_what_the_originals_have(replicated):
    originals, _snaps, got = replicated
    missing = got['result'].not_reproduced
    assert {'what': 'gw eth1p', 'why': 'a veth without addresses (but perhaps a '
                                       'link-local one)'} in missing, missing
    assert not [m for m in missing if 'web' in m['what']], missing
    for name, ns in originals.items():
        mine = dump_of(lambda argv, ns=ns: ns.sh(argv).stdout)
        theirs = got['dumps'][name]
        mine['addrs'].pop('eth1p', None)
        assert mine['addrs'] == theirs['addrs'], name
        for what in ('routes4', 'routes6'):
            assert in_order([r for r in mine[what] if r.get('dev') != 'eth1p']) == \
                in_order(theirs[what]), (name, what)
        assert (mine['rules4'], mine['rules6']) == (theirs['rules4'], theirs['rules6'])
    flags = {a['local']: a for a in got['dumps']['web']['addrs']['eth0']}
    assert flags['10.0.0.7'].get('secondary') and flags['10.0.0.8'].get('deprecated')
    assert flags[TENTATIVE].get('tentative') and flags['2001:db8:1::1'].get('nodad')


def test_the_matrices_agree_with_the_originals(replicated):
    originals, snaps, got = replicated
    res, scenario = got['result'], got['scenario']
    bad = [(c.host, c.column, c.expected, c.actual) for c in res.cells
           if c.verdict != 'pass']
    assert not bad, bad
    cell = {(c.host, c.kind, c.column): c for c in res.cells}
    # Binding the hostname: where each original's hosts file puts it.
    assert {'address': STALE, 'names': ['web.corp.example', 'web']} in snaps[0][1]['hosts']
    assert got['hostname'] == {'web': 'web', 'gw': 'gw'}
    for host, column, actual in (
            ('web', 'tcp web', f'{STALE} EADDRNOTAVAIL'),
            ('gw', 'tcp gw family=4', '127.0.1.1 OK'),
            ('gw', 'tcp gw family=6', '2001:db8:1::fe OK')):
        assert (cell[(host, 'bind', column)].actual,
                cell[(host, 'bind', column)].rule) == (actual, 'hosts-file'), column
    assert cell[('web', 'bind', f'tcp {TENTATIVE}')].actual == 'EADDRNOTAVAIL'
    assert cell[('web', 'bind', f'tcp {TENTATIVE}')].rule == 'tentative-binds'
    assert cell[('gw', 'bind', 'tcp 10.0.0.7')].actual == 'EADDRNOTAVAIL'
    # Every case again on the originals, with the derived servers they lack.
    servers = [s for s in scenario.servers if s.port in (7001, 7002)]
    procs = []
    try:
        for s in servers:
            ns = originals[s.host]
            procs.append(ns.serve(*server_argv('netprobe', s)[4:]))
            assert procs[-1].ready['ok'] is True
        cases = cases_of(scenario) + got['extra']
        theirs = {}
        for name, ns in originals.items():
            theirs.update(probe(ns, [(cid, c) for cid, c in cases if c.host == name],
                                os.path.join(os.path.dirname(snaps[0][0]),
                                             f'{name}.hosts')))
    finally:
        for p in procs:
            p.stop()
    mine = {cid: (o.actual, o.peer) for cid, o in got['observed'].items()}
    differ = {cid: (mine.get(cid), theirs.get(cid)) for cid, _c in cases
              if mine.get(cid) != theirs.get(cid)}
    assert not differ, differ
    extra = {cid: mine[cid][0] for cid, _c in got['extra']}
    # 10.0.0.7's rule: unreachable; the loopback listener: only from web itself
    assert list(extra.values()) == ['EHOSTUNREACH', 'OK', 'ECONNREFUSED', 'OK'], extra


def test_a_redacted_snapshots_replica_has_its_hostname(replicated):
    """web's snapshot redacted: its replica host says the redacted hostname, and
    binding that name fails at the relabelled stale address, by rule hosts-file."""
    _originals, snaps, _got = replicated
    red = redact_snapshot(snaps[0][1])
    hostname = red['host']['hostname']
    line, = (h for h in red['hosts'] if hostname in h['names'])
    assert hostname != 'web' and line['names'][-1] == hostname, red['hosts']
    stale = line['address']          # relabelled, and still in web's relabelled /24
    first = next(i for i in red['interfaces'] if i['name'] != 'lo')['addresses'][0]
    assert stale != STALE and ipaddress.ip_address(stale) in ipaddress.ip_network(
        f'{first["address"]}/24', strict=False), (line, first)
    got = run_replica(from_snapshots([('web-redacted.json', red)]), extra=())
    assert got['hostname'] == {hostname: hostname}
    cell = {(c.host, c.kind, c.column): c for c in got['result'].cells}
    mine = cell[(hostname, 'bind', f'tcp {hostname}')]
    assert (mine.actual, mine.rule, mine.verdict) == (f'{stale} EADDRNOTAVAIL',
                                                      'hosts-file', 'pass')
    bad = [(c.column, c.expected, c.actual) for c in got['result'].cells
           if c.verdict != 'pass']
    assert not bad, bad


def test_a_hostile_snapshot_is_refused(tmp_path, replicated):
    _originals, snaps, _got = replicated
    snap = json.loads(open(snaps[0][0]).read())
    snap['interfaces'][1]['addresses'][0]['address'] = '10.0.0.300'
    own = json.loads(open(snaps[0][0]).read())
    own['hosts'].append({'address': 'web', 'names': ['web']})
    hostile = [(snap, 'interfaces[1].addresses[0].address'),
               (own, f'hosts[{len(own["hosts"]) - 1}].address')]
    for n, (bad_snap, field) in enumerate(hostile):
        bad = tmp_path / f'bad{n}.json'
        bad.write_text(json.dumps(bad_snap))
        res = hu.harness('run', '--from-snapshot', str(bad), '--out',
                         str(tmp_path / 'out'))
        assert res.returncode == 2
        assert f'{bad}: {field}:' in res.stderr, res.stderr
        assert not os.path.exists(tmp_path / 'out')


def test_a_hosts_file_naming_the_hostname_too_often_is_cut_and_said(replicated):
    """More lines naming the hostname than a replica's hosts file takes (a hostile
    or broken snapshot): the first OWN_LINES, each with OWN_NAMES names at most,
    and what was cut listed as not reproduced."""
    _originals, snaps, _got = replicated
    snap = json.loads(open(snaps[0][0]).read())
    snap['hosts'] = [{'address': f'10.0.0.{n}', 'names': ['web'] + [
        f'web.d{k}.example' for k in range(20)]} for n in range(1, 40)]
    missing = []
    files, binds = own_name('web', snap, missing)
    lines = files.hosts.splitlines()[len(LOOPBACK_HOSTS.splitlines()):]
    assert len(lines) == OWN_LINES and all(len(x.split()) == 1 + OWN_NAMES
                                           for x in lines), lines
    assert [m['what'] for m in missing][:1] == ['web hosts lines of its hostname']
    assert binds == [], binds          # 16 IPv4 addresses: which one first is not said


def test_the_lab_sheets_replica_shows_the_errno_99_cell(tmp_path):
    """labs/bring-your-own-network.md's step 2, as written: the replica of the example
    snapshots, its Errno 99 cell where step 3 says, nothing left unreproduced."""
    with open(os.path.join(REPO, 'labs', 'bring-your-own-network.md')) as f:
        line = next(x for x in f.read().splitlines()
                    if x.startswith('sudo bindlab run --from-snapshot'))
    res = hu.harness(*line.split()[2:], '--out', str(tmp_path / 'out'))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (matrix,) = read_run(str(tmp_path / 'out')).matrices
    assert matrix['scenario'] == 'replica-app-lb' and matrix['not_reproduced'] == []
    cell = {(c.host, c.kind, c.column): c for c in matrix['cells']}
    assert cell[('app', 'bind', 'tcp 10.0.0.50')].actual == 'EADDRNOTAVAIL'
    assert cell[('lb', 'bind', 'tcp 10.0.0.50')].actual == 'OK'
    assert 'tcp 10.0.0.50   EADDRNOTAVAIL  OK' in res.stdout


def test_mutate_record_and_check_on_a_replica(tmp_path):
    """--mutate on a replica whose lb holds two addresses of one subnet (deleting or
    moving the primary takes the secondary with it); --record, then --check."""
    snaps = [os.path.join(REPO, 'examples', 'snapshots', f'{n}.json') for n in ('app', 'lb')]
    res = hu.harness('run', '--from-snapshot', *snaps, '--mutate', 'addr-del,addr-move',
                     '--out', str(tmp_path / 'mutated'))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (matrix,) = read_run(str(tmp_path / 'mutated')).matrices
    entries = matrix['mutations']
    assert sorted((e['name'], e['target']) for e in entries) == [
        ('addr-del', 'app'), ('addr-del', 'lb'), ('addr-move', 'app'), ('addr-move', 'lb')]
    bad = [(e['name'], e['target'], c.host, c.column, c.expected, c.actual)
           for e in entries for c in e['cells'] if c.verdict != 'pass']
    assert not bad, bad
    base = ['run', '--from-snapshot', *snaps, '--baseline', str(tmp_path / 'expect')]
    res = hu.harness(*base, '--record', '--out', str(tmp_path / 'one'))
    assert res.returncode == 0 and os.listdir(tmp_path / 'expect') == \
        ['replica-app-lb.json'], res.stderr[-3000:]
    res = hu.harness(*base, '--check', '--out', str(tmp_path / 'two'))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert 'no cell changed' in res.stdout + res.stderr


def test_a_docker_host_from_docker_inspect(tmp_path):
    """examples/docker/inspect.json (hand-written in the format of `docker network
    inspect` and `docker inspect`): containers on their bridges, published ports
    through DNAT and the userland proxy, a port published on 127.0.0.1 only, a
    container without IPv6 (::1 is its Errno 99), what is not replicated listed."""
    res = hu.harness('run', '--from-docker', os.path.join(REPO, 'examples', 'docker',
                                                          'inspect.json'),
                     '--out', str(tmp_path / 'out'))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (matrix,) = read_run(str(tmp_path / 'out')).matrices
    cell = {(c.host, c.kind, c.column): c for c in matrix['cells']}
    for host, column, actual, peer in (
            ('docker-host', 'tcp 127.0.0.1:8080', 'OK', 'web'),      # the proxy
            ('docker-host', 'tcp 172.30.99.1:8080', 'OK', 'web'),    # DNAT (output)
            ('db', 'tcp 172.30.99.1:8080', 'OK', 'web'),             # from the bridge
            ('legacy', 'tcp 172.17.0.1:9000', 'OK', 'legacy'),       # its own, hairpin
            ('docker-host', 'tcp 127.0.0.1:15432', 'OK', 'db'),
            ('web', 'tcp 172.30.99.1:15432', 'ECONNREFUSED', None),  # 127.0.0.1 only
            ('web', 'tcp 172.30.100.1:7001', 'OK', 'docker-host')):
        c = cell[(host, 'connect', column)]
        assert (c.actual, c.peer if peer else None) == (actual, peer), (host, column, c)
    assert cell[('legacy', 'bind', 'tcp ::1')].actual == 'EADDRNOTAVAIL'
    assert cell[('web', 'bind', 'tcp fd00:99::2')].actual == 'OK'
    what = [m['what'] for m in matrix['not_reproduced']]
    assert 'container agent' in what and 'network host' in what, what
    assert all(c.verdict == 'pass' for c in matrix['cells'])
    # Recorded from the dockerd of tests/test_docker.py (its network and c1): no
    # Gateway in IPAM (a network made with --subnet), three published addresses.
    snaps, published, missing = read_docker([os.path.join(
        REPO, 'examples', 'docker', 'recorded-dockerd.json')])
    assert [label for label, _s in snaps] == ['docker-host', 'blt24517-c1']
    gw = snaps[0][1]['interfaces'][1]
    assert (gw['name'], gw['addresses'][0]['address']) == ('blt24517d', '172.30.99.1')
    assert sorted(p['host_ip'] for p in published) == ['10.199.0.1', '127.0.0.1',
                                                       '172.30.99.1']
    assert missing == []
    bad = json.load(open(os.path.join(REPO, 'examples', 'docker', 'inspect.json')))
    bad[5]['NetworkSettings']['Networks']['shop']['IPAddress'] = '172.30.99.300'
    (tmp_path / 'bad.json').write_text(json.dumps(bad))
    res = hu.harness('run', '--from-docker', str(tmp_path / 'bad.json'),
                     '--out', str(tmp_path / 'bad'))
    assert res.returncode == 2 and 'bad.json: the list[5].NetworkSettings.Networks.' \
        'shop.IPAddress' in res.stderr, res.stderr


def test_a_containerlab_file(tmp_path):
    """examples/clab/routed.clab.yml: linux nodes from their exec lines, a bridge node
    joining its links, a router between two subnets, a NOS node and the exec lines
    bindlab does not replicate listed; a hostile file refused naming the field."""
    path = os.path.join(REPO, 'examples', 'clab', 'routed.clab.yml')
    res = hu.harness('run', '--from-clab', path, '--out', str(tmp_path / 'out'))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (matrix,) = read_run(str(tmp_path / 'out')).matrices
    what = {m['what'] for m in matrix['not_reproduced']}
    assert {'node srl', "server exec 'apk add nginx'", 'client eth0',
            'client eth2'} <= what, what
    cell = {(c.host, c.kind, c.column): c for c in matrix['cells']}
    assert cell[('client', 'bind', 'tcp 192.168.20.10')].actual == 'EADDRNOTAVAIL'
    assert cell[('server', 'bind', 'tcp fd00:20::10')].actual == 'OK'
    via = cell[('client', 'connect', 'tcp 192.168.20.10:7001')]
    assert (via.actual, via.peer, via.rule) == ('OK', 'server', 'control')
    same = cell[('server2', 'connect', 'tcp 192.168.20.10:7001')]     # the bridge node
    assert (same.actual, same.rule) == ('OK', 'listener-answers')
    assert all(c.verdict == 'pass' for c in matrix['cells'])
    with open(path) as f:
        bad = f.read().replace('192.168.10.2/24', '192.168.10.300/24')
    (tmp_path / 'bad.clab.yml').write_text(bad)
    res = hu.harness('run', '--from-clab', str(tmp_path / 'bad.clab.yml'),
                     '--out', str(tmp_path / 'bad'))
    assert res.returncode == 2 and 'topology.nodes.client.exec[0]' in res.stderr, \
        res.stderr
