"""The run lock and the state file: what a run created, so exactly that can be removed.

/run/bindlab/lock        fcntl.flock'ed for the whole run (and by clean-net): a second
                         run fails at once instead of fighting over interface names.
/run/bindlab/state.json  rewritten whole each time something is about to be created or
                         has been created (a temp file made by mkstemp in the same
                         folder, O_EXCL|O_NOFOLLOW, then os.replace):
    {"version": 2, "run_id": "20261125-121314-4242", "pid": 4242,
     "pids": {"1234": {"pid": 1234, "start": 5678901, "marker": "mininet:h1"}, ...},
     "netns": [{"host": "h1", "pid": 1234, "start": 5678901, "ino": 4026532951}, ...],
     "links": ["s1-eth1", ...], "bridges": ["s1"], "ovs_bridges": [],
     "fw_rules": [{"cmd": "iptables", "chain": "DOCKER-USER", "bridge": "s1"}]}
fw_rules (harness/ledger/fwrules.py: accept rules for the run's bridges when FORWARD drops,
as beside Docker) may be absent in a file of an older bindlab: none were added.
The $BINDLAB_RUN_DIR environment variable moves /run/bindlab (harness/ledger/workdirs.py,
which also places the run's work folders).  harness/ledger/statefile.py reads it back:
read_state() checks that shape and raises StateError on anything else: a state file it
cannot read is never taken for an empty one.

What is this run's (the identity rules; never remove what cannot be proved ours):
- Processes: each one's identity (harness.procs: PID, start time, marker) is recorded
  right after it is spawned; it is stopped only while it still is that process
  (same start time, marker a word of its command line, see harness/ledger/procs.py).
- Namespaces: a host's network namespace is recorded with its shell's identity and
  the namespace inode.  Inodes are reused (a new namespace may get the inode of one
  that is gone), so a recorded namespace counts as this run's only while its shell
  still is the recorded process in that inode, or while another recorded process
  still lives in it.  Then every process in it is this run's by construction, also
  ones spawned in the moment before their PID was written down.  A namespace with
  none of these proofs is left alone (once its own processes are gone, it is too:
  the run never bind-mounts one).
- Interfaces and bridges: names are recorded BEFORE they are created, so a SIGKILL in
  the middle of building still leaves a complete list.  Right after creating one,
  the run marks it: alias `bindlab:<run_id>` on a root-namespace interface or Linux
  bridge, external-ids:bindlab=<run_id> on an OVS bridge.  clean-net deletes only
  what carries the mark; an interface that has a recorded name but not the mark is
  left alone and reported (someone else may have made it since).
  The window between creation and marking: a run killed there (or interrupted while
  a host shell still runs the `ip link add` it was sent) leaves one unmarked
  interface.  A veth whose other end is in a host's namespace goes with that
  namespace once its processes are stopped (the kernel destroys it asynchronously:
  clean() waits up to ifaces.NETNS_TEARDOWN_S); a switch-to-switch veth or a bridge stays,
  and clean-net names it ("exists but is not this run's") for removal by hand.
"""

import contextlib
import errno
import fcntl
import glob
import os
import subprocess

from .. import files
from ..errors import UsageError
from . import fwrules, procs, workdirs
from .ifaces import (await_veths_of_gone_namespaces, foreign_names, interfaces,
                     names_left, OVS_MARK_KEY, remove_names, run_mark)
from .statefile import state_path, VERSION
from .workdirs import sweep_dead_folders


class LockBusy(UsageError):
    """Another run (or clean-net) holds the lock."""


def lock_path():
    return os.path.join(workdirs.RUN_DIR, 'lock')


def acquire_lock():
    """Take the run lock without waiting; returns the open file (keep it open).

    Raises LockBusy naming the holder's PID when another process holds it.
    """
    os.makedirs(workdirs.RUN_DIR, exist_ok=True)
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
    return {'version': VERSION, 'run_id': run_id, 'pid': os.getpid(), 'pids': {},
            'netns': [], 'links': [], 'bridges': [], 'ovs_bridges': [], 'fw_rules': []}


class State:
    """The state file of the current run: add things, then forget them when removed."""

    def __init__(self, run_id):
        self.data = empty_state(run_id)
        self._deferred = None
        self.save()

    def save(self):
        """Write the state file whole (temp file + rename); inside batched(), once at
        its end."""
        if self._deferred is not None:
            self._deferred = True
            return
        files.write_json(state_path(), self.data, sort_keys=True)

    @contextlib.contextmanager
    def batched(self):
        """Record many things with one write: the changes made inside the block are
        written when it ends, also when it ends with an exception."""
        outer = self._deferred is not None
        if not outer:
            self._deferred = False
        try:
            yield self
        finally:
            if not outer:
                changed, self._deferred = self._deferred, None
                if changed:
                    self.save()

    def add_pid(self, pid, marker):
        """Record a process we started; marker: a word of its command line."""
        self.add_pids([pid], marker)

    def add_pids(self, pids, marker):
        """Record several processes with one write (one that already ended is not)."""
        for pid in pids:
            ident = procs.identity(pid, marker)
            if ident['start'] is not None:
                self.data['pids'][str(pid)] = ident
        self.save()

    def drop_pid(self, pid):
        """Forget a process that has exited."""
        self.drop_pids([pid])

    def drop_pids(self, pids):
        """Forget several processes that have exited (one write)."""
        if [self.data['pids'].pop(str(pid), None) for pid in pids] != [None] * len(pids):
            self.save()

    def add_netns(self, host, pid):
        """Record the network namespace host's shell (pid) lives in, with the shell."""
        ident = procs.identity(pid)
        ino = netns_ino(pid)
        if ident['start'] is None or ino is None:
            return      # the shell is gone already, and its namespace with it
        self.data['netns'].append({'host': host, 'pid': ident['pid'],
                                   'start': ident['start'], 'ino': ino})
        self.save()

    def add_names(self, links=(), bridges=(), ovs_bridges=()):
        """Record root-namespace interfaces and bridges we are about to create."""
        for key, names in (('links', links), ('bridges', bridges),
                           ('ovs_bridges', ovs_bridges)):
            for name in names:
                if name not in self.data[key]:
                    self.data[key].append(name)
        self.save()

    def add_fw_rules(self, entries):
        """Record firewall rules (fwrules.py) we are about to add."""
        rules = self.data.setdefault('fw_rules', [])
        rules += [e for e in entries if e not in rules]
        self.save()

    def mark_interface(self, name):
        """Mark root-namespace interface or Linux bridge name (just created) as this
        run's; a name that was not recorded first is left as it is."""
        if name in self.data['links'] + self.data['bridges']:
            subprocess.run(['ip', 'link', 'set', 'dev', name, 'alias',
                            run_mark(self.data)], capture_output=True, timeout=15)

    def ovs_bridge_mark(self):
        """The `ovs-vsctl set bridge` setting that marks an OVS bridge as this run's
        (given in the transaction that adds the bridge)."""
        return f'external-ids:{OVS_MARK_KEY}={self.data["run_id"]}'

    def forget_all(self):
        """Forget every process, namespace and name (all removed); one write."""
        self.data.update(pids={}, netns=[], links=[], bridges=[], ovs_bridges=[],
                         fw_rules=[])
        self.save()

    def remove(self):
        """Delete the state file (everything it named is gone)."""
        try:
            os.unlink(state_path())
        except FileNotFoundError:
            pass


# -- processes and namespaces ----------------------------------------------------------

def netns_ino(pid):
    """The inode of process pid's network namespace, or None."""
    try:
        return os.stat(f'/proc/{int(pid)}/ns/net').st_ino
    except (OSError, ValueError):
        return None


def netns_of(ident):
    """The namespace inode of the process ident names, or None when it is gone (or no
    longer that process: checked before and after reading the inode)."""
    if not procs.is_same(ident):
        return None
    ino = netns_ino(ident['pid'])
    return ino if procs.is_same(ident) else None


def proven_netns(netns, recorded=()):
    """Inodes of the recorded namespaces that are provably still this run's: their
    shell is the recorded process in that namespace, or a recorded process (one of
    the identities in recorded) lives in it.  The root namespace never is one."""
    live = {netns_of(ident) for ident in recorded}
    proven = set()
    for entry in netns:
        shell = {'pid': entry['pid'], 'start': entry['start'], 'marker': None}
        if netns_of(shell) == entry['ino'] or entry['ino'] in live:
            proven.add(entry['ino'])
    return proven - {netns_ino(1), netns_ino('self'), None}


def processes_in(netns, marker=None, recorded=()):
    """{pid text: identity} of the processes in the provably-ours namespaces among
    netns (see proven_netns); with marker, only those whose command line carries it.

    Each identity's marker is the process's program (argv[0]'s basename) as found.
    """
    inos = proven_netns(netns, recorded)
    found = {}
    if not inos:
        return found
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or netns_ino(entry) not in inos:
            continue
        words = procs.cmdline_words(entry) or []      # empty while it execs
        if marker and not procs.marker_matches(words, marker):
            continue
        ident = procs.identity(entry, os.path.basename(words[0]) if words else None)
        if ident['start'] is not None:
            found[entry] = ident
    return found


def run_processes(state):
    """Identities of every process of the run: recorded ones, and all processes in
    its provably-ours namespaces (including ones never recorded)."""
    recorded = list(state['pids'].values())
    found = processes_in(state['netns'], recorded=recorded)
    return recorded + [ident for pid, ident in found.items() if pid not in state['pids']]


def pid_matches(pid, marker):
    """True if process pid is alive and its command line carries marker (no start
    time: for a PID recorded without one; prefer procs.is_same)."""
    return procs.matches(pid, marker)


# -- what is left, and removing it -----------------------------------------------------

def describe(ident):
    return f'process {ident["pid"]} ({ident["marker"] or "no marker"})'


def leftovers(state):
    """What of this run's recorded state still exists: a list of 'kind name' strings.

    Things with a recorded name that are not provably the run's are not leftovers
    (see foreign_names).
    """
    if state is None:
        return []
    found = [describe(ident) for ident in run_processes(state) if procs.is_same(ident)]
    return found + names_left(state) + fwrules.rules_left(state)


def clean(state, log=lambda msg: None):
    """Remove everything of this run that state records; log what is left alone.

    Returns what of the run is still there (empty = clean).  The processes are
    gathered before any is stopped: a namespace is proved ours by its shell.
    """
    targets = run_processes(state)
    stuck = procs.stop(targets, log=log)
    remove_names(state, log)
    if targets:     # an unmarked veth to a namespace we emptied goes with it
        await_veths_of_gone_namespaces(interfaces(state)[1])
    for line in foreign_names(state):
        log(line)
    fwrules.remove_rules(state, log)
    return [describe(t) for t in targets if t['pid'] in stuck] + names_left(state) + \
        fwrules.rules_left(state)


def remove_stale_files():
    """Work and bin folders of killed runs (sweep_dead_folders, also an older
    bindlab's) and half-written state files (call under the lock)."""
    sweep_dead_folders(legacy=True)
    folder, name = os.path.split(state_path())
    for path in glob.glob(os.path.join(folder, f'.{name}.*.tmp')):   # files.write_file's
        os.unlink(path)
