"""docker-real: the docker-bridge scenario's Docker cases on real containers.

`python3 -m harness docker-real [--docker SOCKET]` needs a Docker daemon (default
$DOCKER_HOST, else unix:///var/run/docker.sock); without one it says so in one line
and exits 2 (it is not part of the default suite).  It builds everything it uses:

    image      bindlab-netprobe:<run-id>, made with `docker import` from a tarball that
               holds only build/static/netprobe (musl, static): nothing is pulled
    network    bindlab-<run-id>, a bridge network of Docker's choosing
    c1         netprobe serve 127.0.0.1 80 (loopback only: the mistake of the scenario's
               c1), published on 127.0.0.1:P and on the network's gateway G:P
and removes all of it afterwards, also on failure or Ctrl-C (each carries the label
bindlab=<run-id>, so after a kill `docker rm -f $(docker ps -aq --filter
label=bindlab)` finds them).  Each name is recorded before the command that creates
it, so an interrupt or a timeout between the two still removes it.  A daemon that
does not answer a command within GUARD_S is an EnvError (exit 2) naming the command.

Each case is the Docker twin of one cell of the emulated docker-bridge scenario, and
its cell's expected outcome (and `after`) is that emulated cell's expectation: a cell
that passes is an agreement between Docker and the emulation, one that fails is a
difference, and the report lists both (rule `emulated`, the reason names the twin):

    c1 connect ::1:80            c5 connect tcp [::1]:5000       (IPv6 off: Errno 99)
    c1 bind ::1                  c5 bind tcp ::1
    c1 connect 127.0.0.1:81      c5 connect tcp 127.0.0.1:5000   (refused)
    dockerhost connect 127.0.0.1:P   dh connect tcp 127.0.0.1:8080   (docker-proxy: eof)
    dockerhost connect G:P       dh connect tcp 198.51.100.1:8080  (OUTPUT DNAT: refused)
    c2 connect G:P               c2 connect tcp 172.17.0.1:8080    (docker-proxy: eof)
"""

import io
import json
import os
import socket
import subprocess
import tarfile
import time

from .. import program_path
from ..errors import EnvError, UsageError
from ..judge import describe, make_cell, name, ScenarioResult, short
from ..probe import Observation, parse_record
from ..scenarios import Case, Expect, find

TWIN = 'docker-bridge'
GUARD_S = 60        # a guard against a hung daemon, never a measurement
# (host, kind, netprobe arguments with {gw} and {port}, twin host, twin column)
CASES = (
    ('c1', 'connect', ('connect', '::1', '80'), 'c5', 'tcp [::1]:5000'),
    ('c1', 'bind', ('bind', '::1', '80'), 'c5', 'tcp ::1'),
    ('c1', 'connect', ('connect', '127.0.0.1', '81'), 'c5', 'tcp 127.0.0.1:5000'),
    ('dockerhost', 'connect', ('connect', '127.0.0.1', '{port}'), 'dh', 'tcp 127.0.0.1:8080'),
    ('dockerhost', 'connect', ('connect', '{gw}', '{port}'), 'dh', 'tcp 198.51.100.1:8080'),
    ('c2', 'connect', ('connect', '{gw}', '{port}'), 'c2', 'tcp 172.17.0.1:8080'),
)


def default_socket():
    return os.environ.get('DOCKER_HOST') or 'unix:///var/run/docker.sock'


class Docker:
    """The docker client against one daemon; everything it makes is labelled."""

    def __init__(self, host, run_id):
        self.host, self.run_id = host, run_id
        self.client = next((p for p in ('/usr/bin/docker', '/usr/local/bin/docker')
                            if os.access(p, os.X_OK)), None)
        self.label = f'bindlab={run_id}'
        self.image = f'bindlab-netprobe:{run_id}'
        self.network = f'bindlab-{run_id}'
        self.made = []          # ('container'|'network'|'image', name), in order

    def _run(self, args, stdin=None):
        """The docker command's CompletedProcess; EnvError when the daemon does not
        answer within GUARD_S (the client is killed)."""
        try:
            return subprocess.run([self.client, '-H', self.host] + list(args),
                                  input=stdin, capture_output=True, timeout=GUARD_S)
        except subprocess.TimeoutExpired:
            raise EnvError(f'docker {args[0]} did not answer within {GUARD_S} s: the '
                           f'Docker daemon at {self.host} hangs') from None

    def __call__(self, *args, stdin=None, check=True):
        res = self._run(args, stdin)
        if check and res.returncode != 0:
            raise EnvError(f'docker {args[0]} failed: '
                           f'{res.stderr.decode(errors="replace").strip()[:300]}')
        return res.stdout.decode(errors='replace')

    def check(self):
        """EnvError in one line unless a daemon answers at self.host."""
        if self.client is None:
            raise EnvError('docker-real needs Docker: no docker client here (Debian: '
                           'apt-get install docker.io); it is not part of the default suite')
        res = self._run(('version', '--format', '{{.Server.Version}}'))
        if res.returncode != 0:
            raise EnvError(f'docker-real needs a Docker daemon: none answers at {self.host} '
                           '(give one with --docker SOCKET); it is not part of the default '
                           'suite')
        return res.stdout.decode().strip()

    def remove_all(self, log):
        """Every container, network and image recorded, newest first (one recorded
        and never made -- its creation was interrupted -- is absent: not a failure)."""
        for kind, what in reversed(self.made):
            argv = {'container': ('rm', '-f'), 'network': ('network', 'rm'),
                    'image': ('rmi',)}[kind]
            try:
                res = self._run((*argv, what))
            except EnvError as exc:
                log(f'could not remove Docker {kind} {what}: {exc}')
                continue
            said = res.stderr.decode(errors='replace').lower()
            if res.returncode != 0 and 'no such' not in said and 'not found' not in said:
                log(f'could not remove Docker {kind} {what}')
        self.made = []


def static_netprobe():
    path = program_path(os.path.join('static', 'netprobe'))
    if not os.access(path, os.X_OK):
        raise UsageError(f'{path} is missing: run `make build/static/netprobe` '
                         '(musl-tools) first')
    return path


def _tarball(path):
    """A tar holding only /netprobe (the image's whole file system)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tar:
        tar.add(path, arcname='netprobe')
    return buf.getvalue()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def setup(d):
    """Image, network, c1; returns (gateway, published port, c1's serve record)."""
    tarball = _tarball(static_netprobe())
    d.made.append(('image', d.image))       # recorded before it is made (as c1 is)
    d('import', '--change', f'LABEL {d.label}', '-', d.image, stdin=tarball)
    d.made.append(('network', d.network))
    d('network', 'create', '--label', d.label, d.network)
    info = json.loads(d('network', 'inspect', d.network))
    gw = info[0]['IPAM']['Config'][0]['Gateway']
    port, c1 = _free_port(), f'{d.network}-c1'
    d.made.append(('container', c1))
    d('run', '-d', '--name', c1, '--label', d.label, '--network', d.network,
      '-p', f'127.0.0.1:{port}:80', '-p', f'{gw}:{port}:80', d.image,
      '/netprobe', '--host', 'c1', 'serve', '127.0.0.1', '80')
    deadline = time.monotonic() + GUARD_S
    while time.monotonic() < deadline:      # its readiness line, no sleep-and-hope
        lines = d('logs', c1).splitlines()
        if lines:
            return gw, port, parse_record(lines[0], 'serve')
        time.sleep(0.1)
    raise EnvError('the netprobe server in container c1 never said it was ready')


def measure(d, gw, port, netprobe):
    """{index: Observation} of CASES."""
    out = {}
    for n, (host, _kind, argv, _th, _tc) in enumerate(CASES):
        args = [a.format(gw=gw, port=port) for a in argv]
        if host == 'c1':
            text = d('exec', f'{d.network}-c1', '/netprobe', '--host', host, *args)
        elif host == 'c2':     # named and recorded first: an interrupt leaves no orphan
            c2 = f'{d.network}-c2-{n}'
            d.made.append(('container', c2))
            text = d('run', '--rm', '--name', c2, '--label', d.label, '--network',
                     d.network, d.image, '/netprobe', '--host', host, *args)
        else:
            try:
                text = subprocess.run([netprobe, '--host', host] + args,
                                      capture_output=True, text=True,
                                      timeout=GUARD_S).stdout
            except subprocess.TimeoutExpired:
                text = ''       # a hung probe: "0 lines instead of one record"
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            if len(lines) != 1:
                raise ValueError(f'{len(lines)} lines instead of one record')
            out[n] = Observation.of_record(parse_record(lines[0], args[0]))
        except ValueError as exc:
            out[n] = Observation.error(f'netprobe in {host}: {exc}')
    return out


def twin_cases():
    """{(host, column): Case} of the emulated docker-bridge scenario."""
    return {(c.host, c.label()): c for c in find(TWIN).cases}


def cells(observations, gw, port):
    """Every case as a cell whose expectation is its emulated twin's."""
    twins, out = twin_cases(), []
    for n, (host, kind, argv, t_host, t_column) in enumerate(CASES):
        twin = twins[(t_host, t_column)].expect
        addr = argv[1].format(gw=gw, port=port)
        case = Case(kind, host, addr, int(argv[2].format(gw=gw, port=port)),
                    Expect(twin.outcome, f'emulated as {t_host} {kind} {t_column}: '
                           f'{twin.reason}', 'emulated', None, twin.after))
        out.append(make_cell(f'{kind[0]}{n}', case, observations[n]))
    return out


def run_twins(host, run_id, netprobe, log):
    """The docker-real scenario's ScenarioResult, and
    the daemon's version; everything made in Docker is removed before it returns."""
    d = Docker(host, run_id)
    version = d.check()
    t0 = time.monotonic()
    try:
        gw, port, served = setup(d)
        observations = measure(d, gw, port, netprobe)
    finally:
        d.remove_all(log)
    return ScenarioResult(
        scenario='docker-real', title='the docker-bridge cases on real containers '
        f'(Docker {version}), each compared with its emulated twin', switch='docker',
        cells=cells(observations, gw, port), topology={}, servers=[served],
        source=__name__, timings={'probe_s': time.monotonic() - t0}), version


# -- the command -------------------------------------------------------------------------

def docker_real(docker, out):
    """`docker-real`: the cases on the daemon at docker (default_socket()), the run
    written into out; 0: Docker and the emulation agree on every cell; 1: some
    differ; 2 (EnvError): no Docker."""
    from .. import files
    from ..judge import mismatches
    from ..report import log as console_log, new_run_id, write_run
    from ..net import check_root
    from ..probe import netprobe_path
    check_root('sudo bindlab docker-real')
    netprobe = netprobe_path()
    files.make_folders(out)
    files.check_latest(out)
    run_id = new_run_id()
    started = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    res, version = run_twins(docker, run_id, netprobe, console_log)
    env = {'kernel': os.uname().release, 'docker': version, 'switch': 'docker'}
    meta = {'started': started, 'switch': 'docker', 'argv': ['docker-real'],
            'netprobe': netprobe, 'environment': env, 'shard': None,
            'finished': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}
    run_dir = write_run(out, run_id, meta, [res])
    differ = mismatches(res.cells)
    for cell in res.cells:
        console_log(f'differs: {describe(cell)}' if cell in differ else
                    f'agrees: {name(cell)}: {short(cell)}')
    console_log(f'results in {run_dir}')
    console_log(f'{len(res.cells) - len(differ)} agree with the emulation, '
                f'{len(differ)} differ')
    return 1 if differ else 0
