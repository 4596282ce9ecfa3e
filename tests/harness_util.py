"""Helpers for the harness tests: run `python3 -m harness` as a user would, watch it.

The harness is run as a subprocess of /usr/bin/python3 (the interpreter that can
import Mininet) with the plain probe build/netprobe (a run must not depend on the
sanitizer build).  Runs must not overlap with other Mininet work on the machine: run
these tests under `flock /tmp/bindlab-mininet.lock`; the harness's own lock refuses a
second run anyway (exit 2).

`snapshot()` lists what a run can leave behind: Mininet shells (processes whose
command line holds `mininet:`), root-namespace interfaces, and the state file.
"""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

PYTHON = '/usr/bin/python3'
LOCK = '/tmp/bindlab-mininet.lock'   # serialises everything that starts Mininet
STATE = '/run/bindlab/state.json'
# Guards against a hung run, never assertions about speed.
RUN_GUARD_S = 300


def env():
    """The environment of a harness run: the plain probe of this tree."""
    e = dict(os.environ)
    e['NETPROBE'] = os.path.join(REPO, 'build', 'netprobe')
    return e


def harness(*args, preexec=None, prefix=()):
    """Run `python3 -m harness ARGS` to the end; returns the CompletedProcess."""
    return subprocess.run(list(prefix) + [PYTHON, '-m', 'harness'] + list(args),
                          cwd=REPO, env=env(), capture_output=True, text=True,
                          timeout=RUN_GUARD_S, preexec_fn=preexec)


def sigint_default():
    """preexec_fn: SIGINT back to its default in the child.  A suite started in the
    background (`make test &`, nohup, some CI runners) ignores SIGINT, and a child
    inherits that: a test that sends SIGINT sets the disposition it relies on."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args):
    """Start `python3 -m harness ARGS` in the background, SIGINT at its default
    (the interrupt tests send it); returns the Popen."""
    return subprocess.Popen([PYTHON, '-m', 'harness'] + list(args), cwd=REPO, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_default)


def read_state():
    """The current state file, or None."""
    try:
        with open(STATE) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return None


def wait_for_state(proc, predicate, timeout=120):
    """Poll the state file until predicate(state) holds; returns that state.

    Fails (AssertionError) if the run ends first or the guard expires.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = read_state()
        if st and predicate(st):
            return st
        assert proc.poll() is None, 'the run ended before the awaited point: ' + \
            proc.stderr.read()
        time.sleep(0.02)
    raise AssertionError('the run never reached the awaited point')


def probing(st):
    """True while batches or servers run (a netprobe is recorded)."""
    return any(ident['marker'] == 'netprobe' for ident in st['pids'].values())


def mininet_shells():
    """PIDs of processes whose command line holds 'mininet:' (Mininet node shells)."""
    found = set()
    for path in glob.glob('/proc/[0-9]*/cmdline'):
        try:
            with open(path, 'rb') as f:
                if b'mininet:' in f.read():
                    found.add(int(path.split('/')[2]))
        except OSError:
            pass
    return found


def links():
    """Names of the root namespace's interfaces."""
    return set(os.listdir('/sys/class/net'))


def snapshot():
    """(Mininet shells, interfaces, state file present) right now."""
    return mininet_shells(), links(), os.path.exists(STATE)


def start_time(pid):
    """Field 22 of /proc/PID/stat, or None when pid is gone or a zombie."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ('Z', 'X') else int(fields[19])


def alive(pid, ident):
    """True if pid still runs as the state file recorded it (same start time)."""
    return start_time(pid) == ident['start']


def netns_ino(pid):
    try:
        return os.stat(f'/proc/{pid}/ns/net').st_ino
    except OSError:
        return None


def processes_in(netns):
    """PIDs of every live process in a namespace with one of the recorded inodes
    (any process, not only ours: after clean-net there must be none at all)."""
    inos = {entry['ino'] for entry in netns} - {netns_ino(1), netns_ino('self')}
    return {int(p) for p in os.listdir('/proc') if p.isdigit()
            and netns_ino(p) in inos and start_time(p) is not None}


def interrupt(proc, sig):
    """Send sig to the run and wait for it; returns (status, stdout, stderr)."""
    os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=RUN_GUARD_S)
    return proc.returncode, out, err


def as_nobody():
    """preexec_fn dropping to uid/gid 65534 (to check the not-root refusal)."""
    def drop():
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    return drop


def slow_scenario_file(tmp_path):
    """A scenario file whose probe phase lasts ~2 s: time to interrupt it."""
    path = tmp_path / 'slow_scenario.py'
    path.write_text(SLOW_SCENARIO)
    return str(path)


SLOW_SCENARIO = '''
"""A wrong-host network with one connect to a silent address (2 s timeout, before ARP gives up at ~3 s)."""
import sys
sys.path.insert(0, %r)
from harness.scenario import Scenario, Server, bind, connect, explicit
from topologies.wrong_host import WrongHostTopo

scenarios = [Scenario(
    name='slow-test', title='one connect that waits 2 s', topo=WrongHostTopo,
    servers=(Server('h3', '0.0.0.0', 7001),),
    cases=(bind('h1', '10.0.0.1', 6677, explicit('OK', 'h1 holds it')),
           connect('h2', '10.0.0.99', 7001, explicit('ETIMEDOUT', 'nobody holds .99'),
                   options=('timeout=2000',))),
)]
''' % REPO


def wrong_expectation_file(tmp_path):
    """A scenario file with one deliberately wrong expectation."""
    path = tmp_path / 'wrong_expectation.py'
    path.write_text(WRONG_EXPECTATION % REPO)
    return str(path)


WRONG_EXPECTATION = '''
"""wrong-host with one cell deliberately mis-expected: h2 binding 10.0.0.1 'OK'."""
import sys
sys.path.insert(0, %r)
from harness.scenario import Scenario, bind, explicit, expect_bind
from topologies.wrong_host import WrongHostTopo

OWNERS = {'10.0.0.1': 'h1', '10.0.0.2': 'h2', '10.0.0.3': 'h3'}
scenarios = [Scenario(
    name='wrong-expectation', title='a test of the harness itself', topo=WrongHostTopo,
    cases=(bind('h1', '10.0.0.1', 6677, expect_bind('h1', '10.0.0.1', OWNERS)),
           bind('h2', '10.0.0.1', 6677, explicit('OK', 'deliberately wrong')),
           bind('h3', '0.0.0.0', 6677, expect_bind('h3', '0.0.0.0', OWNERS))),
)]
'''


def root_and_clean():
    """Fail when the probe is not built; require that the test starts with no state
    file and leaves no Mininet shell, interface or state file of its own behind.
    Test files use it as an autouse fixture (root is checked once, in conftest.py)."""
    if not os.access(os.path.join(REPO, 'build', 'netprobe'), os.X_OK):
        pytest.fail('build/netprobe is missing: run `make` first')
    shells, links_before, state = snapshot()
    assert not state, 'a state file exists before the test: run `make clean-net`'
    yield
    after_shells, after_links, after_state = snapshot()
    assert after_shells <= shells, f'Mininet shells left: {after_shells - shells}'
    assert after_links <= links_before, f'interfaces left: {after_links - links_before}'
    assert not after_state, 'state file left behind'


def lock_argv():
    """['flock', LOCK] unless an ancestor process already holds the Mininet lock.

    `flock LOCK make test` (or pytest) holds the lock for the whole run; a second
    `flock LOCK` from inside would wait for it forever.  So take it only when no
    ancestor is a flock on LOCK.
    """
    pid = os.getppid()
    while pid > 1:
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                argv = f.read().split(b'\0')
            with open(f'/proc/{pid}/stat') as f:
                pid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if argv and os.path.basename(argv[0]) == b'flock' and LOCK.encode() in argv:
            return []
    return ['flock', LOCK]
