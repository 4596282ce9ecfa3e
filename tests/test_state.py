"""The state file and clean-net: what a run records, what clean-net removes, what it
leaves alone.  Real processes, namespaces and interfaces; the real command line.

Run under the machine's Mininet lock:
    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_state.py
harness.procs, the one process stopper, is tested here on real processes.
"""

import os
import signal
import subprocess
import time

import pytest

import harness_util as hu
from harness import procs

# Every test needs root, starts on a clean machine and must leave it clean.
root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)


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


# -- 10: a recorded PID is stopped only while it is the recorded process ---------------

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
