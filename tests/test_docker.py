"""bindlab beside a real Docker daemon (Debian's docker.io).

Slow (it starts dockerd and runs the default suite beside it), so it is a file of its
own.  Run it under the machine's Mininet lock, like every test that touches host
networking; it refuses to start a daemon otherwise (the daemon's FORWARD policy DROP
would silence everyone's Linux-bridge networks):

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_docker.py

A dockerd of its own (tests/dockerd.py: own data root, exec root, socket, pidfile,
--storage-driver vfs, its network options left at Docker's defaults) sets iptables'
FORWARD policy to DROP, makes docker0 on 172.17.0.1/16 and masquerades 172.17.0.0/16,
as on any machine running Docker.  Then: the default suite passes on Linux bridges
without the user touching the firewall (docker-bridge's containers are on Docker's
own 172.17.0.0/16), and Docker's rules are exactly as they were after the run, also
after a run is SIGKILLed and `clean-net` removes its rules; `run --from-docker` reads
what this daemon's `docker network inspect` and `docker inspect` print (the fixture
examples/docker/recorded-dockerd.json was recorded so) and replicates its published
ports.  Afterwards the
daemon is stopped by its PID and the machine put back (its nft tables, sysctls),
checked against the snapshot taken before it started.
"""

import json
import os
import signal
import subprocess
import tarfile

import pytest

import dockerd
import harness_util as hu
import nsutil

pytestmark = pytest.mark.skipif(
    bool(dockerd.installed()),
    reason=f'docker.io is not installed (no {dockerd.installed()}): '
           'apt-get install docker.io to run the Docker tests')

root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)


@pytest.fixture(scope='module')
def docker(tmp_path_factory):
    """A running private dockerd; the machine as it was before, checked afterwards."""
    if not dockerd.held_lock():
        pytest.skip(f'the Mininet lock is not held: run under flock {dockerd.LOCK} '
                    '(this test starts a Docker daemon)')
    before = dockerd.Firewall().save()
    daemon = dockerd.Dockerd(tmp_path_factory.mktemp('dockerd'))
    try:
        daemon.wait_ready()
        daemon.firewall = dockerd.Firewall().save()    # Docker's own rules
        yield daemon
    finally:
        daemon.stop()
        before.restore()
    assert before.diff() == [], 'the machine is not as it was before dockerd'


def iptables_rules():
    """iptables-save and ip6tables-save now (counters left out)."""
    fw = dockerd.Firewall().save()
    return fw.iptables, fw.ip6tables


def test_docker_sets_forward_drop(docker):
    """The premise: with Docker running, bridged frames meet a FORWARD policy DROP
    (and the DOCKER-USER chain exists, where users' rules go), Docker's masquerade of
    its default subnet, and the host holds 172.17.0.1 (docker0)."""
    assert ':FORWARD DROP' in docker.firewall.iptables
    assert ':DOCKER-USER' in docker.firewall.iptables
    assert '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE' in \
        docker.firewall.iptables
    addrs = subprocess.run(['ip', '-br', 'addr', 'show', 'dev', 'docker0'],
                           capture_output=True, text=True).stdout
    assert '172.17.0.1/16' in addrs


def test_default_suite_passes_beside_docker(docker, tmp_path):
    res = hu.harness('run', '--switch', 'lxbr', '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    said = res.stdout + res.stderr
    assert 'accept rules for this run\'s bridges' in said and 'DOCKER-USER' in said
    assert 'iptables nat POSTROUTING' in said
    assert 'docker-bridge' in said
    assert iptables_rules() == (docker.firewall.iptables, docker.firewall.ip6tables)
    assert docker.firewall.diff() == []


def test_sigkilled_run_then_clean_net_leaves_dockers_rules(docker, tmp_path):
    proc = hu.start('run', 'wrong-host', '--switch', 'lxbr', '--out', str(tmp_path))
    try:
        st = hu.wait_for_state(proc, lambda s: s.get('fw_rules') and hu.probing(s))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    mark = f'bindlab:{st["run_id"]}'
    assert mark in iptables_rules()[0]          # the killed run's rule is still there
    assert {e['chain'] for e in st['fw_rules']} == {'DOCKER-USER', 'PREROUTING',
                                                     'POSTROUTING'}
    res = hu.harness('run', 'wrong-host', '--switch', 'lxbr', '--out', str(tmp_path))
    assert res.returncode == 2 and 'clean-net' in res.stderr   # leftovers refused
    res = hu.harness('clean-net')
    assert res.returncode == 0, res.stdout + res.stderr
    assert iptables_rules() == (docker.firewall.iptables, docker.firewall.ip6tables)
    assert not os.path.exists(hu.STATE)


# -- real containers against the emulation (docker-bridge) --------------------------------

STATIC_NETPROBE = os.path.join(hu.REPO, 'build', 'static', 'netprobe')
PUBLISHED = 18180               # -p ...:18180:80, c1's service on 127.0.0.1:80 inside


@pytest.fixture
def containers(docker, tmp_path):
    """An image made with `docker import` of the static netprobe, a bridge network of
    our own, c1 serving on its loopback only behind a published port, and `outside`:
    a namespace routed to the Docker host.  Everything removed afterwards."""
    if not os.access(STATIC_NETPROBE, os.X_OK):
        pytest.fail('build/static/netprobe is missing: run `make build/static/netprobe`')
    tag, name = f'bindlab-netprobe:{os.getpid()}', f'blt{os.getpid()}'
    tar = tmp_path / 'image.tar'
    with tarfile.open(tar, 'w') as t:
        t.add(STATIC_NETPROBE, arcname='netprobe')
    docker.docker('import', str(tar), tag)
    lab = nsutil.Lab()
    made = {'containers': [], 'network': None}
    try:
        docker.docker('network', 'create', '--subnet', '172.30.99.0/24',
                      '-o', f'com.docker.network.bridge.name={name}d', name)
        made['network'] = name
        outside = lab.netns('outside')
        root_end, ns_end = f'{name}o', 'eth0'
        nsutil.run(['ip', 'link', 'add', root_end, 'type', 'veth', 'peer', 'name', ns_end,
                    'netns', outside.name])
        nsutil.run(['ip', 'addr', 'add', '10.199.0.1/30', 'dev', root_end])
        nsutil.run(['ip', 'link', 'set', root_end, 'up'])
        outside.addr_add(ns_end, '10.199.0.2/30')
        outside.ip('link', 'set', ns_end, 'up')
        outside.ip('route', 'add', 'default', 'via', '10.199.0.1')
        publish = [a for addr in ('127.0.0.1', '172.30.99.1', '10.199.0.1')
                   for a in ('-p', f'{addr}:{PUBLISHED}:80')]
        docker.docker('run', '-d', '--name', f'{name}-c1', '--network', name, *publish,
                      tag, '/netprobe', '--host', 'c1', 'serve', '127.0.0.1', '80')
        made['containers'].append(f'{name}-c1')
        yield {'docker': docker, 'tag': tag, 'name': name, 'outside': outside}
    finally:
        for c in made['containers']:
            docker.docker('rm', '-f', c, check=False)
        if made['network']:
            docker.docker('network', 'rm', made['network'], check=False)
        docker.docker('rmi', tag, check=False)
        subprocess.run(['ip', 'link', 'del', f'{name}o'], capture_output=True)
        lab.remove()


def _record(text):
    lines = [line for line in text.splitlines() if line.startswith('{')]
    assert len(lines) == 1, text
    return json.loads(lines[0])


def outcome(rec):
    """What a cell would show of a connect record: (actual, after)."""
    return ('OK' if rec['ok'] else rec['error']), rec.get('after')


def test_real_containers_agree_with_the_emulation(containers, tmp_path):
    """The measured Docker outcomes of issue 15, and the same cells of the emulated
    docker-bridge scenario (run beside the daemon): the outside DNAT path is refused,
    the docker-proxy paths (host loopback, another container) connect and are closed
    without a byte, and the ::1 Errno 99 inside a container."""
    d, name, tag = containers['docker'], containers['name'], containers['tag']
    c1 = f'{name}-c1'
    inside = {what: _record(d.docker('exec', c1, '/netprobe', '--host', 'c1', *argv).stdout)
              for what, argv in (('connect ::1', ('connect', '::1', '80')),
                                 ('bind ::1', ('bind', '::1', '80')),
                                 ('connect 127.0.0.1:81', ('connect', '127.0.0.1', '81')))}
    assert inside['connect ::1']['error'] == 'EADDRNOTAVAIL'
    assert inside['bind ::1']['error'] == 'EADDRNOTAVAIL'
    assert inside['connect 127.0.0.1:81']['error'] == 'ECONNREFUSED'
    real = {
        'outside': outcome(containers['outside'].probe(
            'connect', '10.199.0.1', PUBLISHED).only()),
        'host loopback': outcome(_record(nsutil.run(
            [nsutil.netprobe_path(), '--host', 'dockerhost', 'connect', '127.0.0.1',
             str(PUBLISHED)]).stdout)),
        'other container': outcome(_record(d.docker(
            'run', '--rm', '--network', name, tag, '/netprobe', '--host', 'c2', 'connect',
            '172.30.99.1', str(PUBLISHED)).stdout)),
    }
    assert real == {'outside': ('ECONNREFUSED', None), 'host loopback': ('OK', 'eof'),
                    'other container': ('OK', 'eof')}
    # The emulation, cell by cell: ext -> 198.51.100.1:8080, dh -> 127.0.0.1:8080,
    # c2 -> 172.17.0.1:8080, c5 -> ::1.
    res = hu.harness('run', 'docker-bridge', '--switch', 'lxbr', '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    with open(tmp_path / 'latest' / 'docker-bridge' / 'matrix.json') as f:
        cells = {(c['host'], c['column']): c for c in json.load(f)['cells']}

    def emulated(host, column):
        c = cells[(host, column)]
        return c['actual'], c.get('after')

    assert emulated('ext', 'tcp 198.51.100.1:8080') == real['outside']
    assert emulated('dh', 'tcp 127.0.0.1:8080') == real['host loopback']
    assert emulated('c2', 'tcp 172.17.0.1:8080') == real['other container']
    assert cells[('c5', 'tcp [::1]:5000')]['actual'] == inside['connect ::1']['error']
    assert cells[('c5', 'tcp ::1')]['actual'] == inside['bind ::1']['error']


def test_docker_real_scenario_agrees_with_the_emulation_and_leaves_nothing(docker, tmp_path):
    """`harness docker-real`: its own image (docker import of the static netprobe),
    network and containers; every cell expected as its emulated twin, and all of it
    removed afterwards."""
    if not os.access(STATIC_NETPROBE, os.X_OK):
        pytest.fail('build/static/netprobe is missing: run `make build/static/netprobe`')
    before = [docker.docker(*what).stdout for what in
              (('ps', '-aq'), ('images', '-q'), ('network', 'ls', '-q'))]
    res = hu.harness('docker-real', '--docker', docker.host, '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert '6 agree with the emulation, 0 differ' in res.stdout
    with open(tmp_path / 'latest' / 'docker-real' / 'matrix.json') as f:
        cells = {(c['host'], c['addr'] if c['kind'] == 'bind' else c['column']): c
                 for c in json.load(f)['cells']}
    loopback = [c for c in cells.values() if c['host'] == 'dockerhost' and
                c['addr'] == '127.0.0.1']
    assert [(c['actual'], c['after'], c['rule']) for c in loopback] == \
        [('OK', 'eof', 'emulated')]
    assert cells[('c1', '::1')]['actual'] == 'EADDRNOTAVAIL'
    after = [docker.docker(*what).stdout for what in
             (('ps', '-aq'), ('images', '-q'), ('network', 'ls', '-q'))]
    assert after == before


def test_docker_real_without_a_daemon_says_so_in_one_line(docker, tmp_path):
    res = hu.harness('docker-real', '--docker', f'unix://{tmp_path}/none.sock',
                     '--out', str(tmp_path))
    assert res.returncode == 2
    assert res.stderr.count('\n') == 1 and 'needs a Docker daemon' in res.stderr
    assert 'not part of the default suite' in res.stderr


# -- issue 28, item 8: a daemon that hangs; names recorded before they are made ----------

class HangingDaemon:
    """A Docker API on a unix socket of its own (no dockerd): it answers the client's
    ping and version and removals, and never answers `docker import` (a daemon that
    hangs while it makes the image).  requests: every (method, path) it was sent."""

    def __init__(self, folder):
        import http.server
        import socketserver
        import threading
        self.path, self.requests = os.path.join(folder, 'hanging.sock'), []
        self.stop = threading.Event()
        daemon = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def address_string(self):
                return 'unix'

            def log_message(self, *_args):
                pass

            def answer(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                for key, value in (('Api-Version', '1.41'), ('Content-Type',
                                   'application/json'), ('Content-Length', len(data))):
                    self.send_header(key, str(value))
                self.end_headers()
                if self.command != 'HEAD':  # a HEAD answer has no body: the client would
                    self.wfile.write(data)  # read it as the next request's answer

            def handle_one(self):
                daemon.requests.append((self.command, self.path))
                if '/images/create' in self.path:
                    daemon.stop.wait()          # never answers, until the test ends
                    self.close_connection = True
                    return
                if self.path.endswith('/version'):
                    return self.answer({'Version': '99.0', 'ApiVersion': '1.41',
                                        'MinAPIVersion': '1.12', 'Os': 'linux',
                                        'Arch': 'amd64'})
                return self.answer([] if self.command == 'DELETE' else {})

            do_GET = do_HEAD = do_POST = do_DELETE = handle_one

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

            def handle_error(self, *_args):     # a client killed mid-request
                pass

        self.server = Server(self.path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def test_docker_real_against_a_hanging_daemon_exits_2_and_removes_the_image(tmp_path):
    """Item 8: a daemon that never answers `docker import`: docker-real exits 2 naming
    the command (it was a TimeoutExpired traceback), and removes the image it was
    making -- recorded before the import, so the removal is sent though the import
    never finished; the network, never begun, is not removed.  No dockerd: a fake
    API on a socket of the test's own, the real docker client against it."""
    if not os.access(STATIC_NETPROBE, os.X_OK):
        pytest.fail('build/static/netprobe is missing: run `make build/static/netprobe`')
    daemon = HangingDaemon(str(tmp_path))
    try:
        res = hu.harness('docker-real', '--docker', f'unix://{daemon.path}',
                         '--out', str(tmp_path / 'out'))
    finally:
        daemon.close()
    assert res.returncode == 2, res.stdout[-3000:] + res.stderr[-3000:]
    assert 'Traceback' not in res.stderr, res.stderr[-3000:]
    assert 'docker import did not answer within' in res.stderr, res.stderr[-3000:]
    creates = [i for i, (m, p) in enumerate(daemon.requests) if '/images/create' in p]
    removals = [(i, p) for i, (m, p) in enumerate(daemon.requests) if m == 'DELETE']
    assert creates and len(removals) == 1, daemon.requests
    assert removals[0][0] > creates[0] and '/images/bindlab-netprobe:' in removals[0][1], \
        daemon.requests
    assert not any('/networks' in p for _m, p in daemon.requests), daemon.requests


def test_from_docker_on_real_inspect_output(containers, tmp_path):
    """`run --from-docker` on what this dockerd's `docker network inspect` and `docker
    inspect` print for the network and c1 of `containers` (published on 127.0.0.1,
    on the bridge's gateway and on an outer address the replica's docker host does
    not have): the replica's published cells, the outer one listed."""
    d, name = containers['docker'], containers['name']
    recorded = json.loads(d.docker('network', 'inspect', name).stdout) + \
        json.loads(d.docker('inspect', f'{name}-c1').stdout)
    path = tmp_path / 'inspect.json'
    path.write_text(json.dumps(recorded))
    res = hu.harness('run', '--from-docker', str(path), '--switch', 'lxbr',
                     '--out', str(tmp_path / 'out'))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    with open(tmp_path / 'out' / 'latest' / f'replica-docker-host-{name}-c1' /
              'matrix.json') as f:
        matrix = json.load(f)
    cell = {(c['host'], c['kind'], c['addr'], c['port']): c for c in matrix['cells']}
    for host, addr in (('docker-host', '127.0.0.1'), ('docker-host', '172.30.99.1'),
                       (f'{name}-c1', '172.30.99.1')):
        c = cell[(host, 'connect', addr, PUBLISHED)]
        assert (c['actual'], c['peer']) == ('OK', f'{name}-c1'), c
    assert any(m['what'].startswith(f'published 10.199.0.1:{PUBLISHED}')
               for m in matrix['not_reproduced']), matrix['not_reproduced']
    assert cell[(f'{name}-c1', 'bind', '::1', 6677)]['actual'] == 'EADDRNOTAVAIL'
