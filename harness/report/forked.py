"""Writing a run's files in one process or two (write_files): a forked child writes
the jobs marked `apart` (matrix.json, mutations.json, junit.xml: the larger part of
a large run's writing) while this process writes the rest; whole or nothing as in one
process."""

import os
import pickle
import signal
import threading
import traceback

from ..files import write_file


class Job:
    """One file to write: path, make() -> its text (a functools.partial, so that what
    it writes is bound when the job is made); apart: written by the second process
    of write_files (matrix.json, mutations.json and junit.xml)."""

    def __init__(self, path, make, apart=False):
        self.path, self.make, self.apart = path, make, apart

    def write(self):
        write_file(self.path, self.make())


def write_files(jobs, fork):
    """Write every job's file, in one process or (fork) in two: a child writes the
    jobs that are `apart` while this process writes the others (on two cores).  Whole
    or nothing as in one process: a child's exception is raised here (write_run then
    removes the folder); this one's stops the child; the child is always waited for
    before anything is raised.
    Without os.fork, or with other threads running (a lock one of them holds stays
    held in the child), one process."""
    if not fork or not hasattr(os, 'fork') or threading.active_count() > 1:
        for job in jobs:
            job.write()
        return
    pid, report = _fork_writer([job for job in jobs if job.apart])
    try:
        for job in jobs:
            if not job.apart:
                job.write()
        failure = _read_all(report)        # until the child is done
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        status = _reap(pid, report)
    if failure:
        raise _exception_of(failure)
    if status:
        code = os.waitstatus_to_exitcode(status)
        paths = ', '.join(job.path for job in jobs if job.apart)
        raise RuntimeError(f'the process writing {paths} ' + (
            f'was killed by signal {-code}' if code < 0 else f'exited with status {code}'))


_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _fork_writer(jobs):
    """(pid, pipe) of a child that writes jobs, then exits (os._exit: none of this
    process's code runs in it after them), with its exception, pickled, in the pipe
    if one was raised.  SIGINT and SIGTERM are blocked across the fork so the child
    ignores Ctrl-C (this process stops it) and dies at SIGTERM before running any
    Python code for them."""
    read_end, write_end = os.pipe()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    pid = os.fork()
    if pid == 0:                             # the child
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
            os.close(read_end)
            try:
                for job in jobs:
                    job.write()
                status = 0
            except BaseException as exc:
                _write_all_of(write_end, _pickled(exc))
        finally:
            os._exit(status)
    signal.pthread_sigmask(signal.SIG_SETMASK, old)
    os.close(write_end)
    return pid, read_end


def _pickled(exc):
    """The child's report of exc: (its traceback as text, exc pickled or None when
    pickle cannot take it), pickled."""
    where = ''.join(traceback.format_exception(exc))
    try:
        exc.add_note(f'(raised in the process that wrote the files apart)\n{where}')
        blob = pickle.dumps(exc)
    except Exception:
        blob = None
    return pickle.dumps((where, blob))


def _exception_of(report):
    """The exception a child reported (_pickled): the very one, or a RuntimeError
    with its traceback when it cannot be rebuilt here."""
    where, blob = pickle.loads(report)
    try:
        return pickle.loads(blob)
    except Exception:
        return RuntimeError(f'in the process that wrote the files apart:\n{where}')


def _write_all_of(fd, data):
    """os.write until all of data is written."""
    while data:
        data = data[os.write(fd, data):]


def _read_all(fd):
    """Everything read from fd until end of file."""
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b''.join(chunks)


def _reap(pid, fd):
    """Close fd and wait for the child pid; its wait status.  SIGINT and SIGTERM are
    blocked meanwhile so that no child is left behind (running or a zombie) when one
    arrives."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        os.close(fd)
        return os.waitpid(pid, 0)[1]
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
