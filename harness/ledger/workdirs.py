"""Where a run's files go: the run folder, and the work folders a session makes and
the next one sweeps.

RUN_DIR            /run/bindlab, or $BINDLAB_RUN_DIR: the run lock, the state file
                   (state.py, statefile.py), the lab file.  The ledger reads it as
                   workdirs.RUN_DIR at each use: a test that assigns it moves them all.
work folders       a fresh folder each (mkdtemp: 0700, a name nobody could plant) for
                   servers' logs, batches' FIFOs and records, the shells' outputs: in
                   RUN_DIR when it is in memory (tmpfs, as /run is on most machines),
                   else in SHM_DIR (/dev/shm/bindlab, root's own, 0700), shared by every
                   RUN_DIR: a file made on disk costs far more (work_folder).
owned names        PREFIX<pid>.<start time>.<pid namespace inode>-XXXXXXXX: the process
                   that made the folder, as procs.alive checks it (work-*, and the
                   lab's bin-* in RUN_DIR).  sweep_dead_folders removes a folder only
                   when that process is provably gone, so a live run under another
                   RUN_DIR keeps its own.

This is a ledger module, not part of harness/files.py: files.py is the base every
stage uses and knows no process, while a work folder's name is an identity
(procs.start_time) and sweeping one is proving its owner dead (procs.alive).
"""

import functools
import glob
import os
import re
import shutil
import stat
import tempfile

from . import procs

RUN_DIR = os.environ.get('BINDLAB_RUN_DIR', '/run/bindlab')
SHM_DIR = '/dev/shm/bindlab'


def work_folder(prefix):
    """A fresh folder (mkdtemp: 0700, a name nobody could plant) for a run's work
    files: servers' logs, batches' FIFOs and records, the shells' outputs.  In
    RUN_DIR when RUN_DIR is in memory (tmpfs, as /run is on most machines), else in
    SHM_DIR: one readiness check at 200 hosts alone writes 400 outputs, and a file
    made on disk costs far more than one made in memory.  Its name
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
