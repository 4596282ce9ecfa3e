"""Real programs of every runtime, judged right: programs this project did not tailor to
the tracer (tests/programs/: C against glibc blocking, poll()+SO_ERROR and poll()+a
second connect(), the same C static with musl, static Go, Python asyncio, Node, Java,
Ruby's Socket.tcp with its own connect_timeout; and Debian's ncat -w 3) take
netprobe's place in real scenarios, and every cell must say what the program really
got:

- each cell is traced by the method its binary needs (LD_PRELOAD for a dynamic one,
  bindtrace-sys for a static one): never only "observed";
- each scenario has the program cells its programs make (none only where stated);
- a cell passes, or is one of KNOWN with exactly its verdict, outcome and the words it
  uses to say why: what that runtime really does differently (a program that gives
  up on EALREADY, a JVM without IPv6); every KNOWN entry of the run is met, and the
  exit status is exact;
- a program that keeps its own timeout is judged by the wait it really had: the 4 s
  of the C client against the same connect with a long enough timeout= (ipv6-dad's
  timeout=5000 twins), never against ETIMEDOUT; the 3 s of ncat -w 3 and Ruby, given
  up before a timeout=5000 case's kernel verdict, against its timeout=300 twin.

`make test` runs every runtime on port-conflicts; `make runtimes-test`
(BINDLAB_RUNTIMES=all) on the default scenarios but multicast and udp-source; BINDLAB_RUNTIMES=ipv6-dad,...
on port-conflicts and the scenarios named.  The programs are built by `make
programs`.  Run under the Mininet lock:

    BINDLAB_RUNTIMES=all flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q \
        tests/test_runtimes.py
"""

import json
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = '/usr/bin/python3'
PROG = os.path.join(REPO, 'build', 'programs')
SRC = os.path.join(REPO, 'tests', 'programs')
GUARD_S = 600

# make test: port-conflicts only (the scenario where Go, Java and asyncio differ);
# make runtimes-test (BINDLAB_RUNTIMES=all): every default scenario.
SCENARIOS = ['port-conflicts']
if os.environ.get('BINDLAB_RUNTIMES') == 'all':     # every default scenario
    SCENARIOS += ['ipv6-dad', 'routed-subnets', 'wrong-host', 'lost-address',
                  'nonlocal-bind', 'home-router-nat', 'docker-bridge', 'port-exhaustion',
                  'scale', 'boot-race', 'vip-failover', 'link-flap', 'names']
# (multicast and udp-source are judged by their own programs, a receiver and a sender
# in each runtime: tests/test_tracer_udpcalls.py; these are TCP servers and clients.)
elif os.environ.get('BINDLAB_RUNTIMES'):            # those named
    SCENARIOS += [n for n in os.environ['BINDLAB_RUNTIMES'].split(',') if n not in SCENARIOS]

CLIENT_ARGS = '{addr} {port} {src}'
SERVER_ARGS = '{addr} {port}'
# runtime: (server command or None, client command, tracing method of its cells); a
# command without {addr} is given SERVER_ARGS / CLIENT_ARGS.
RUNTIMES = {
    'c-blocking': (f'{PROG}/glibc/server', f'{PROG}/glibc/client_blocking', 'tracer'),
    'c-poll': (None, f'{PROG}/glibc/client_poll', 'tracer'),
    'c-reconnect': (None, f'{PROG}/glibc/client_reconnect', 'tracer'),
    'musl-static': (f'{PROG}/musl/server', f'{PROG}/musl/client_reconnect', 'syscall'),
    'go-static': (f'{PROG}/go/server', f'{PROG}/go/client', 'syscall'),
    'python-asyncio': (f'{PYTHON} {SRC}/python/server.py',
                       f'{PYTHON} {SRC}/python/client.py', 'tracer'),
    'node': (f'node {SRC}/node/server.js', f'node {SRC}/node/client.js', 'tracer'),
    'java': (f'java -cp {PROG}/java Server', f'java -cp {PROG}/java Client', 'tracer'),
    'ruby': (None, f'ruby {SRC}/ruby/client.rb', 'tracer'),
    'ncat': (None, 'ncat -w 3 {addr} {port}', 'tracer'),    # cases with src=: netprobe's
}

# The program cells of each scenario: a server's binds and a client's connects;
# port-exhaustion has none (every case has netprobe-only options: hold, ...).
NO_PROGRAM_CELLS = {'port-exhaustion'}
# With timed steps a program told the address takes only the cases of its moment
# (probe/preconditions.moment_unmet): a server, run before t=0, the plain binds; a
# client, run after the last step, none (their connects are of t=0, retry= or delay=).
TIMED = {'boot-race', 'vip-failover', 'link-flap'}

# A KNOWN entry: (scenario, host, column) -> the cell's (verdict, actual, words of its
# note or message), exactly; a list of them where a race decides between them.
# Only what a runtime really does differently: the cell says what the program did.

# The second connect() after poll() races the kernel: the ICMP error wakes poll() a
# moment before the connect is ended, and the second connect() can say EALREADY
# (libcurl and GLib retry; client_reconnect, like Ruby's Socket.tcp, gives up, exits
# or closes the socket): the cell is EALREADY, saying so.  A run where the race goes
# the other way passes.
_EALREADY = 'second connect() said EALREADY'
_ROUTED_RACE = {('routed-subnets', h, 'tcp 10.0.2.10:5001 timeout=300'):
                [('fail', 'EALREADY', _EALREADY), ('pass', errno, '')]
                for h, errno in (('h5', 'EHOSTUNREACH'), ('h6', 'ECONNREFUSED'),
                                 ('h7', 'EHOSTUNREACH'))}
KNOWN = {
    'c-reconnect': _ROUTED_RACE,
    'musl-static': _ROUTED_RACE,
    'ruby': _ROUTED_RACE,
    'java': {
        # In a namespace without IPv6 the JVM refuses IPv6 before any call: a real
        # difference of the runtime.
        **{('docker-bridge', 'c5', col): ('fail', 'NOCALL', 'Protocol family unavailable')
           for col in ('tcp ::', 'tcp ::1', 'tcp [::1]:5000', 'tcp [::1]:5001')},
    },
}


def harness(*args):
    env = dict(os.environ, NETPROBE=os.path.join(REPO, 'build', 'netprobe'))
    return subprocess.run([PYTHON, '-m', 'harness'] + list(args), cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=GUARD_S)


@pytest.fixture(scope='module', autouse=True)
def programs_built():
    res = subprocess.run(['make', '--no-print-directory', 'programs', 'build/netprobe',
                          'build/libbindtrace.so', 'build/bindtrace-sys'], cwd=REPO,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def template(command, args):
    """command with its placeholders: its own, else args after it."""
    return command if '{addr}' in command else f'{command} {args}'


def cells_of(run, scenario):
    with open(os.path.join(run, scenario, 'matrix.json')) as f:
        return json.load(f)['cells']


def known_in_run(runtime):
    """KNOWN entries of runtime whose scenario this run includes."""
    return {w: v for w, v in KNOWN.get(runtime, {}).items() if w[0] in SCENARIOS}


@pytest.mark.parametrize('runtime', sorted(RUNTIMES))
def test_programs_of_every_runtime_are_judged_right(runtime, tmp_path):
    """Each scenario has program cells, all traced by the runtime's method, of the
    kinds its programs make; every cell passes, or is a KNOWN entry with exactly its
    verdict, outcome and words (in the cell and in `explain`); every KNOWN entry of
    these scenarios is met; the exit status is 1 exactly when a cell matched a KNOWN
    entry that does not pass, else 0."""
    server, client, method = RUNTIMES[runtime]
    args = ['--client', template(client, CLIENT_ARGS)]
    if server:
        args += ['--server', template(server, SERVER_ARGS)]
    res = harness('run', *SCENARIOS, '--out', str(tmp_path), *args)
    run = os.path.realpath(tmp_path / 'latest')
    known = known_in_run(runtime)
    wrong, met, failing = [], set(), False
    for scenario in SCENARIOS:
        cells = cells_of(run, scenario)
        programs = [c for c in cells if c.get('program')]
        want_kinds = set() if scenario in NO_PROGRAM_CELLS else \
            ({'bind'} if server else set()) if scenario in TIMED else \
            {'bind', 'connect'} if server else {'connect'}
        if {c['kind'] for c in programs} != want_kinds:
            wrong.append(f'{scenario}: program cells of kinds '
                         f'{sorted({c["kind"] for c in programs})}, not {sorted(want_kinds)}')
        if {c['method'] for c in programs} != ({method} if programs else set()):
            wrong.append(f'{scenario}: methods {sorted({c["method"] for c in programs})}')
        for cell in cells:
            where = (scenario, cell['host'], cell['column'])
            said = ' '.join(filter(None, [cell.get('note'), cell.get('message')]))
            got = f'{where} {cell.get("method")}: {cell["verdict"]}, expected ' \
                  f'{cell["expected"]}, got {cell["actual"]} ({said})'
            if where in known and cell.get('program'):
                met.add(where)
                ways = known[where] if isinstance(known[where], list) else [known[where]]
                match = [(verdict, actual, words) for verdict, actual, words in ways
                         if (cell['verdict'], cell['actual']) == (verdict, actual)
                         and words in said]
                if not match:
                    wrong.append(f'KNOWN {ways} -> {got}')
                    continue
                verdict, _actual, words = match[0]
                failing |= verdict != 'pass'
                told = harness('explain', run, '--scenario', scenario, cell['host'],
                               cell['kind'], cell['column'])
                if words not in told.stdout:      # what `explain` tells a user, too
                    wrong.append(f'{where}: explain does not say {words!r}: {told.stdout}'
                                 f'{told.stderr}')
            elif cell['verdict'] != 'pass':
                wrong.append(got)
    wrong += [f'{w}: KNOWN, but no program cell there' for w in sorted(set(known) - met)]
    assert not wrong, '\n'.join(wrong)
    assert res.returncode == (1 if failing else 0), res.stdout[-2000:] + res.stderr[-2000:]


def test_a_program_that_waits_longer_is_judged_by_the_twin_with_that_timeout(tmp_path):
    """ipv6-dad's timeout=300 connects expect ETIMEDOUT (netprobe gives up first); a
    client with its own 4 s timeout gets the kernel's EHOSTUNREACH after about 3 s and
    is judged as the timeout=5000 case of the same connect, saying so."""
    res = harness('run', 'ipv6-dad', '--out', str(tmp_path), '--client',
                  f'{PROG}/glibc/client_blocking {CLIENT_ARGS}')
    assert res.returncode == 0, res.stdout + res.stderr
    cells = cells_of(os.path.realpath(tmp_path / 'latest'), 'ipv6-dad')
    short = [c for c in cells if c.get('program') and 'timeout=300' in c['options']
             and c['actual'] == 'EHOSTUNREACH']
    assert len(short) >= 3
    for cell in short:
        assert cell['verdict'] == 'pass'
        assert cell['expected'] == 'EHOSTUNREACH'
        assert 'past the case\'s timeout=300 ms: judged as case c' in cell['note']
        assert 'timeout=5000' in cell['note']
        assert cell['elapsed_us'] > 1_000_000


def test_a_program_that_gives_up_first_is_judged_by_the_twin_with_that_timeout(tmp_path):
    """ipv6-dad's timeout=5000 connects expect the kernel's EHOSTUNREACH (neighbour
    discovery gives up after about 3 s); `ncat -w 1` gives up after 1 s (ETIMEDOUT,
    the whole wait as elapsed_us) and is judged as the timeout=300 case of the same
    connect (ETIMEDOUT), saying so: never a plain fail."""
    res = harness('run', 'ipv6-dad', '--out', str(tmp_path), '--client',
                  'ncat -w 1 {addr} {port}')
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    cells = cells_of(os.path.realpath(tmp_path / 'latest'), 'ipv6-dad')
    long = [c for c in cells if c.get('program') and 'timeout=5000' in c['options']]
    assert len(long) == 4, long
    for cell in long:
        assert (cell['verdict'], cell['expected'], cell['actual']) == \
            ('pass', 'ETIMEDOUT', 'ETIMEDOUT'), cell
        assert 'short of the case\'s timeout=5000 ms: judged as case c' in cell['note']
        assert '(timeout=300)' in cell['note']
        assert 900_000 < cell['elapsed_us'] < 2_500_000
