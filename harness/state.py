"""The run lock and the state file: what a run created, so exactly that can be removed.

/run/bindlab/lock      fcntl.flock'ed for the whole run (and by clean-net): a second
                       run fails at once instead of fighting over interface names.
/run/bindlab/state.json  rewritten whole (tmp + os.replace) each time something is
                       about to be created or has been created:
    {"run_id": ..., "pid": ..., "pids": {"1234": "mininet:h1", ...},
     "netns": [{"host": "h1", "ino": 4026532951}, ...],
     "links": ["s1-eth1", ...], "bridges": ["s1"], "ovs_bridges": []}

A PID is recorded with a marker string that its /proc/PID/cmdline must still contain
when it is killed, so a PID the kernel has reused for something else is never touched.
A process is spawned before its PID can be written down, so a SIGKILL in between would
hide it: every host's network namespace is therefore recorded too (the inode of
/proc/PID/ns/net of its shell), and clean-net also ends every netprobe found running
in one of those namespaces -- processes inside a namespace this run created are this
run's by construction.
Names are recorded BEFORE they are created, so a SIGKILL in the middle of building
still leaves a complete list; removing a name that does not exist is not an error.
"""

import errno
import fcntl
import json
import os
import signal
import subprocess
import time

RUN_DIR = os.environ.get('BINDLAB_RUN_DIR', '/run/bindlab')


class LockBusy(Exception):
    """Another run (or clean-net) holds the lock."""


def lock_path():
    return os.path.join(RUN_DIR, 'lock')


def state_path():
    return os.path.join(RUN_DIR, 'state.json')


def acquire_lock():
    """Take the run lock without waiting; returns the open file (keep it open).

    Raises LockBusy naming the holder's PID when another process holds it.
    """
    os.makedirs(RUN_DIR, exist_ok=True)
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = os.pread(fd, 64, 0).decode(errors='replace').strip() or '?'
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise LockBusy(f'another bindlab run (pid {holder}) holds {lock_path()}; '
                           'wait for it to finish') from None
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f'{os.getpid()}\n'.encode(), 0)
    return fd


def release_lock(fd):
    """Drop the lock taken by acquire_lock()."""
    os.ftruncate(fd, 0)
    os.close(fd)


def empty_state(run_id):
    return {'run_id': run_id, 'pid': os.getpid(), 'pids': {}, 'netns': [], 'links': [],
            'bridges': [], 'ovs_bridges': []}


class State:
    """The state file of the current run: add things, then forget them when removed."""

    def __init__(self, run_id):
        self.data = empty_state(run_id)
        self.save()

    def save(self):
        """Write the state file whole (tmp + rename), flushed to disk."""
        write_json_atomic(state_path(), self.data)

    def add_pid(self, pid, marker):
        """Record a process we started; marker must be in its /proc/PID/cmdline."""
        self.add_pids([pid], marker)

    def add_pids(self, pids, marker):
        """Record several processes with one write of the state file."""
        for pid in pids:
            self.data['pids'][str(pid)] = marker
        self.save()

    def drop_pid(self, pid):
        """Forget a process that has exited."""
        self.drop_pids([pid])

    def drop_pids(self, pids):
        """Forget several processes that have exited (one write)."""
        if [self.data['pids'].pop(str(pid), None) for pid in pids] != [None] * len(pids):
            self.save()

    def add_netns(self, host, pid):
        """Record the network namespace host's shell (pid) lives in."""
        self.data.setdefault('netns', []).append({'host': host, 'ino': netns_ino(pid)})
        self.save()

    def add_names(self, links=(), bridges=(), ovs_bridges=()):
        """Record root-namespace interfaces and bridges we are about to create."""
        for key, names in (('links', links), ('bridges', bridges),
                           ('ovs_bridges', ovs_bridges)):
            for name in names:
                if name not in self.data[key]:
                    self.data[key].append(name)
        self.save()

    def remove(self):
        """Delete the state file (everything it named is gone)."""
        try:
            os.unlink(state_path())
        except FileNotFoundError:
            pass


def write_json_atomic(path, data):
    """Write data as JSON to path whole or not at all.

    No fsync: the file guards against a killed process (whose writes the kernel
    keeps), not against a power cut, which takes the namespaces with it anyway.
    """
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(data, f, sort_keys=True)
    os.replace(tmp, path)


def read_state():
    """The recorded state of an earlier run, or None if there is none."""
    try:
        with open(state_path()) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return {'corrupt': str(exc), 'pids': {}, 'links': [], 'bridges': [],
                'ovs_bridges': []}


def netns_ino(pid):
    """The inode of process pid's network namespace, or None."""
    try:
        return os.stat(f'/proc/{int(pid)}/ns/net').st_ino
    except (OSError, ValueError):
        return None


def processes_in(netns, marker='netprobe'):
    """{pid text: marker} of processes running in the recorded namespaces whose
    cmdline holds marker (the root namespace is never one of them)."""
    inos = {n['ino'] for n in netns if n.get('ino')} - {netns_ino(1), netns_ino('self')}
    found = {}
    if not inos:
        return found
    for entry in os.listdir('/proc'):
        if entry.isdigit() and netns_ino(entry) in inos and pid_matches(entry, marker):
            found[entry] = marker
    return found


def pid_matches(pid, marker):
    """True if process pid is alive and its cmdline contains marker."""
    try:
        with open(f'/proc/{int(pid)}/cmdline', 'rb') as f:
            cmdline = f.read().replace(b'\0', b' ').decode(errors='replace')
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return False
    return marker in cmdline


def link_exists(name):
    """True if the root namespace has an interface called name."""
    return os.path.exists(f'/sys/class/net/{name}')


def leftovers(state):
    """What of a recorded state still exists: a list of 'kind name' strings."""
    if state is None:
        return []
    pids = dict(state['pids'], **processes_in(state.get('netns', [])))
    found = [f'process {pid} ({marker})' for pid, marker in pids.items()
             if pid_matches(pid, marker)]
    found += [f'interface {name}' for name in state['links'] + state['bridges']
              if link_exists(name)]
    found += [f'ovs bridge {name}' for name in state['ovs_bridges'] if ovs_bridge_exists(name)]
    return found


def ovs_bridge_exists(name):
    """True if the OVS database has bridge name (False when OVS is not running)."""
    try:
        res = subprocess.run(['ovs-vsctl', '--timeout=3', 'br-exists', name],
                             capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


def kill_recorded(pids, log=lambda msg: None, grace_s=2.0):
    """SIGTERM then SIGKILL each recorded process still matching its marker.

    pids: {pid text: marker}.  Returns the PIDs that would not die.
    """
    alive = {int(p): m for p, m in pids.items() if pid_matches(p, m)}
    for pid, marker in alive.items():
        log(f'stopping process {pid} ({marker})')
        _signal(pid, signal.SIGTERM)
        _signal(pid, signal.SIGHUP)     # Mininet's interactive host shells ignore TERM
    deadline = time.monotonic() + grace_s
    while alive and time.monotonic() < deadline:
        alive = {p: m for p, m in alive.items() if pid_matches(p, m)}
        time.sleep(0.05)
    for pid, marker in alive.items():
        if pid_matches(pid, marker):
            _signal(pid, signal.SIGKILL)
    time.sleep(0.1)
    return [p for p, m in alive.items() if pid_matches(p, m)]


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def remove_names(state, log=lambda msg: None):
    """Delete the recorded interfaces, bridges and OVS bridges that still exist.

    Returns the names that could not be removed.
    """
    stuck = []
    for name in state['ovs_bridges']:
        if ovs_bridge_exists(name):
            log(f'deleting ovs bridge {name}')
            subprocess.run(['ovs-vsctl', '--timeout=5', '--if-exists', 'del-br', name],
                           capture_output=True, timeout=15)
    for name in state['links'] + state['bridges']:
        if not link_exists(name):
            continue
        log(f'deleting interface {name}')
        subprocess.run(['ip', 'link', 'del', 'dev', name], capture_output=True,
                       timeout=15)
        if link_exists(name):
            stuck.append(name)
    return stuck


def clean(state, log=lambda msg: None):
    """Remove everything state records; returns what is still there (empty = clean)."""
    kill_recorded(state['pids'], log)
    kill_recorded(processes_in(state.get('netns', [])), log)
    remove_names(state, log)
    return leftovers(state)


def remove_stale_files():
    """Work folders and half-written state files of killed runs (call under the lock)."""
    import glob
    import shutil
    for path in glob.glob(os.path.join(RUN_DIR, 'work-*')):
        shutil.rmtree(path, ignore_errors=True)
    for path in glob.glob(state_path() + '.tmp*'):
        os.unlink(path)
