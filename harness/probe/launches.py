"""One launch of a user program: start it in a host, learn its outcome, stop it.

How a launch's outcome is known, in this order; the cell's `method` says which:
- `tracer`: the program runs with LD_PRELOAD=libbindtrace.so ($BINDTRACE_LIB, else
  build/libbindtrace.so) and BINDTRACE_FILE=<its own trace file>; the bind(),
  listen() and connect() records it writes ARE the outcome.  A server is decided by
  its first failed bind/listen or its first successful listen (UDP: bind), a client
  by its first failed bind (a foreign source) or its first connect, followed through
  EINPROGRESS to how it ended (a connect the program gave up on is ETIMEDOUT, or
  EALREADY when a second connect() had said so; harness/probe/traced.py).  A bind's
  scope (fe80::1%2) is resolved to its interface in the host (scope_of).
- `syscall`: for a statically linked program (its ELF has no PT_INTERP, so no
  dynamic loader reads LD_PRELOAD; Go binaries, musl -static), or any program with
  `--trace syscall`: it runs under bindtrace-sys ($BINDTRACE_SYS, else
  build/bindtrace-sys), the ptrace tracer, which writes the same records
  (csrc/trace/trace_record.h) and is decided the same way.  The launch's pid is the
  tracer's; the program is its child in its process group, so stopping the group
  stops both.  Where the kernel refuses ptrace the tracer runs the program untraced
  under its own pid and says so in the trace's first record (op "untraced"): the
  launch is then `observed`, its message saying why.
- `observed`: for a statically linked program when bindtrace-sys is not built, with
  `--trace preload`, or as just said: a server is OK once `ss` inside
  the host shows its listening socket; otherwise, and for clients, the exit status
  decides, and a failure's errno is read from the program's stderr (glibc's or
  musl's strerror text, e.g. "bind: cannot assign requested address" or "Address not
  available" -> EADDRNOTAVAIL; Go's "i/o timeout" -> ETIMEDOUT).
A program that neither decides nor exits within its timeout is stopped by PID
(SIGTERM to the process group it leads, then SIGKILL) and its outcome is ERROR
saying so.  A server is stopped as soon as its outcome is known (in time: after the
probe phase, probe/intime.py).  Each launch keeps its stdout, stderr and trace (up
to 64 KiB each) for the run folder.
"""

import errno as errno_mod
import json
import os
import shutil
import struct
import subprocess
import threading
import time

from .. import program_path
from ..errors import UsageError
from ..ledger import stop
from ..net import popen_on
from ..scenarios import NOCALL, OK
from .traced import decide_traced

POLL_S = 0.02
EXIT_GRACE_S = 1.0        # a client, or a server whose call failed, may exit by itself
LOG_CAP = 64 * 1024
_state_lock = threading.Lock()


class ProgramError(UsageError):
    """A program template that cannot run (bad quoting, not found, no tracer)."""


# -- the program's binary: tracer or observation -----------------------------------------

def tracer_path():
    """The tracer library: $BINDTRACE_LIB, else build/libbindtrace.so of the clone, or
    the installed one (harness/__init__.py: program_path)."""
    return os.path.abspath(os.environ.get('BINDTRACE_LIB') or
                           program_path('libbindtrace.so'))


def systrace_path():
    """The syscall tracer: $BINDTRACE_SYS, else build/bindtrace-sys of the clone, or the
    installed one (harness/__init__.py: program_path)."""
    return os.path.abspath(os.environ.get('BINDTRACE_SYS') or
                           program_path('bindtrace-sys'))


def systrace_built():
    """True when bindtrace-sys is there to run."""
    path = systrace_path()
    return os.path.isfile(path) and os.access(path, os.X_OK)


def resolve(command):
    """The file a command name runs (PATH lookup as exec does); ProgramError if none."""
    path = command if '/' in command else shutil.which(command)
    if not path or not os.path.isfile(path):
        raise ProgramError(f'program {command!r} not found (give a path or a command '
                           'on PATH)')
    return os.path.realpath(path)


def elf_interp(path, depth=0):
    """True if path runs through the dynamic loader (PT_INTERP, or a #! interpreter
    that does); False for a statically linked ELF.  ProgramError if not executable."""
    try:
        with open(path, 'rb') as f:
            head = f.read(64)
            if head.startswith(b'#!') and depth < 4:
                line = (head + f.readline()).split(b'\n', 1)[0][2:].strip()
                interp = line.split()[0].decode(errors='replace') if line else ''
                return elf_interp(resolve(interp), depth + 1)
            if head[:4] != b'\x7fELF':
                raise ProgramError(f'{path}: neither an ELF binary nor a #! script')
            wide, order = head[4] == 2, '<' if head[5] == 1 else '>'
            if wide:
                phoff, = struct.unpack_from(order + 'Q', head, 32)
                phentsize, phnum = struct.unpack_from(order + 'HH', head, 54)
            else:
                phoff, = struct.unpack_from(order + 'I', head, 28)
                phentsize, phnum = struct.unpack_from(order + 'HH', head, 42)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError as exc:
        raise ProgramError(f'{path}: {exc}') from None
    for i in range(phnum):
        p_type, = struct.unpack_from(order + 'I', table, i * phentsize)
        if p_type == 3:          # PT_INTERP
            return True
    return False


TRACE_CHOICES = ('auto', 'preload', 'syscall')


def method_of(program):
    """'tracer', 'syscall' or 'observed' for program, by its `trace` choice (auto:
    preload for a dynamic program, syscall for a static one; preload: never ptrace;
    syscall: every program); ProgramError if it cannot run at all."""
    dynamic = elf_interp(resolve(program.argv()[0]))
    trace = getattr(program, 'trace', 'auto')
    if trace == 'syscall' or (trace == 'auto' and not dynamic):
        if systrace_built():
            return 'syscall'
        if trace == 'syscall':
            raise ProgramError(f'syscall tracer {systrace_path()} not found: build it with '
                               '`make build/bindtrace-sys` (or set BINDTRACE_SYS)')
    if not dynamic:
        return 'observed'
    if not os.path.isfile(tracer_path()):
        raise ProgramError(f'tracer {tracer_path()} not found: build it with '
                           '`make build/libbindtrace.so` (or set BINDTRACE_LIB)')
    return 'tracer'


# -- running -----------------------------------------------------------------------------

def run_launch(node, launch, workdir, state, cancel=None):
    """Start one launch, wait for its outcome, stop it; returns the outcome dict."""
    proc, stem = spawn(node, launch, workdir, state)
    try:
        decided = wait_outcome(node, launch, proc, stem + '.trace.jsonl', stem + '.err', cancel)
        if decided and (decided['actual'] != OK or launch.program.role == 'client'):
            _wait_quietly(proc, EXIT_GRACE_S)   # let it finish what it was doing
    finally:
        stopped = halt(proc, state)
    if decided is None:
        decided = {'actual': 'ERROR', 'message': f'the program hung: no outcome within '
                   f'{launch.program.timeout_s:g} s; stopped by PID {proc.pid}'}
    return completed(node, proc, stopped, stem, decided)


def spawn(node, launch, workdir, state):
    """Start a launch in its host, traced, its PID recorded; (process, its files' stem)."""
    stem = os.path.join(workdir, f'prog-{launch.cell_id}-{launch.host}')
    env = dict(os.environ, NETPROBE_HOST=launch.host, BINDTRACE_HOST=launch.host)
    argv = launch.argv
    if launch.method == 'tracer':
        preload = ' '.join(filter(None, [tracer_path(), os.environ.get('LD_PRELOAD')]))
        env.update(LD_PRELOAD=preload, BINDTRACE_FILE=stem + '.trace.jsonl')
    elif launch.method == 'syscall':
        argv = [systrace_path(), '-o', stem + '.trace.jsonl', '--host', launch.host,
                '--'] + list(argv)
    with open(stem + '.out', 'wb') as out, open(stem + '.err', 'wb') as err:
        proc = popen_on(node, argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                        env=env)
    with _state_lock:      # State is not thread-safe; hosts run in parallel
        state.add_pid(proc.pid, os.path.basename(launch.argv[0]))
    return proc, stem


def halt(proc, state):
    """Stop a launch's process group (ledger.stop), drop its PID; True if it ran."""
    stopped = proc.poll() is None
    stop([proc])       # SIGTERM to its process group, then SIGKILL
    with _state_lock:
        state.drop_pid(proc.pid)
    return stopped


def completed(node, proc, stopped, stem, decided):
    """decided with the bind's scope, exit status, `stopped` and files (LOG_CAP each)."""
    if decided.get('bind'):
        decided['bind'] = dict(decided['bind'], scope=scope_of(node, decided['bind']))
    files = {ext: _read_cap(stem + ext) for ext in ('.out', '.err', '.trace.jsonl')}
    decided.update(exit=proc.returncode, stopped=stopped, files=files)
    return decided


def scope_of(node, rec):
    """{'index': N, 'name': IF} of the scope of a traced bind's address (the tracer
    writes fe80::1%N; a case names the interface), read in the host with `ip -o link`;
    None when the address has no scope or the host has no such interface."""
    zone = (rec.get('addr') or '').partition('%')[2]
    if not zone.isdigit():
        return None
    proc = popen_on(node, ['ip', '-o', 'link', 'show'], stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out, _err = proc.communicate()
    for line in out.decode(errors='replace').splitlines():
        index, _, rest = line.partition(': ')
        if index.strip() == zone:       # "2: h1-eth0@if5: <BROADCAST,..."
            return {'index': int(zone), 'name': rest.split(':')[0].split('@')[0]}
    return None


def wait_outcome(node, launch, proc, trace, errpath, cancel=None):
    """Poll until the outcome is known or the timeout passes (then None).

    cancel: a threading.Event; once set, give up at once (None).
    """
    deadline = time.monotonic() + launch.program.timeout_s
    method, untraced, first_seen = launch.method, None, None
    while True:
        if cancel is not None and cancel.is_set():
            return None
        exited = proc.poll() is not None
        recs = read_trace(trace) if method != 'observed' else []
        if first_seen is None and any(r.get('op') == 'connect' for r in recs):
            first_seen = time.monotonic()
        if method == 'syscall' and (reason := untraced_reason(recs)) is not None:
            method, untraced = 'observed', reason
        traced = method in ('tracer', 'syscall')
        if traced:
            got = decide_traced(launch, recs, exited)
        else:
            got = decide_observed(node, launch, proc, exited, errpath)
        if got is None and exited:
            wanted = 'listening socket' if launch.program.role == 'server' else 'connect'
            if getattr(launch, 'case', None) is not None and \
                    launch.case.kind not in ('bind', 'connect'):
                wanted = launch.case.kind       # a join, mcast-if or send
            got = {'actual': NOCALL, 'message': f'exited with status {proc.returncode} '
                   f'without a {wanted}: {first_line(errpath)}'}
        if got is None and time.monotonic() > deadline and traced:
            got = decide_traced(launch, read_trace(trace), False,   # a connect still
                                waited_s=launch.program.timeout_s)  # waiting
        if got is not None or time.monotonic() > deadline:
            return fell_back(_waited(got, first_seen), method, untraced)
        time.sleep(POLL_S)


def _waited(got, first_seen):
    """got with elapsed_us the whole wait of a non-blocking connect: from its first
    connect() (seen in the trace) to the record that decided it, when that is longer
    than the deciding call itself took (a blocking connect's record has it all)."""
    if got is None or first_seen is None:
        return got
    waited = int((time.monotonic() - first_seen) * 1e6)
    if waited > (got.get('elapsed_us') or 0):
        got = dict(got, elapsed_us=waited)
    return got


def untraced_reason(recs):
    """The reason bindtrace-sys gave for running the program untraced (the trace's
    first record says op "untraced"), or None when it traces it."""
    if recs and recs[0].get('op') == 'untraced':
        return str(recs[0].get('reason') or recs[0].get('message'))
    return None


def fell_back(got, method, untraced):
    """got with the method it was decided by, and, when the syscall tracer could not
    trace the program, why the cell is only observed."""
    if got is None or untraced is None:
        return got
    got = dict(got, method=method)
    got['message'] = f'{untraced}, so only observed: {got.get("message")}'
    return got


def read_trace(path):
    """The complete records in a trace file (a line being written is skipped)."""
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            text = f.read()
    except FileNotFoundError:
        return []
    recs = []
    for line in text.split('\n')[:-1]:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            recs.append(rec)
    return recs


# How other C libraries and runtimes word the errors a bind() or connect() gives, where
# glibc's strerror (os.strerror) says it otherwise: musl's strerror (src/errno/
# __strerror.h; musl-static programs), and Go's net package, which says "i/o timeout"
# for a Dialer that gave up on its Timeout (the connect never completed: ETIMEDOUT,
# as the tracer reads a program that gives up on its own timeout).
OTHER_TEXTS = {
    'address in use': 'EADDRINUSE',
    'address not available': 'EADDRNOTAVAIL',
    'network unreachable': 'ENETUNREACH',
    'host is unreachable': 'EHOSTUNREACH',
    'operation timed out': 'ETIMEDOUT',
    'operation in progress': 'EINPROGRESS',
    'connection aborted': 'ECONNABORTED',
    'connection reset by network': 'ENETRESET',
    'socket is connected': 'EISCONN',
    'socket not connected': 'ENOTCONN',
    'not a socket': 'ENOTSOCK',
    'no file descriptors available': 'EMFILE',
    'out of memory': 'ENOMEM',
    'i/o timeout': 'ETIMEDOUT',
}


def strerror_names():
    """[(lower-case error text, errno name)], longest text first: glibc's strerror
    texts and OTHER_TEXTS."""
    pairs = [(os.strerror(n).lower(), name) for n, name in errno_mod.errorcode.items()]
    pairs += list(OTHER_TEXTS.items())
    return sorted(pairs, key=lambda p: -len(p[0]))


def errno_from_text(text):
    """The errno name whose error text (strerror_names) appears first in text, or
    None."""
    low, best = text.lower(), None
    for message, name in strerror_names():
        at = low.find(message)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, name)
    return best[1] if best else None


def listening(node, launch, pid):
    """The local address of a listening socket of pid (ss inside the host), or None."""
    argv = ['ss', '-Hlnp', '-u' if launch.program.proto == 'udp' else '-t']
    proc = popen_on(node, argv, stdin=subprocess.DEVNULL)
    out, _err = proc.communicate()
    for line in out.decode(errors='replace').splitlines():
        fields = line.split()
        if f'pid={pid},' in line and len(fields) >= 4:
            local = fields[3]
            if launch.port is None or local.endswith(f':{launch.port}'):
                return local
    return None


def decide_observed(node, launch, proc, exited, errpath):
    """The outcome of a program the tracer cannot see, or None while undecided."""
    if launch.program.role == 'server' and not exited:
        local = listening(node, launch, proc.pid)
        if local:
            return {'actual': OK, 'message': f'ss shows it listening on {local}',
                    'local': local}
        return None
    if not exited:
        return None
    if proc.returncode == 0:
        return {'actual': OK, 'message': 'exited with status 0'}
    err = _tail(errpath, 2000)
    name = errno_from_text(err)
    if name:
        return {'actual': name, 'message': f'exited with status {proc.returncode}; '
                f'stderr says: {_tail(errpath)}'}
    return None


def _wait_quietly(proc, seconds):
    """Wait up to seconds for proc to exit by itself."""
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass


def _read_cap(path):
    try:
        with open(path, 'rb') as f:
            return f.read(LOG_CAP).decode(errors='replace')
    except FileNotFoundError:
        return ''


def first_line(path, limit=300):
    """The first line of a program's stderr (its own words for why it stopped)."""
    lines = _read_cap(path).strip().splitlines()
    return lines[0][:limit] if lines else 'nothing on stderr'


def _tail(path, limit=300):
    text = _read_cap(path).strip()
    lines = text.splitlines()[-3:]
    return ' '.join(lines)[-limit:] or 'nothing on stderr'
