"""One command API for the hosts of a network: run, start, popen.

    run_on(commands)      [(host, argv, stdin text or None, timeout s or None)], all at
                          once, each to its end: [(status, stdout, stderr)] (124: its
                          timeout stopped it);
    start_on(commands, state, marker, fed=False)
                          [(host, argv, base path)] started all at once, long-running
                          (servers, batches): stdout to base.out, stderr to base.err,
                          stdin /dev/null or, fed, what Job.feed(text) gives it later;
                          every PID recorded in the state file: [Job or None]
                          (a ShellJob or a PopenJob: running(), feed(), pid, target);
    ended(jobs)           (job, exit status) of each job, in the order given, as each
                          ends (every wait begun before the first is awaited);
    popen_on(host, argv, **kwargs)
                          one subprocess.Popen with its pipes, for a caller that reads
                          them itself (the user's programs, whose launches run in
                          threads of their own);
    has_shells(hosts)     True when every host has an idle shell.

This is the one place that chooses how a command reaches a host.  Where every host
has an idle shell (a Mininet node, either builder) commands go through the shells
(nsbatch: one short line a host, no process of the harness's own per command, whose
start would cost its one thread time for every host); elsewhere (a lab's host seen
from outside, lab/labfile.NsHost) each is a Popen of the harness's, host.popen().
Both give the same statuses, the same files and the same Job.
"""

import errno
import os
import re
import subprocess
import time

from mininet.node import Node

from ..ledger import alive, identity, pid_of
from .nsbatch import run_in_shells, start_in_shells
from .retry import attempts

FEED_S = 10.0


def has_shells(hosts):
    """True when hosts is not empty and each is a Mininet node with a shell that is not
    running a command (what run_in_shells and start_in_shells need)."""
    return bool(hosts) and all(isinstance(n, Node) and n.shell is not None and
                               not n.waiting for n in hosts)


def run_on(commands):
    """Run each (host, argv, stdin text or None, timeout seconds or None) to its end,
    all at once; [(status, stdout, stderr)] in the order given.  A command stopped at
    its timeout has status 124 (None: a command that bounds its own time)."""
    if not commands:
        return []
    if has_shells([host for host, *_rest in commands]):
        return run_in_shells(commands)
    procs = []
    try:
        for host, argv, stdin, _seconds in commands:
            procs.append(host.popen([str(w) for w in argv], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        return [_communicate(proc, stdin, seconds)
                for proc, (_h, _a, stdin, seconds) in zip(procs, commands)]
    except BaseException:   # Ctrl-C, a popen that failed: none left behind
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        raise


def _communicate(proc, stdin, seconds):
    """(status, stdout, stderr) of a Popen given stdin, killed past seconds (124)."""
    try:
        out, err = proc.communicate((stdin or '').encode(), timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return 124, out.decode(errors='replace'), err.decode(errors='replace')
    return proc.returncode, out.decode(errors='replace'), err.decode(errors='replace')


def popen_on(host, argv, **kwargs):
    """argv started inside host with host.popen (kwargs as for subprocess.Popen)."""
    return host.popen(list(argv), **kwargs)


class Job:
    """A long-running process start_on() started on host; target is what ledger.stop()
    takes.  ShellJob or PopenJob: the same questions, each answered its own way."""

    wait_line = None    # what its shell runs to wait for it (ended)

    def __init__(self, host, target):
        self.host, self.target = host, target

    @property
    def pid(self):
        return pid_of(self.target)


class ShellJob(Job):
    """A background job of the host's shell (target: its identity); fed, it reads its
    stdin from a FIFO."""

    def __init__(self, host, target, fifo=None):
        super().__init__(host, target)
        self.fifo = fifo
        self.wait_line = f'wait {self.pid}; echo @rc-{self.pid}:$?'

    def running(self):
        """True while it runs (alive, whatever it has exec'ed yet)."""
        return alive(self.target)

    def status(self, said):
        """Its exit status, from what its shell said to wait_line (None: nothing)."""
        return said.get(self.pid)

    def feed(self, text):
        """Give it its whole stdin; None, or why it could not be given."""
        failed = None
        for _ in attempts(deadline=time.monotonic() + FEED_S, pause=0.001):
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:      # ENXIO: its shell has not opened it yet
                failed = exc
                if exc.errno != errno.ENXIO or not self.running():
                    break
            else:
                return _write(fd, text)
        return f'its plan could not be given ({failed.strerror})'


class PopenJob(Job):
    """A Popen of the harness's (target); fed, it reads its stdin from a pipe."""

    def running(self):
        return self.target.poll() is None

    def status(self, _said):
        return self.target.wait()

    def feed(self, text):
        """Give it its whole stdin; None, or why it could not be given."""
        try:
            self.target.stdin.write(text.encode())
            self.target.stdin.close()
        except BrokenPipeError:
            return 'it ended before it had read its plan'
        return None


def _write(fd, text):
    """Write text into the FIFO open at fd (made blocking); None or why not."""
    try:
        os.set_blocking(fd, True)
        with os.fdopen(fd, 'wb') as f:
            f.write(text.encode())
    except BrokenPipeError:
        return 'it ended before it had read its plan'
    return None


def start_on(commands, state, marker, fed=False):
    """Start each (host, argv, base path) and record every PID in state (as marker);
    [Job, or None where a shell gave no PID back].  Recorded even when a later start
    fails or Ctrl-C arrives; the caller stops them (ledger.stop on job.target) and
    drops them from the state."""
    if not commands:
        return []
    if has_shells([host for host, _argv, _base in commands]):
        for _host, _argv, base in commands if fed else ():
            os.mkfifo(base + '.in', 0o600)
        pids = start_in_shells([(host, argv, base + '.in' if fed else '/dev/null',
                                 base + '.out', base + '.err')
                                for host, argv, base in commands])
        jobs = [ShellJob(host, identity(pid, marker), base + '.in' if fed else None)
                if pid else None for (host, _argv, base), pid in zip(commands, pids)]
        state.add_pids([job.pid for job in jobs if job], marker)
        return jobs
    jobs = []
    try:
        for host, argv, base in commands:
            with open(base + '.out', 'wb') as out, open(base + '.err', 'wb') as err:
                proc = host.popen([str(w) for w in argv], stdout=out, stderr=err,
                                  stdin=subprocess.PIPE if fed else subprocess.DEVNULL)
            jobs.append(PopenJob(host, proc))
    finally:
        state.add_pids([job.pid for job in jobs], marker)
    return jobs


_STATUS = re.compile(r'@rc-(\d+):(\d+)')


def ended(jobs):
    """An iterator of (job, exit status or None) for each job, in the order given, as
    each ends; a shell's job is waited for by its shell (`wait PID`), every host's
    wait sent before the first answer is read."""
    lines = {}
    for job in jobs:
        if job.wait_line:
            lines.setdefault(job.host, []).append(job.wait_line)
    for host, each in lines.items():
        host.sendCmd('; '.join(each))
    return _statuses(jobs, set(lines))


def _statuses(jobs, asked):
    said = {}
    for job in jobs:
        if job.host in asked:       # its shell's answer, read once for all its jobs
            asked.discard(job.host)
            said.update({int(pid): int(rc) for pid, rc in
                         _STATUS.findall(job.host.waitOutput())})
        yield job, job.status(said)
