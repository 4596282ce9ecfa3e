"""The hosts' shells as the harness drives them (harness/net/nsbatch.py), and teardown.

A host's shell reads from a pty in canonical mode, which keeps at most 4095 bytes of
a line: commands sent as one long line ran cut (statuses lost, servers unrecorded, a
shell left at its continuation prompt).  Here: many commands, and a command longer
than that line, in one shell give their real statuses and output; a shell that does
not answer is named; an interrupted call ends its jobs before it removes their
folder; hang_up reaches a timeout(1) job's own process group; two processes with the
same PID in different PID namespaces delete their interfaces in different device
groups; a host with its shell and without it (net/hosts.py) give the same answers.  End to end: port-conflicts run from a clone at a path of 200+ characters,
and a scenario with 100 servers on one host.

Needs root and the Mininet lock:
    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_nsbatch.py
"""

import json
import os
import signal
import subprocess
import time

import pytest

import harness_util as hu
from harness.net import nsbatch
from harness.ledger import procs
from harness.errors import EnvError

from mininet.node import Host

# Every test needs root, starts on a clean machine and must leave it clean.
root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)

PREFIX = f'blt{os.getpid()}'


class Shell(nsbatch.BatchedShell, Host):
    """A Mininet host (its own network namespace, no links) with the harness's shell."""


def session_of(shell_pid):
    """PIDs of the live processes in the session shell_pid leads."""
    return {int(p) for p in os.listdir('/proc') if p.isdigit() and
            procs.start_time(p) is not None and _sid(p) == shell_pid}


def _sid(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return int(f.read().rsplit(')', 1)[1].split()[3])
    except (OSError, ValueError, IndexError):
        return None


def wait_until(predicate, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f'never happened: {what}'
        time.sleep(0.02)


@pytest.fixture
def shell():
    """One host shell; afterwards every process of its session is killed and reaped."""
    host = Shell(f'{PREFIX}h')
    proc = host.shell           # terminate() forgets it
    pid = proc.pid
    try:
        nsbatch.await_shells([host])
        yield host
    finally:
        for p in session_of(pid):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        host.terminate()
        proc.wait(timeout=10)
        wait_until(lambda: not session_of(pid), 'the session of the test shell ended')


# -- one shell, many commands --------------------------------------------------------

def test_many_commands_in_one_shell_give_their_real_statuses(shell):
    """40 commands (far over 4095 bytes as one line) and one command of 5000 bytes."""
    said = nsbatch.run_in_shells([(shell, ['sh', '-c', f'echo out{k}; echo err{k} >&2; '
                                           f'exit {k % 7}'], None, None if k % 2 else 30)
                                  for k in range(40)])
    assert [rc for rc, _o, _e in said] == [k % 7 for k in range(40)]
    assert [(out, err) for _rc, out, err in said] == \
        [(f'out{k}\n', f'err{k}\n') for k in range(40)]
    word = 'x' * 5000
    assert nsbatch.run_in_shells([(shell, ['echo', word], 'in', None)]) == \
        [(0, word + '\n', '')]
    assert 'y' * 5000 in nsbatch.run_everywhere({shell: 'echo ' + 'y' * 5000})[shell]


def test_a_shell_that_does_not_answer_is_named(shell):
    with pytest.raises(EnvError, match=f'the shell of {shell.name} gave no answer'):
        nsbatch.run_everywhere({shell: 'sleep 3'}, timeout=0.5)


class Alarm(Exception):
    pass


def _alarm(_signum, _frame):
    raise Alarm()


def test_an_interrupted_run_in_shells_ends_its_jobs_before_their_folder_goes(shell):
    """A Ctrl-C (here: an exception from a signal handler) while the shell waits for
    its jobs: they are ended by PID (the timeout(1) job with its process group)."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(Alarm):
            nsbatch.run_in_shells([(shell, ['sleep', '60'], None, 100),
                                   (shell, ['sleep', '61'], None, None)])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert session_of(shell.shell.pid) == {shell.shell.pid}, 'jobs outlived the call'


class Outside:
    """The shell's host seen without its shell (as lab/labfile.NsHost): popen only."""

    def __init__(self, host):
        self.name, self.pid = host.name, host.pid

    def popen(self, argv, **kw):
        for name in ('stdin', 'stdout', 'stderr'):
            kw.setdefault(name, subprocess.PIPE)
        return subprocess.Popen(['nsenter', f'--net=/proc/{self.pid}/ns/net', '--'] +
                                list(argv), start_new_session=True, **kw)


class Pids:
    """What start_on records, in place of a run's state file."""

    def __init__(self):
        self.pids = []

    def add_pids(self, pids, _marker):
        self.pids += pids


def test_a_host_with_its_shell_and_without_gives_the_same_answers(shell, tmp_path):
    """net/hosts.py chooses the host's shell or a Popen: both give the same statuses
    and output (124 for a command past its timeout), and a fed job reads what feed()
    gives it, writes its files and ends with its status."""
    from harness.net import ended, run_on, start_on
    for n, host in enumerate([shell, Outside(shell)]):
        said = run_on([(host, ['sh', '-c', 'cat; echo err >&2; exit 3'], 'in', None),
                       (host, ['sleep', '5'], None, 0.5)])
        assert said == [(3, 'in', 'err\n'), (124, '', '')], (host, said)
        pids, base = Pids(), str(tmp_path / f'job{n}')
        job, = start_on([(host, ['sh', '-c', 'cat; exit 4'], base)], pids, 'sh', fed=True)
        assert pids.pids == [job.pid]
        assert job.feed('plan\n') is None
        assert [rc for _job, rc in ended([job])] == [4]
        assert not job.running()
        with open(base + '.out') as f:
            assert f.read() == 'plan\n'


def test_hang_up_ends_a_timeout_job_in_its_own_process_group(shell):
    pid, = nsbatch.start_in_shells([(shell, ['timeout', '100', 'sleep', '100'],
                                     '/dev/null', '/dev/null', '/dev/null')])
    wait_until(lambda: len(session_of(shell.shell.pid)) == 3, 'timeout ran sleep')
    assert os.getpgid(pid) == pid       # timeout(1) leads a group of its own
    nsbatch.hang_up([shell])
    wait_until(lambda: not session_of(shell.shell.pid), 'the whole session ended')


# -- teardown group ------------------------------------------------------------------

GROUP_OF = '''
import os, sys
sys.path.insert(0, {repo!r})
from harness.net import nsbatch
name = sys.argv[1]
group = getattr(nsbatch, 'teardown_group', lambda names: nsbatch.TEARDOWN_GROUP)([name])
print(os.getpid(), group, flush=True)
nsbatch.delete_together([name], {{name: 'bindlab:test'}})
'''


def test_same_pid_in_two_pid_namespaces_gets_two_teardown_groups():
    """Two teardowns, each by PID 1 of a PID namespace of its own, each of its own
    marked interface: different device groups (one's `link del group` would
    otherwise take the other's interfaces), and each deletes its own."""
    names = [f'{PREFIX}g{n}' for n in range(2)]
    try:
        for name in names:
            subprocess.run(['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name',
                            name + 'p'], check=True)
            subprocess.run(['ip', 'link', 'set', 'dev', name, 'alias', 'bindlab:test'],
                           check=True)
        said = [subprocess.run(['unshare', '--pid', '--fork', hu.PYTHON, '-c',
                                GROUP_OF.format(repo=hu.REPO), name],
                               capture_output=True, text=True, timeout=60, check=True)
                .stdout.split() for name in names]
        assert [pid for pid, _group in said] == ['1', '1']
        assert said[0][1] != said[1][1], 'the same PID gave the same teardown group'
        assert not {n for n in names} & hu.links()
    finally:
        for name in names:
            subprocess.run(['ip', 'link', 'del', 'dev', name], capture_output=True)


# -- end to end ----------------------------------------------------------------------

def load(path):
    with open(path) as f:
        return json.load(f)


def test_port_conflicts_from_a_clone_at_a_long_path(tmp_path):
    """Every server recorded where netprobe's path is 200+ characters (16 servers on
    h1: their start line once overflowed the pty, 'its shell gave no PID back')."""
    clone = tmp_path / ('deep-' * 8) / ('nested-workspace-' * 6) / 'bindlab'
    files = subprocess.run(['git', 'ls-files', '-z'], cwd=hu.REPO, capture_output=True,
                           check=True).stdout
    clone.mkdir(parents=True)
    tree = tmp_path / 'tree.tar'          # the working tree as it is, not only HEAD
    subprocess.run(['tar', '-C', hu.REPO, '--null', '-T', '-', '-cf', str(tree)],
                   input=files, check=True)
    subprocess.run(['tar', '-C', str(clone), '-xf', str(tree)], check=True)
    subprocess.run(['make', '-s', 'build/netprobe'], cwd=clone, check=True,
                   capture_output=True, timeout=300)
    netprobe = clone / 'build' / 'netprobe'
    assert len(str(netprobe)) >= 200
    res = subprocess.run([hu.PYTHON, '-m', 'harness', 'run', 'port-conflicts', '--switch',
                          'lxbr', '--out', str(tmp_path / 'out')], cwd=clone,
                         env=dict(hu.env(), NETPROBE=str(netprobe)), capture_output=True,
                         text=True, timeout=hu.RUN_GUARD_S)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    matrix = load(tmp_path / 'out' / 'latest' / 'port-conflicts' / 'matrix.json')
    assert matrix['problem'] is None
    on_h1 = [s for s in matrix['servers'] if s['host'] == 'h1']
    assert len(on_h1) >= 16
    assert [s['error'] for s in matrix['servers']] == [None] * len(matrix['servers'])


HUNDRED = '''import sys
sys.path.insert(0, {repo!r})
from harness.scenario import Scenario, Server, bind, connect, explicit
from topologies.wrong_host import WrongHostTopo
scenarios = [Scenario(
    name='hundred-servers', title='100 servers on h1', topo=WrongHostTopo,
    servers=tuple(Server('h1', '10.0.0.1', 8000 + n) for n in range(100)),
    cases=(bind('h1', '10.0.0.1', 8099, explicit('EADDRINUSE', 'a server holds it')),
           connect('h2', '10.0.0.1', 8000, explicit('OK', 'the first server')),
           connect('h3', '10.0.0.1', 8099, explicit('OK', 'the last server'))))]
'''


def test_a_hundred_servers_on_one_host(tmp_path):
    path = tmp_path / 'hundred.py'
    path.write_text(HUNDRED.format(repo=hu.REPO))
    res = hu.harness('run', 'hundred-servers', '--scenario-file', str(path), '--switch',
                     'lxbr', '--out', str(tmp_path / 'out'))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    matrix = load(tmp_path / 'out' / 'latest' / 'hundred-servers' / 'matrix.json')
    assert matrix['problem'] is None
    assert sorted(s['port'] for s in matrix['servers'] if s['record'] and
                  s['record']['ok']) == list(range(8000, 8100))
    assert [c['verdict'] for c in matrix['cells']] == ['pass'] * 3
