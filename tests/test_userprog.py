"""The user's own programs as probes, on real Mininet networks (wrong-host).

- examples/seed_server.py (binds 10.0.0.1:6677): EADDRNOTAVAIL on h2 and h3, OK on h1,
  recorded by the tracer, the traceback kept in the run folder; the run exits 1.
- examples/fixed_server.py (0.0.0.0): green, exit 0.
- a server told {addr} and a client told {addr} {port} {src} take netprobe's place in
  the bind and connect matrices and give the same outcomes (exit 0).
- a statically linked server (no PT_INTERP: the preload tracer cannot see it) run
  with `--trace preload` (no ptrace) is judged by `ss` and its stderr ("observed");
  a client that hangs is stopped by PID and its cell says so.  (Without that option
  a static program runs under bindtrace-sys: tests/test_systrace.py.)
Run under the Mininet lock:

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_userprog.py
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from harness.probe import launches  # noqa: E402

import harness_util as hu  # noqa: E402

PYTHON = '/usr/bin/python3'
GUARD_S = 300
TRACER = os.environ.get('BINDTRACE_LIB') or os.path.join(REPO, 'build', 'libbindtrace.so')

STATIC_SERVER = r'''
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
/* static_server ADDR PORT: an IPv4 TCP server the tracer cannot see. */
int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1)
		return 2;
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("bind");
		return 1;
	}
	if (listen(fd, 16) < 0) {
		perror("listen");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c >= 0)
			close(c);
	}
}
'''

STATIC_CLIENT = r'''
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* static_client ADDR PORT: a blocking TCP connect (IPv4 or IPv6), perror on failure. */
int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd;

	if (argc != 3)
		return 2;
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, argv[1], &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((unsigned short)atoi(argv[2]));
		len = sizeof *a4;
	} else if (inet_pton(AF_INET6, argv[1], &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((unsigned short)atoi(argv[2]));
		len = sizeof *a6;
	} else {
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		perror("connect");
		return 1;
	}
	close(fd);
	return 0;
}
'''


def harness(*args):
    env = dict(os.environ, NETPROBE=os.path.join(REPO, 'build', 'netprobe'),
               BINDTRACE_LIB=TRACER)
    return subprocess.run([PYTHON, '-m', 'harness'] + list(args), cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=GUARD_S)


def run_wrong_host(tmp_path, *args):
    """A real wrong-host run with args; returns (CompletedProcess, run folder, cells)."""
    res = harness('run', 'wrong-host', '--out', str(tmp_path), *args)
    folder = os.path.realpath(tmp_path / 'latest')
    with open(os.path.join(folder, 'wrong-host', 'matrix.json')) as f:
        cells = json.load(f)['cells']
    return res, folder, cells


def column(cells, prefix):
    """{host: cell} of the cells whose column starts with prefix."""
    return {c['host']: c for c in cells if c['column'].startswith(prefix)}


@pytest.fixture(scope='module', autouse=True)
def tracer_built():
    if not os.path.isfile(TRACER):
        pytest.fail(f'{TRACER} is missing: make build/libbindtrace.so')


def test_seed_server_is_errno_99_on_every_host_but_h1(tmp_path):
    res, folder, cells = run_wrong_host(tmp_path, '--server',
                                        'python3 examples/seed_server.py')
    assert res.returncode == 1, res.stdout + res.stderr
    server = column(cells, 'tcp server program')
    assert {h: c['actual'] for h, c in server.items()} == {
        'h1': 'OK', 'h2': 'EADDRNOTAVAIL', 'h3': 'EADDRNOTAVAIL'}
    assert {c['method'] for c in server.values()} == {'tracer'}
    assert [server[h]['verdict'] for h in ('h1', 'h2', 'h3')] == ['pass', 'fail', 'fail']
    assert server['h2']['addr'] == '10.0.0.1' and server['h2']['port'] == 6677
    assert server['h2']['exit'] == 1                       # the traceback ended it
    assert server['h1']['stopped'] is True                  # it listened; we stopped it
    with open(os.path.join(folder, 'wrong-host', server['h2']['log'] + '.err')) as f:
        assert 'OSError: [Errno 99] Cannot assign requested address' in f.read()
    assert server['h2']['program'] == 'python3 examples/seed_server.py'
    assert 'h2 bind tcp server program: expected OK, got EADDRNOTAVAIL' in res.stderr
    assert {c['method'] for c in cells if c['column'] != 'tcp server program'} == \
        {'netprobe'}


def test_fixed_server_is_green(tmp_path):
    res, _folder, cells = run_wrong_host(tmp_path, '--server',
                                         'python3 examples/fixed_server.py')
    assert res.returncode == 0, res.stdout + res.stderr
    server = column(cells, 'tcp server program')
    assert {h: (c['actual'], c['addr']) for h, c in server.items()} == {
        h: ('OK', '0.0.0.0') for h in ('h1', 'h2', 'h3')}


def test_programs_told_the_address_take_netprobes_cells(tmp_path):
    """--server with {addr} fills the TCP bind matrix, --client the TCP connect matrix,
    with the scenario's own expectations: the same outcomes as netprobe, so exit 0."""
    res, _folder, cells = run_wrong_host(
        tmp_path, '--server', 'python3 examples/seed_server.py --host {addr} --port {port}',
        '--client', 'python3 examples/client.py {addr} {port} {src}')
    assert res.returncode == 0, res.stdout + res.stderr
    traced = [c for c in cells if c['method'] == 'tracer']
    tcp_binds = [c for c in cells if c['kind'] == 'bind' and c['proto'] == 'tcp']
    tcp_connects = [c for c in cells if c['kind'] == 'connect' and c['proto'] == 'tcp']
    assert len(traced) == len(tcp_binds) + len(tcp_connects) == 33 + 24
    by = {(c['kind'], c['host'], c['column']): c for c in cells}
    assert by[('bind', 'h2', 'tcp 10.0.0.1')]['actual'] == 'EADDRNOTAVAIL'
    assert by[('bind', 'h2', 'tcp 10.0.0.1')]['program'] == \
        'python3 examples/seed_server.py --host 10.0.0.1 --port 6677'
    assert by[('bind', 'h1', 'tcp fd00::1')]['actual'] == 'OK'
    refused = by[('connect', 'h2', 'tcp 10.0.0.1:7009')]
    assert (refused['actual'], refused['method']) == ('ECONNREFUSED', 'tracer')
    foreign = by[('connect', 'h2', 'tcp 10.0.0.3:7001 src=10.0.0.1')]
    assert (foreign['actual'], foreign['method']) == ('EADDRNOTAVAIL', 'tracer')
    assert by[('connect', 'h3', 'tcp [fd00::1]:7001')]['actual'] == 'OK'
    assert all(c['method'] == 'netprobe' for c in cells if c['proto'] == 'udp')


def test_static_server_is_observed_and_a_hung_client_is_stopped(tmp_path):
    src = tmp_path / 'static_server.c'
    src.write_text(STATIC_SERVER)
    binary = tmp_path / 'static_server'
    subprocess.run(['cc', '-static', '-O2', '-o', str(binary), str(src)], check=True)
    assert launches.elf_interp(str(binary)) is False
    assert launches.elf_interp(launches.resolve('python3')) is True
    hang = tmp_path / 'hang.py'
    hang.write_text('import time\ntime.sleep(600)\n')
    res, folder, cells = run_wrong_host(
        tmp_path / 'out', '--server', f'{binary} 10.0.0.1 6677',
        '--client', f'python3 {hang}', '--program-timeout', '1', '--trace', 'preload')
    assert res.returncode == 1, res.stdout + res.stderr
    server = column(cells, 'tcp server program')
    assert {h: (c['actual'], c['method']) for h, c in server.items()} == {
        'h1': ('OK', 'observed'), 'h2': ('EADDRNOTAVAIL', 'observed'),
        'h3': ('EADDRNOTAVAIL', 'observed')}
    assert 'ss shows it listening on 10.0.0.1:6677' in server['h1']['message']
    assert 'bind: Cannot assign requested address' in server['h2']['message']
    client = column(cells, 'tcp client program')
    assert set(client) == {'h1', 'h2', 'h3'}
    for cell in client.values():
        assert (cell['verdict'], cell['actual'], cell['stopped']) == ('error', 'ERROR', True)
        assert 'the program hung: no outcome within 1 s; stopped by PID' in cell['message']
        pid = int(cell['message'].rsplit(' ', 1)[1])
        assert not os.path.exists(f'/proc/{pid}'), f'hung client {pid} still runs'


def test_a_program_that_cannot_run_is_refused_before_building(tmp_path):
    res = harness('run', 'wrong-host', '--out', str(tmp_path), '--server',
                  'no-such-program-bindlab {addr}')
    assert res.returncode == 2
    assert "program 'no-such-program-bindlab' not found" in res.stderr
    assert not os.path.exists(tmp_path / 'latest')
    res = harness('run', 'wrong-host', '--out', str(tmp_path), '--client', "python3 'x")
    assert res.returncode == 2 and 'No closing quotation' in res.stderr
    env = dict(os.environ, BINDTRACE_LIB=str(tmp_path / 'no-tracer.so'))
    res = subprocess.run([PYTHON, '-m', 'harness', 'run', 'wrong-host', '--out',
                          str(tmp_path), '--server', 'python3 examples/seed_server.py'],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=GUARD_S)
    assert res.returncode == 2
    assert 'no-tracer.so not found: build it with `make build/libbindtrace.so`' in res.stderr
    assert not os.path.exists(tmp_path / 'latest')


def readme_commands():
    """[(argv, expected exit status)] of the sh blocks of examples/README.md, in order.

    A command may continue over lines ending in a backslash; its expected status is
    the trailing `# exit N` comment (0 when there is none).  `sudo` is dropped: the
    tests already run as root, and this machine has no sudo.
    """
    with open(os.path.join(REPO, 'examples', 'README.md')) as f:
        text = f.read()
    commands = []
    for block in text.split('```sh\n')[1:]:
        body = block.split('```', 1)[0].replace('\\\n', ' ')
        for line in body.splitlines():
            if not line.strip():
                continue
            status = re.search(r'#\s*exit (\d+)', line)
            argv = shlex.split(line, comments=True)
            if argv[0] == 'sudo':
                argv = argv[1:]
            commands.append((argv, int(status.group(1)) if status else 0))
    return commands


def test_examples_readme_works_as_written():
    """Every command of examples/README.md, run as written, exits as the README says."""
    commands = readme_commands()
    assert len(commands) == 6
    made = os.path.join(REPO, 'my-expectations')      # the README's --baseline folder
    assert not os.path.exists(made), f'{made} exists already; remove it to run this test'
    try:
        for argv, status in commands:
            res = subprocess.run(argv, cwd=REPO, capture_output=True, text=True,
                                 timeout=GUARD_S * 3)
            assert res.returncode == status, (argv, res.stdout[-3000:], res.stderr[-3000:])
        out = res.stdout      # the last command: the --check against the seed's record
        assert 'wrong-host bind h2 tcp server program: EADDRNOTAVAIL -> OK' in out
        assert 'wrong-host bind h3 tcp server program: EADDRNOTAVAIL -> OK' in out
    finally:
        shutil.rmtree(made, ignore_errors=True)


SCENARIO_FILE = '''
"""wrong-host with the fixed server in it, as a scenario file (with_programs)."""
from harness.probe.programs import with_programs
from topologies.wrong_host import scenarios as _base

scenarios = [with_programs(_base[0], server='python3 examples/fixed_server.py',
                           name='wh-fixed-server', default=False)]
'''


def test_programs_from_a_scenario_file(tmp_path):
    """A scenario file can name the program instead of the command line."""
    path = tmp_path / 'with_program.py'
    path.write_text(SCENARIO_FILE)
    res = harness('run', '--scenario-file', str(path), '--out', str(tmp_path / 'out'))
    assert res.returncode == 0, res.stdout + res.stderr
    folder = os.path.realpath(tmp_path / 'out' / 'latest')
    with open(os.path.join(folder, 'wh-fixed-server', 'matrix.json')) as f:
        cells = json.load(f)['cells']
    server = column(cells, 'tcp server program')
    assert {h: (c['actual'], c['method'], c['program']) for h, c in server.items()} == {
        h: ('OK', 'tracer', 'python3 examples/fixed_server.py') for h in ('h1', 'h2', 'h3')}


def test_ctrl_c_while_programs_run_stops_them(tmp_path):
    """SIGINT while every host runs a hung server: exit 2, each program gone by PID."""
    import signal
    import time
    hang = tmp_path / 'hang.py'
    hang.write_text('import time\ntime.sleep(600)\n')
    env = dict(os.environ, NETPROBE=os.path.join(REPO, 'build', 'netprobe'),
               BINDTRACE_LIB=TRACER)
    proc = subprocess.Popen([PYTHON, '-m', 'harness', 'run', 'wrong-host', '--server',
                             f'python3 {hang}', '--program-timeout', '120', '--out',
                             str(tmp_path / 'out')], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=hu.sigint_default)   # even when run in the background
    pids, deadline = [], time.monotonic() + GUARD_S
    try:
        while len(pids) < 3:          # the three programs are recorded in the state file
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            try:
                with open('/run/bindlab/state.json') as f:
                    recorded = json.load(f)['pids']
            except (OSError, ValueError):
                recorded = {}
            pids = [int(p) for p, ident in recorded.items()
                    if ident['marker'] == 'python3']
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=GUARD_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2, err
    assert 'interrupted' in err
    assert [p for p in pids if os.path.exists(f'/proc/{p}')] == []
    assert not os.path.exists(tmp_path / 'out' / 'latest')


def test_static_client_is_judged_by_exit_status_and_stderr(tmp_path):
    """A static client told {addr} {port}: exit 0 is OK, perror's text names the errno."""
    src = tmp_path / 'static_client.c'
    src.write_text(STATIC_CLIENT)
    binary = tmp_path / 'static_client'
    subprocess.run(['cc', '-static', '-O2', '-o', str(binary), str(src)], check=True)
    res, _folder, cells = run_wrong_host(tmp_path / 'out', '--client',
                                         f'{binary} {{addr}} {{port}}', '--trace', 'preload')
    assert res.returncode == 0, res.stdout + res.stderr
    observed = [c for c in cells if c['method'] == 'observed']
    assert len(observed) == 21      # 8 TCP connects a host, minus the src= one
    by = {(c['host'], c['column']): c for c in observed}
    assert by[('h2', 'tcp 10.0.0.1:7001')]['actual'] == 'OK'
    assert by[('h2', 'tcp [fd00::3]:7001')]['actual'] == 'OK'
    refused = by[('h3', 'tcp 10.0.0.1:7009')]
    assert refused['actual'] == 'ECONNREFUSED'
    assert 'connect: Connection refused' in refused['message']
    foreign = [c for c in cells if 'src=' in c['column']]
    assert {c['method'] for c in foreign} == {'netprobe'}   # the template has no {src}


# -- preconditions: a program never judged against state it did not have -------------------

PLAIN_SERVER = '''
import socket, sys, time
addr, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.bind((addr, port))
s.listen()
time.sleep(30)
'''


def test_server_program_in_port_conflicts_keeps_every_precondition(tmp_path):
    """port-conflicts with a plain server told {addr} {port}: the binds that meet a
    scenario server are the program's and EADDRINUSE (the servers listen while it
    runs); the binds that meet a socket held earlier in netprobe's batch stay
    netprobe's and say why.  Every cell passes: none is judged against a holder the
    program's launch did not have."""
    server = tmp_path / 'plain_server.py'
    server.write_text(PLAIN_SERVER)
    res = harness('run', 'port-conflicts', '--out', str(tmp_path / 'out'), '--server',
                  f'python3 {server} {{addr}} {{port}}')
    folder = os.path.realpath(tmp_path / 'out' / 'latest')
    with open(os.path.join(folder, 'port-conflicts', 'matrix.json')) as f:
        cells = json.load(f)['cells']
    assert res.returncode == 0, res.stdout + res.stderr + json.dumps(
        [c for c in cells if c['verdict'] != 'pass'], indent=1)
    by = {(c['host'], c['column']): c for c in cells}
    listener = by[('h1', 'tcp 0.0.0.0:7000')]
    assert (listener['method'], listener['actual']) == ('tracer', 'EADDRINUSE')
    assert by[('h1', 'tcp [fd00::1]:7000')]['method'] == 'tracer'
    for column in ('tcp 0.0.0.0:7006', 'tcp 127.0.0.1:7006', 'tcp [::]:7004',
                   'tcp 0.0.0.0:7014'):
        held = by[('h1', column)]
        assert held['method'] == 'netprobe', held
        assert held['note'].startswith('left to netprobe: the server program cannot '
                                       'have the socket case b'), held
    assert sum(c['method'] == 'tracer' for c in cells) >= 12


def debs_installed(*packages):
    """True when the Debian packages are there, installed by scripts/install-debs if
    missing (as `make deps-test` does); False when they cannot be."""
    res = subprocess.run([os.path.join(REPO, 'scripts', 'install-debs'), *packages],
                         capture_output=True, text=True)
    return res.returncode == 0


def test_host_port_and_url_programs_get_their_ipv6_cells(tmp_path):
    """Issue 27, item 4: a server that takes host:port (busybox httpd -p {hostport})
    and a client that takes a URL (curl http://{urlhost}:{port}/) are told IPv6
    addresses in brackets, so their IPv6 cells are real calls (not NOCALL: `{addr}:{port}`
    would give them fd00::1:6677), judged like netprobe's: exit 0."""
    if not debs_installed('curl', 'busybox'):
        pytest.skip('curl and busybox are not installed and cannot be (scripts/install-debs)')
    res, _folder, cells = run_wrong_host(
        tmp_path, '--server', 'busybox httpd -f -p {hostport}',
        '--client', 'curl -sS -m 3 http://{urlhost}:{port}/')
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    by = {(c['kind'], c['host'], c['column']): c for c in cells}
    v6 = [c for c in cells if c['proto'] == 'tcp' and ':' in c['addr']]
    assert {c['kind'] for c in v6 if c.get('program')} == {'bind', 'connect'}
    assert all(c.get('program') and c['verdict'] == 'pass' and c['actual'] != 'NOCALL'
               for c in v6), [c for c in v6 if c['verdict'] != 'pass' or not c.get('program')]
    bound, refused = by[('bind', 'h1', 'tcp fd00::1')], by[('bind', 'h2', 'tcp fd00::1')]
    assert (bound['actual'], refused['actual']) == ('OK', 'EADDRNOTAVAIL')
    assert bound['program'] == "busybox httpd -f -p '[fd00::1]:6677'"
    assert by[('bind', 'h1', 'tcp 10.0.0.1')]['program'] == \
        'busybox httpd -f -p 10.0.0.1:6677'
    fetched = by[('connect', 'h3', 'tcp [fd00::1]:7001')]
    assert (fetched['actual'], fetched['method']) == ('OK', 'tracer')
    assert fetched['program'] == "curl -sS -m 3 'http://[fd00::1]:7001/'"
    assert by[('connect', 'h2', 'tcp 10.0.0.1:7009')]['actual'] == 'ECONNREFUSED'
