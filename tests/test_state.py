"""The state file and clean-net: what a run records, what clean-net removes, what it
leaves alone.  Real processes, namespaces and interfaces; the real command line.

Run under the machine's Mininet lock:
    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_state.py
Most tests plant a state file in a folder of their own ($BINDLAB_RUN_DIR) naming
processes and interfaces the test made, run `python3 -m harness clean-net`, and check
which of them are still there.
"""

import json
import os
import signal
import subprocess
import time

import pytest

import harness_util as hu
from harness import procs, state

# Every test needs root, starts on a clean machine and must leave it clean.
root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)

RUN_ID = 'test-run'


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    """A run folder of this test's own: the harness's runs and clean-net use it."""
    path = tmp_path / 'run'
    path.mkdir()
    base = hu.env()
    monkeypatch.setattr(hu, 'env', lambda: dict(base, BINDLAB_RUN_DIR=str(path)))
    return path


@pytest.fixture
def spawn():
    """spawn(argv, **popen_kwargs) -> Popen of a process leading its own session;
    after the test each one's process group is killed and the process reaped."""
    started = []

    def start(argv, **kwargs):
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
        started.append(proc)
        return proc
    yield start
    for proc in started:
        try:
            os.killpg(proc.pid, signal.SIGKILL)    # what it started goes too
        except ProcessLookupError:
            pass
        proc.wait()


def plant(run_dir, **fields):
    """Write a state file (version 2, run RUN_ID) with fields overriding the empty one."""
    data = {'version': 2, 'run_id': RUN_ID, 'pid': 999999, 'pids': {}, 'netns': [],
            'links': [], 'bridges': [], 'ovs_bridges': []}
    data.update(fields)
    write(run_dir, json.dumps(data))
    return data


def write(run_dir, text):
    (run_dir / 'state.json').write_text(text)


def wait_until(predicate, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f'never happened: {what}'
        time.sleep(0.01)


def words(pid):
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            return [w.decode() for w in f.read().split(b'\0') if w]
    except OSError:
        return []


def running(proc, argv0):
    """Wait until proc has exec'd argv0 (its cmdline says so); returns proc."""
    wait_until(lambda: words(proc.pid)[:1] == [argv0], f'{proc.pid} runs {argv0}')
    return proc


def recorded(proc, marker, start_shift=0):
    """A state-file identity of proc (start time shifted: an earlier process)."""
    return {'pid': proc.pid, 'start': hu.start_time(proc.pid) + start_shift,
            'marker': marker}


def pids_of(*idents):
    return {str(i['pid']): i for i in idents}


def new_netns(spawn):
    """A process alone in a new network namespace (a host shell, for the tests)."""
    proc = spawn(['unshare', '-n', 'sleep', '600'])
    running(proc, 'sleep')
    wait_until(lambda: hu.netns_ino(proc.pid) not in (None, hu.netns_ino('self')),
               'the new namespace')
    return proc


def enter(spawn, host_proc, argv):
    """A process started inside host_proc's network namespace."""
    proc = spawn(['nsenter', f'--net=/proc/{host_proc.pid}/ns/net', '--'] + argv)
    return running(proc, argv[0])


def fake_netprobe(tmp_path):
    """A program called netprobe (it sleeps): what clean-net looks for in a netns."""
    path = tmp_path / 'netprobe'
    path.symlink_to('/bin/sleep')
    return str(path)


def netns_entry(host, proc, ino=None):
    return {'host': host, 'pid': proc.pid, 'start': hu.start_time(proc.pid),
            'ino': ino or hu.netns_ino(proc.pid)}


def clean_net():
    res = hu.harness('clean-net')
    assert 'Traceback' not in res.stderr, res.stderr
    return res


# -- 6: a state file that is not one is refused, never taken for an empty one ----------

GOOD = {'version': 2, 'run_id': RUN_ID, 'pid': 1, 'pids': {}, 'netns': [], 'links': [],
        'bridges': [], 'ovs_bridges': []}


@pytest.mark.parametrize('text, problem', [
    ('{"run_id": "x", "pids": {', 'not JSON'),
    ('', 'not JSON'),
    ('{}', 'the file has no "version"'),
    ('[]', 'the file is an array, not an object'),
    ('"state"', 'the file is a string, not an object'),
    (json.dumps(dict(GOOD, pids=[])), '"pids" is an array, not an object'),
    (json.dumps(dict(GOOD, links='s1-eth1')), '"links" is a string, not an array'),
    (json.dumps(dict(GOOD, pid='1')), '"pid" is a string, not a number'),
    (json.dumps(dict(GOOD, links=[7])), "links holds 7, not an interface name"),
    (json.dumps(dict(GOOD, bridges=['../..'])), "bridges holds '../..'"),
    (json.dumps(dict(GOOD, pids={'12': 'mininet:h1'})), 'pids["12"] is a string'),
    (json.dumps(dict(GOOD, pids={'12': {'pid': 12, 'marker': 'x'}})),
     'pids["12"] has no "start"'),
    (json.dumps(dict(GOOD, netns=[{'host': 'h1', 'pid': 5, 'start': 9}])),
     'netns[0] has no "ino"'),
    (json.dumps(dict(GOOD, version=1)), 'version 1'),
    (json.dumps({k: v for k, v in GOOD.items() if k != 'version'}), 'no "version"'),
])
def test_clean_net_refuses_a_state_file_that_is_not_one(run_dir, text, problem):
    write(run_dir, text)
    res = clean_net()
    assert res.returncode == 2, res.stdout + res.stderr
    path = str(run_dir / 'state.json')
    assert f'{path} is not a bindlab state file' in res.stderr
    assert problem in res.stderr
    assert 'inspect it' in res.stderr
    assert (run_dir / 'state.json').read_text() == text, 'the file must stay for a look'


def test_run_refuses_a_corrupt_state_file_and_builds_nothing(run_dir, tmp_path):
    write(run_dir, '{"run_id": ')
    before = hu.snapshot()
    res = hu.harness('run', 'wrong-host', '--switch', 'lxbr', '--out', str(tmp_path))
    assert res.returncode == 2, res.stdout + res.stderr
    assert 'Traceback' not in res.stderr
    assert f'{run_dir / "state.json"} is not a bindlab state file (not JSON' in res.stderr
    assert hu.snapshot() == before
    assert (run_dir / 'state.json').read_text() == '{"run_id": '


def test_state_write_never_follows_a_planted_symlink(tmp_path, monkeypatch):
    monkeypatch.setattr(state, 'RUN_DIR', str(tmp_path))
    victim = tmp_path / 'victim'
    victim.write_text('precious')
    os.symlink(victim, f'{state.state_path()}.tmp{os.getpid()}')   # the old temp name
    run = state.State(RUN_ID)
    run.add_names(links=['s1-eth1'])
    assert victim.read_text() == 'precious'
    assert state.read_state()['links'] == ['s1-eth1']


# -- 10: a recorded PID is stopped only while it is the recorded process ---------------

def test_clean_net_stops_only_the_recorded_processes(run_dir, spawn):
    ours = running(spawn(['sleep', '600']), 'sleep')
    shell = running(spawn(['bash', '--norc', '--noediting', '-is', 'mininet:h1'],
                          stdin=subprocess.PIPE, stderr=subprocess.DEVNULL), 'bash')
    reused = running(spawn(['sleep', '600']), 'sleep')
    other_shell = running(spawn(['sh', '-c', 'sleep 600; :']), 'sh')
    h10 = running(spawn(['/usr/bin/python3', '-c', 'import time; time.sleep(600)',
                         'mininet:h10']), '/usr/bin/python3')
    keep = [recorded(reused, 'sleep', -1),          # same PID, an earlier process
            recorded(other_shell, 'sh', -1),
            recorded(h10, 'mininet:h1')]             # h1's marker is not h10's
    stop = [recorded(ours, 'sleep'), recorded(shell, 'mininet:h1')]
    plant(run_dir, pids=pids_of(*keep, *stop))
    res = clean_net()
    assert res.returncode == 0, res.stdout + res.stderr
    for proc in (reused, other_shell, h10):
        assert proc.poll() is None, f'{words(proc.pid)} was killed but is not ours'
    for ident in stop:
        assert not hu.alive(ident['pid'], ident), f'{ident} survived clean-net'
    assert not (run_dir / 'state.json').exists()


def test_stop_reaps_a_popen_and_ends_its_process_group(spawn):
    leader = running(spawn(['sh', '-c', 'sleep 600 & wait']), 'sh')
    wait_until(lambda: children(leader.pid), 'the sleep child')
    child = children(leader.pid)[0]
    assert procs.stop([leader], grace_s=5) == []
    assert leader.returncode == -signal.SIGTERM     # reaped: no zombie left
    wait_until(lambda: hu.start_time(child) is None, 'the child ends with its group')


def test_stop_kills_what_ignores_sigterm_after_the_grace(spawn):
    proc = running(spawn(['sh', '-c', 'trap "" TERM; sleep 600; :']), 'sh')
    assert procs.stop([proc], grace_s=0.2) == []
    assert proc.returncode == -signal.SIGKILL


def test_stop_never_signals_a_pid_that_is_no_longer_the_recorded_process(spawn):
    proc = running(spawn(['sleep', '600']), 'sleep')
    assert procs.stop([recorded(proc, 'sleep', -1), recorded(proc, 'slee')]) == []
    assert proc.poll() is None


def children(pid):
    with open(f'/proc/{pid}/task/{pid}/children') as f:
        return [int(p) for p in f.read().split()]


# -- 11: a namespace is the run's only while something the run put there proves it -----

def test_a_reused_namespace_inode_is_not_the_runs(run_dir, spawn, tmp_path):
    old_shell = new_netns(spawn)
    entry = netns_entry('h1', old_shell)
    old_shell.kill()
    old_shell.wait()
    new_host = new_netns(spawn)        # the kernel may hand out the same inode again
    stranger = enter(spawn, new_host, [fake_netprobe(tmp_path), '600'])
    # What the reuse looks like: the recorded inode is now the new namespace's.
    plant(run_dir, netns=[dict(entry, ino=hu.netns_ino(new_host.pid))])
    res = clean_net()
    assert res.returncode == 0, res.stdout + res.stderr
    assert stranger.poll() is None and new_host.poll() is None, \
        'clean-net killed processes of a namespace the run did not make'


def test_clean_net_empties_a_namespace_whose_shell_is_still_the_runs(run_dir, spawn,
                                                                     tmp_path):
    shell = new_netns(spawn)
    unrecorded = enter(spawn, shell, [fake_netprobe(tmp_path), '600'])
    plant(run_dir, pids=pids_of(recorded(shell, 'sleep')),
          netns=[netns_entry('h1', shell)])
    res = clean_net()
    assert res.returncode == 0, res.stdout + res.stderr
    wait_until(lambda: unrecorded.poll() is not None and shell.poll() is not None,
               'both processes of the namespace end')


def test_a_recorded_process_proves_the_namespace_when_its_shell_is_gone(run_dir, spawn,
                                                                      tmp_path):
    shell = new_netns(spawn)
    probe = enter(spawn, shell, [fake_netprobe(tmp_path), '600'])
    unrecorded = enter(spawn, shell, ['sleep', '600'])
    entry = netns_entry('h1', shell)
    shell.kill()
    shell.wait()
    plant(run_dir, pids=pids_of(recorded(probe, 'netprobe')), netns=[entry])
    res = clean_net()
    assert res.returncode == 0, res.stdout + res.stderr
    wait_until(lambda: unrecorded.poll() is not None and probe.poll() is not None,
               'the recorded and the unrecorded process end')
