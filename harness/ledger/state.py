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
The $BINDLAB_RUN_DIR environment variable moves /run/bindlab (the tests use it).
read_state() checks that shape and raises StateError on anything else (not JSON, not
an object, a field missing or of the wrong type): a state file it cannot read is never
taken for an empty one.

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
import functools
import glob
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile

from .. import files
from ..errors import BadInput, UsageError
from . import fwrules, procs
from .ifaces import (await_veths_of_gone_namespaces, foreign_names, interfaces,
                     is_interface_name, names_left, OVS_MARK_KEY, remove_names, run_mark)

RUN_DIR = os.environ.get('BINDLAB_RUN_DIR', '/run/bindlab')
VERSION = 2


class LockBusy(UsageError):
    """Another run (or clean-net) holds the lock."""


class StateError(UsageError):
    """The state file is not one bindlab wrote; the message names it and what to do."""


def lock_path():
    return os.path.join(RUN_DIR, 'lock')


SHM_DIR = '/dev/shm/bindlab'


def work_folder(prefix):
    """A fresh folder (mkdtemp: 0700, a name nobody could plant) for a run's work
    files: servers' logs, batches' FIFOs and records, the shells' outputs.  In
    RUN_DIR when RUN_DIR is in memory (tmpfs, as /run is on most machines), else in
    SHM_DIR: a file made on disk cost ~1.5 ms where /run is on disk (0.6 s for the
    400 outputs of one readiness check at 200 hosts; in /dev/shm 0.15 s).  Its name
    carries this process's identity (owned_folder), so that the next session can
    prove it dead and sweep it (sweep_dead_folders)."""
    return owned_folder(prefix, _work_root())


def owned_folder(prefix, where):
    """mkdtemp in where, named PREFIX<pid>.<start time>.<pid namespace inode>-XXXXXXXX:
    the process that owns it, as procs.alive can check it."""
    me = os.getpid()
    return tempfile.mkdtemp(prefix=f'{prefix}{me}.{procs.start_time(me)}.'
                                   f'{_pidns_ino("self")}-', dir=where)


# what owned_folder's names say: their owner's PID, start time and PID namespace
_OWNER = re.compile(r'^(?:work|bin)-(?:[a-z]+-)?(\d+)\.(\d+)\.(\d+)-[^/]+$')


def _pidns_ino(pid):
    try:
        return os.stat(f'/proc/{pid}/ns/pid').st_ino
    except OSError:
        return None


def folder_owner(path):
    """The identity ({'pid', 'start', 'marker'}) and PID namespace inode of the owner an
    owned_folder name records, or (None, None) for a name that records none."""
    match = _OWNER.match(os.path.basename(path))
    if not match:
        return None, None
    pid, start, pidns = (int(g) for g in match.groups())
    return {'pid': pid, 'start': start, 'marker': None}, pidns


def _owned_folders():
    """Paths of the work folders (both roots) and lab bin folders there may be."""
    return sorted(set(glob.glob(os.path.join(_work_root(), 'work-*')) +
                      glob.glob(os.path.join(RUN_DIR, 'work-*')) +
                      glob.glob(os.path.join(RUN_DIR, 'bin-*'))))


def sweep_dead_folders(legacy=False):
    """Remove the work and bin folders whose owner is provably gone: the process their
    name records (same start time, same PID namespace as ours) no longer runs.  A
    folder of a live process, or of another PID namespace, is left alone; with legacy,
    also names that record no owner (an older bindlab's; clean-net's sweep).
    Returns the paths removed."""
    here, removed = _pidns_ino('self'), []
    for path in _owned_folders():
        owner, pidns = folder_owner(path)
        dead = owner is not None and pidns == here and not procs.alive(owner)
        if dead or (legacy and owner is None):
            _remove(path)
            removed.append(path)
    return removed


def _remove(path):
    """Remove path: a folder with what is in it, anything else (a file, a symlink,
    never followed) by unlink."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


@functools.lru_cache(maxsize=None)
def _work_root():
    """RUN_DIR, or SHM_DIR where RUN_DIR is on disk and /dev/shm is a tmpfs (SHM_DIR
    made root's own, 0700; one that is anything else is not used)."""
    if _fs_type(RUN_DIR) == 'tmpfs' or _fs_type('/dev/shm') != 'tmpfs':
        return RUN_DIR
    try:
        os.mkdir(SHM_DIR, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return RUN_DIR
    st = os.lstat(SHM_DIR)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        return RUN_DIR      # planted by someone else: never written through
    return SHM_DIR


def _fs_type(path):
    """The file system type of the mount path is on (/proc/self/mountinfo), or None."""
    path, best, kind = os.path.realpath(path), '', None
    try:
        with open('/proc/self/mountinfo') as f:
            for line in f:
                left, _, right = line.partition(' - ')
                point = left.split()[4].replace('\\040', ' ')
                inside = path == point or path.startswith(point.rstrip('/') + '/')
                if inside and len(point) >= len(best):
                    best, kind = point, right.split()[0]
    except (OSError, IndexError):
        return None
    return kind


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


# -- reading and checking a state file -------------------------------------------------

FIELDS = {'version': int, 'run_id': str, 'pid': int, 'pids': dict, 'netns': list,
          'links': list, 'bridges': list, 'ovs_bridges': list}
IDENTITY_FIELDS = {'pid': int, 'start': int, 'marker': (str, type(None))}
NETNS_FIELDS = {'host': str, 'pid': int, 'start': int, 'ino': int}
JSON_TYPES = {bool: 'true/false', int: 'a number', float: 'a number', str: 'a string',
              dict: 'an object', list: 'an array', type(None): 'null'}


def read_state():
    """The recorded state of an earlier run, or None if there is none.

    Raises StateError when the file cannot be read or is not a bindlab state file.
    """
    path = state_path()
    try:
        raw = files.read_bytes(path, 'state file', missing_ok=True)
    except BadInput as exc:
        raise state_error(f'cannot be read: {exc}') from None
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode('utf-8'))
    except UnicodeDecodeError as exc:
        raise state_error(f'cannot be read: {exc}') from None
    except ValueError as exc:
        raise state_error(f'not JSON: {exc}') from None
    problem = shape_problem(data)
    if problem:
        raise state_error(problem)
    return data


def state_error(problem):
    return StateError(f'{state_path()} is not a bindlab state file ({problem}): inspect '
                      'it, remove what it names by hand (processes, interfaces), then '
                      'delete it')


def shape_problem(data):
    """What is wrong with data as a state file (text), or None when nothing is."""
    problem = fields_problem(data, FIELDS, 'the file')
    if problem:
        return problem
    if data['version'] != VERSION:
        return f'version {data["version"]}, this bindlab reads version {VERSION}'
    for key, ident in data['pids'].items():
        problem = fields_problem(ident, IDENTITY_FIELDS, f'pids["{key}"]')
        if problem:
            return problem
        if key != str(ident['pid']):
            return f'pids["{key}"] records pid {ident["pid"]}'
    for n, entry in enumerate(data['netns']):
        problem = fields_problem(entry, NETNS_FIELDS, f'netns[{n}]')
        if problem:
            return problem
    for key in ('links', 'bridges', 'ovs_bridges'):
        bad = [name for name in data[key] if not is_interface_name(name)]
        if bad:
            return f'{key} holds {bad[0]!r}, not an interface name'
    if not isinstance(data.get('fw_rules', []), list):
        return '"fw_rules" is not an array'
    for n, entry in enumerate(data.get('fw_rules', [])):
        problem = fwrules.entry_problem(entry, f'fw_rules[{n}]')
        if problem:
            return problem
    return None


def fields_problem(obj, fields, where):
    """What is wrong with obj as an object with these typed fields, or None."""
    if not isinstance(obj, dict):
        return f'{where} is {json_type(obj)}, not an object'
    for key, kind in fields.items():
        if key not in obj:
            return f'{where} has no "{key}"'
        value, kinds = obj[key], kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) or not isinstance(value, kinds):
            want = ' or '.join(JSON_TYPES[k] for k in kinds)
            return f'{where}: "{key}" is {json_type(value)}, not {want}'
    return None


def json_type(value):
    return JSON_TYPES.get(type(value), type(value).__name__)


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

