"""Which processes are the harness's, and the one way the harness stops them.

A process is identified by what it was when it was recorded, an *identity*:
    {"pid": 1234, "start": 5678901, "marker": "mininet:h1"}
    pid     its PID;
    start   its start time: field 22 of /proc/PID/stat (clock ticks after boot), read
            after the last ')' since the command name in field 2 may hold one;
    marker  None, or a word its command line must carry (see marker_matches).
A PID is still ours only while it is alive (not a zombie) with the recorded start
time: the kernel reuses PIDs, but a reused PID belongs to a process started later.
The start time is the proof; the marker is a second check.  A marker is not a
substring: it matches a word of /proc/PID/cmdline whose basename is the marker or
starts with marker + '.'.  So 'mininet:h1' (the argument of Mininet's host shell)
does not match 'mininet:h10', 'sh' does not match 'bash', 'netprobe' matches
/work/build/netprobe, 'harness' matches `python3 -m harness.lab`, 'server.sh' matches
`/bin/sh ./server.sh`.

API
    start_time(pid)             the start time, or None when pid is not alive
    identity(pid, marker=None)  the identity to record right after spawning pid
    cmdline_words(pid)          the words of /proc/PID/cmdline (None: pid is gone)
    marker_matches(words, marker)  the marker rule above, on a list of words
    matches(pid, marker)        alive and the command line carries marker (no start
                                time: for a PID recorded without one)
    is_same(ident)              alive, same start time, marker (if any) matches
    parent(pid)                 its parent's PID, or None when pid is not alive
    groups_of_sessions(sids)    the process groups of every process in those sessions
    stop(targets, grace_s, log) SIGTERM, wait, SIGKILL; returns the PIDs that would
                                not die

stop() takes subprocess.Popen objects (our own children: alive until we reap them, so
their PID cannot be reused meanwhile; they are reaped with poll/wait, no zombies) and
identities (recorded by an earlier process: re-checked with is_same before every
signal, never signalled once they no longer match).  A process that leads its own
process group (the hosts' popen starts each command in a new session) gets the signal
to its group, so what it started goes too; otherwise the PID alone.  Mininet's host
shells are interactive bash, which ignores SIGTERM: a target whose marker starts with
'mininet:' also gets SIGHUP.
"""

import os
import signal
import subprocess
import time

POLL_S = 0.02
KILL_WAIT_S = 1.0     # after SIGKILL only an uninterruptible sleep can delay the end


def _stat_fields(pid):
    """Fields 3.. of /proc/PID/stat (index 0 is the state), or None."""
    try:
        with open(f'/proc/{int(pid)}/stat') as f:
            text = f.read()
    except (OSError, ValueError):
        return None
    return text.rsplit(')', 1)[1].split()


def start_time(pid):
    """Start time of pid (field 22 of /proc/PID/stat), or None if it is not alive."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ('Z', 'X'):
        return None
    return int(fields[19])


def parent(pid):
    """The PID of pid's parent (field 4 of /proc/PID/stat), or None if it is not alive."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ('Z', 'X'):
        return None
    return int(fields[1])


def groups_of_sessions(sids):
    """The process group IDs of every live process whose session is one of sids
    (fields 5 and 6 of /proc/PID/stat)."""
    sids, groups = set(sids), set()
    if not sids:
        return groups
    for entry in os.listdir('/proc'):
        fields = _stat_fields(entry) if entry.isdigit() else None
        if fields and fields[0] not in ('Z', 'X') and int(fields[3]) in sids:
            groups.add(int(fields[2]))
    return groups


def identity(pid, marker=None):
    """{'pid', 'start', 'marker'} of pid now ('start' is None if it already ended)."""
    return {'pid': int(pid), 'start': start_time(pid), 'marker': marker}


def cmdline_words(pid):
    """The words of /proc/PID/cmdline, or None when pid is gone."""
    try:
        with open(f'/proc/{int(pid)}/cmdline', 'rb') as f:
            raw = f.read()
    except (OSError, ValueError):
        return None
    return [w.decode(errors='replace') for w in raw.split(b'\0') if w]


def marker_matches(words, marker):
    """True if a word's basename is marker or starts with marker + '.'."""
    for word in words:
        base = os.path.basename(word)
        if base == marker or base.startswith(marker + '.'):
            return True
    return False


def matches(pid, marker):
    """True if pid is alive and its command line carries marker."""
    words = cmdline_words(pid)
    return bool(words) and start_time(pid) is not None and marker_matches(words, marker)


def is_same(ident):
    """True while the process ident names is alive: same start time, marker matches."""
    if not alive(ident):
        return False
    return ident['marker'] is None or matches(ident['pid'], ident['marker'])


def alive(ident):
    """True while the process ident names is alive (same start time), whatever its
    command line says yet: a shell's job is the shell's copy until it has exec'ed."""
    start = start_time(ident['pid'])
    return start is not None and start == ident['start']


def _running(target):
    """True while target (Popen or identity) runs; reaps an exited Popen."""
    if isinstance(target, subprocess.Popen):
        return target.poll() is None
    return is_same(target)


def pid_of(target):
    """The PID of a target (Popen or identity)."""
    return target.pid if isinstance(target, subprocess.Popen) else target['pid']


def _marker(target):
    return None if isinstance(target, subprocess.Popen) else target['marker']


def _signal(target, sig):
    """sig to target's process group when it leads one, else to its PID alone;
    nothing when it no longer runs (or is no longer the recorded process)."""
    if not _running(target):
        return
    pid = pid_of(target)
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait(targets, seconds):
    """Wait until every target ended or seconds passed; returns those still running."""
    deadline = time.monotonic() + seconds
    running = [t for t in targets if _running(t)]
    while running and time.monotonic() < deadline:
        time.sleep(POLL_S)
        running = [t for t in running if _running(t)]
    return running


def stop(targets, grace_s=2.0, log=None):
    """End targets (Popen objects or identities): SIGTERM, up to grace_s, SIGKILL.

    Returns the PIDs that still run afterwards (empty: all ended).
    """
    running = [t for t in targets if _running(t)]
    for target in running:
        if log:
            log(f'stopping process {pid_of(target)} ({_marker(target) or "no marker"})')
        _signal(target, signal.SIGTERM)
        if (_marker(target) or '').startswith('mininet:'):
            _signal(target, signal.SIGHUP)
    running = _wait(running, grace_s)
    for target in running:
        _signal(target, signal.SIGKILL)
    return [pid_of(t) for t in _wait(running, KILL_WAIT_S)]
