"""The user's own programs as probes: run them on every host, fill the same matrices.

    python3 -m harness run --server 'python3 app.py --host {addr} --port {port}'
    python3 -m harness run --client 'python3 client.py {addr} {port} {src}'

A *program* is a command-line template (split like a shell would, run without one).
Placeholders, replaced inside each argument: ``{addr}`` ``{port}`` ``{src}``
``{host}`` (the Mininet host's name) ``{proto}``.  Other braces are left alone.

Which cells a program fills (one *launch* of the program per cell):
- a server template with ``{addr}``: every bind case of the scenario with the
  program's protocol (default tcp) and no netprobe-only options; the program takes
  the place of netprobe in that cell, with the case's own expectation and reason.
- a client template with ``{addr}``: every such connect case; ``{src}`` is the case's
  ``src=`` (or the wildcard 0.0.0.0 / :: when it has none: let the kernel choose);
  a case with ``src=`` is left to netprobe when the template has no ``{src}``.
  The tracer cannot see who answered, so these cells do not check the peer.
- a template without ``{addr}`` (the program decides its own address, like the
  seed's server): one launch per host, in a new column ``tcp server program`` or
  ``tcp client program``, expected ``OK`` (a server should start on every host, a client
  should connect from every host; rule ``program-starts`` / ``program-connects``).
Everything else of the scenario (netprobe's servers, the other cases) runs as usual,
beside the programs.  Order: the server programs first, on a fresh network (a port
netprobe's servers have answered on sits in TIME_WAIT afterwards, and would make the
program fail with EADDRINUSE); then netprobe's servers and batches; then the client
programs, while netprobe's servers still listen (they are what a client talks to).

How a launch's outcome is known, in this order; the cell's ``method`` says which:
- ``tracer``: the program runs with LD_PRELOAD=libbindtrace.so ($BINDTRACE_LIB, else
  build/libbindtrace.so) and BINDTRACE_FILE=<its own trace file>; the bind(),
  listen() and connect() records it writes ARE the outcome.  A server is decided by
  its first failed bind/listen or its first successful listen (UDP: bind), a client
  by its first failed bind (a foreign source) or its first connect, followed through
  EINPROGRESS to how it ended (a connect the program gave up on is ETIMEDOUT).
- ``observed``: for a statically linked program (its ELF has no PT_INTERP, so no
  dynamic loader reads LD_PRELOAD; Go binaries): a server is OK once ``ss`` inside
  the host shows its listening socket; otherwise, and for clients, the exit status
  decides, and a failure's errno is read from the program's stderr (the strerror
  text, e.g. "bind: cannot assign requested address" -> EADDRNOTAVAIL).
A program that neither decides nor exits within its timeout (default 5 s) is stopped
by PID (SIGTERM to the process group it leads, then SIGKILL) and its cell is an
``error`` that says so.  A server is stopped as soon as its outcome is known.

Each launch keeps its stdout, stderr and trace (up to 64 KiB each) in the run folder:
``<run>/<scenario>/programs/<cell id>-<host>.out|.err|.trace.jsonl``; the cell's
``log`` field names them, ``program`` holds the command line that ran, ``exit`` its
status.  In a scenario file: ``with_programs(scenario, server=..., client=...)``.
"""

import errno as errno_mod
import json
import os
import shlex
import shutil
import signal
import struct
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

from . import REPO
from .results import write_file
from .scenario import OK, Scenario

ROLES = ('server', 'client')
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_PORT = 6677          # the seed's port, for a template with {port} but no {addr}
POLL_S = 0.02
EXIT_GRACE_S = 1.0        # a client, or a server whose call failed, may exit by itself
LOG_CAP = 64 * 1024
PROGRAM_RULES = {
    'program-starts': 'a server program that chooses its own address is expected to '
                      'start (bind and listen) on every host',
    'program-connects': 'a client program that chooses its own destination is '
                        'expected to connect from every host',
}
_state_lock = threading.Lock()
# Options a program cannot be told about: such cases stay with netprobe.
CLIENT_OK_OPTIONS = ('src=', 'timeout=')


class ProgramError(ValueError):
    """A program template that cannot run (bad quoting, not found, no tracer)."""


@dataclass(frozen=True)
class Program:
    """A user program: role 'server' or 'client', a template, its protocol, a timeout."""
    role: str
    template: str
    proto: str = 'tcp'
    timeout_s: float = DEFAULT_TIMEOUT_S

    def argv(self):
        """The template split into arguments (shlex); ProgramError if it cannot be."""
        try:
            argv = shlex.split(self.template)
        except ValueError as exc:
            raise ProgramError(f'--{self.role} {self.template!r}: {exc}') from None
        if not argv:
            raise ProgramError(f'--{self.role}: empty command')
        return argv

    def per_case(self):
        """True when the program is told the address ({addr}): one launch per case."""
        return '{addr}' in self.template

    def label(self):
        """The column of a per-host launch: 'tcp server program'.

        Not the command line: a baseline must still name the same cell when the
        program is fixed or moved (the cell's `program` field holds the command).
        """
        return f'{self.proto} {self.role} program'


@dataclass(frozen=True)
class ProgramScenario(Scenario):
    """A Scenario that also runs user programs (see with_programs)."""
    server: Optional[str] = None
    client: Optional[str] = None
    program_proto: str = 'tcp'
    program_timeout_s: float = DEFAULT_TIMEOUT_S


def with_programs(scenario, server=None, client=None, proto='tcp',
                  timeout_s=DEFAULT_TIMEOUT_S, **changes):
    """A copy of scenario that runs the given server and/or client program.

    changes: other Scenario fields to replace (give at least a new name when the
    original scenario is loaded too: names must be unique).
    """
    fields = {f: getattr(scenario, f) for f in Scenario.__dataclass_fields__}
    fields.update(changes)
    return ProgramScenario(**fields, server=server, client=client, program_proto=proto,
                           program_timeout_s=timeout_s)


# -- command line ------------------------------------------------------------------------

def add_run_options(run_parser):
    """--server / --client / --program-timeout on `harness run`."""
    run_parser.add_argument('--server', metavar='CMD',
                            help="your server, e.g. 'python3 app.py --host {addr} "
                                 "--port {port}', run on every host")
    run_parser.add_argument('--client', metavar='CMD',
                            help="your client, e.g. 'python3 cli.py {addr} {port} {src}'")
    run_parser.add_argument('--program-timeout', type=float, default=DEFAULT_TIMEOUT_S,
                            metavar='S', help='stop a program that has not decided '
                                              f'after S seconds (default {DEFAULT_TIMEOUT_S:g})')


def programs_for(scenario, args=None):
    """The programs to run in scenario: the command line's, else the scenario file's."""
    progs = {}
    if isinstance(scenario, ProgramScenario):
        for role in ROLES:
            template = getattr(scenario, role)
            if template:
                progs[role] = Program(role, template, scenario.program_proto,
                                      scenario.program_timeout_s)
    timeout = getattr(args, 'program_timeout', None) or DEFAULT_TIMEOUT_S
    for role in ROLES:
        template = getattr(args, role, None) if args is not None else None
        if template:
            progs[role] = Program(role, template, 'tcp', timeout)
    return [progs[r] for r in ROLES if r in progs]


def check_args(args):
    """ProgramError if a --server/--client given on the command line cannot run."""
    for role in ROLES:
        template = getattr(args, role, None)
        if template is not None:
            method_of(Program(role, template))
    if getattr(args, 'program_timeout', 1) <= 0:
        raise ProgramError('--program-timeout must be above 0')


# -- the program's binary: tracer or observation ---------------------------------------------

def tracer_path():
    """The tracer library: $BINDTRACE_LIB, else build/libbindtrace.so."""
    return os.path.abspath(os.environ.get('BINDTRACE_LIB') or
                           os.path.join(REPO, 'build', 'libbindtrace.so'))


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


def method_of(program):
    """'tracer' or 'observed' for program; ProgramError if it cannot run at all."""
    dynamic = elf_interp(resolve(program.argv()[0]))
    if not dynamic:
        return 'observed'
    if not os.path.isfile(tracer_path()):
        raise ProgramError(f'tracer {tracer_path()} not found: build it with '
                           '`make build/libbindtrace.so` (or set BINDTRACE_LIB)')
    return 'tracer'


def fill(argv, values):
    """argv with the placeholders replaced by values (text) in every argument."""
    out = []
    for arg in argv:
        for name, value in values.items():
            arg = arg.replace('{' + name + '}', str(value))
        out.append(arg)
    return out


# -- planning: which launches, which cells ---------------------------------------------------

@dataclass
class Launch:
    """One run of a program on one host, for one cell."""
    program: Program
    host: str
    argv: list
    cell_id: str
    index: Optional[int]          # the scenario case it replaces; None: a new column
    addr: Optional[str] = None
    port: Optional[int] = None
    method: str = 'tracer'
    outcome: Optional[dict] = None    # filled by run


def wildcard(addr):
    """The wildcard of addr's family: '0.0.0.0' or '::'."""
    return '::' if ':' in addr else '0.0.0.0'


def src_of(case):
    """The source address of a connect case (its src= option), or None."""
    for opt in case.options:
        if opt.startswith('src='):
            return opt[4:]
    return None


def takes_case(program, case):
    """True if program takes this case's cell in place of netprobe."""
    if case.kind != ('bind' if program.role == 'server' else 'connect'):
        return False
    if case.proto != program.proto:
        return False
    if program.role == 'server':
        return not case.options
    if not all(o.startswith(CLIENT_OK_OPTIONS) for o in case.options):
        return False
    return src_of(case) is None or '{src}' in program.template


def plan(scenario, programs, hosts):
    """The launches of programs in scenario (hosts: names in topology order)."""
    launches = []
    for program in programs:
        argv, method = program.argv(), method_of(program)
        if program.per_case():
            for index, case in enumerate(scenario.cases):
                if not takes_case(program, case):
                    continue
                values = {'addr': case.addr, 'port': case.port, 'host': case.host,
                          'proto': case.proto,
                          'src': src_of(case) or wildcard(case.addr)}
                told_port = case.port if '{port}' in program.template else None
                launches.append(Launch(program, case.host, fill(argv, values),
                                       f'{case.kind[0]}{index}', index, case.addr,
                                       told_port, method))
        else:
            port = next((c.port for c in scenario.cases if c.kind == 'bind'),
                        DEFAULT_PORT)
            for n, host in enumerate(hosts):
                values = {'port': port, 'host': host, 'proto': program.proto}
                launches.append(Launch(program, host, fill(argv, values),
                                       f'{program.role[0]}p{n}', None, None,
                                       port if '{port}' in program.template else None,
                                       method))
    return launches


# -- running ----------------------------------------------------------------------------

class ProgramRun:
    """The user programs of one scenario: plan, run on the live network, make cells.

    ProgramRun(scenario, programs, state) plans the launches (hosts in topology order).
    .take is the runner's probe phase with the programs in it (runner.run_scenario's
    `take=`): the server programs, netprobe's servers and batches, then the client
    programs while netprobe's servers still listen.  .result(res) puts the program
    cells into a scenario result and its logs under res['programs'] for save_logs().
    """

    def __init__(self, scenario, programs, state):
        self.scenario = scenario
        self.state = state
        self.launches = plan(scenario, programs, hosts_of(scenario.topo()))
        self.logs = []
        self.cancel = threading.Event()     # set: the run was interrupted

    def take(self, net, scenario, servers, state, netprobe, workdir, timings):
        """The server programs, then runner.probe_phase, then the client programs
        while netprobe's servers still listen.

        Server programs go first, on a network nobody has used yet: after netprobe's
        servers have answered connections their ports sit in TIME_WAIT, and a program
        binding the same port would get EADDRINUSE from what the harness did.
        probe_phase stops the servers when its batches are done; it is handed a proxy
        whose stop() waits for the client programs.  Returns what probe_phase
        returns: (connect problem, records).
        """
        from .runner import probe_phase
        t0 = time.monotonic()
        self.run(net, workdir, 'server')
        spent = time.monotonic() - t0
        try:
            got = probe_phase(net, scenario, _StopLater(servers), state, netprobe,
                              workdir, timings)
            t1 = time.monotonic()
            self.run(net, workdir, 'client')
            spent += time.monotonic() - t1
        finally:
            servers.stop()
        timings['programs_s'] = spent
        return got

    def result(self, res):
        """res (a scenario result) with the program cells and res['programs']."""
        res['cells'] = self.cells(res['cells'], res.get('problem'))
        res['programs'] = self.logs
        return res

    def run(self, net, workdir, role):
        """Every launch of role, hosts in parallel, each host's one after another."""
        by_host = {}
        for launch in self.launches:
            if launch.program.role == role:
                by_host.setdefault(launch.host, []).append(launch)
        with ThreadPoolExecutor(max_workers=max(1, len(by_host))) as pool:
            futures = [pool.submit(self._run_host, net.get(h), todo, workdir)
                       for h, todo in by_host.items()]
            try:
                for fut in futures:
                    fut.result()
            except BaseException:   # Ctrl-C, SIGTERM: stop every program now
                self.cancel.set()
                raise

    def _run_host(self, node, todo, workdir):
        for launch in todo:
            if self.cancel.is_set():
                return
            launch.outcome = run_launch(node, launch, workdir, self.state, self.cancel)

    def cells(self, cells, problem=None):
        """cells with the program cells in place of (or beside) netprobe's."""
        out = [dict(c, method=c.get('method') or 'netprobe') for c in cells]
        extra = []
        for launch in self.launches:
            base = out[launch.index] if launch.index is not None else None
            cell = program_cell(self.scenario, launch, base, problem)
            if launch.index is not None:
                out[launch.index] = cell
            else:
                extra.append(cell)
            if launch.outcome:
                self.logs.append({'scenario': self.scenario.name, 'log': cell['log'],
                                  'files': launch.outcome['files']})
        return out + extra


class _StopLater:
    """netprobe's Servers with stop() postponed (ProgramRun.take stops them itself)."""

    def __init__(self, servers):
        self._servers = servers

    def __getattr__(self, name):
        return getattr(self._servers, name)

    def stop(self, *_args, **_kwargs):
        """Not yet: the client programs still talk to these servers."""


def run_launch(node, launch, workdir, state, cancel=None):
    """Start one launch, wait for its outcome, stop it; returns the outcome dict."""
    stem = os.path.join(workdir, f'prog-{launch.cell_id}-{launch.host}')
    trace = stem + '.trace.jsonl'
    env = dict(os.environ, NETPROBE_HOST=launch.host, BINDTRACE_HOST=launch.host)
    if launch.method == 'tracer':
        preload = ' '.join(filter(None, [tracer_path(), os.environ.get('LD_PRELOAD')]))
        env.update(LD_PRELOAD=preload, BINDTRACE_FILE=trace)
    with open(stem + '.out', 'wb') as out, open(stem + '.err', 'wb') as err:
        proc = node.popen(launch.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                          env=env)
    with _state_lock:      # State is not thread-safe; hosts run in parallel
        state.add_pid(proc.pid, os.path.basename(launch.argv[0]))
    try:
        decided = wait_outcome(node, launch, proc, trace, stem + '.err', cancel)
        if decided and (decided['actual'] != OK or launch.program.role == 'client'):
            _wait_quietly(proc, EXIT_GRACE_S)   # let it finish what it was doing
    finally:
        stopped = stop(proc)
        with _state_lock:
            state.drop_pid(proc.pid)
    if decided is None:
        decided = {'actual': 'ERROR', 'message': f'the program hung: no outcome within '
                   f'{launch.program.timeout_s:g} s; stopped by PID {proc.pid}'}
    decided.update(exit=proc.returncode, stopped=stopped,
                   files={ext: _read_cap(stem + ext)
                          for ext in ('.out', '.err', '.trace.jsonl')})
    return decided


def wait_outcome(node, launch, proc, trace, errpath, cancel=None):
    """Poll until the outcome is known or the timeout passes (then None).

    cancel: a threading.Event; once set, give up at once (None).
    """
    deadline = time.monotonic() + launch.program.timeout_s
    while True:
        if cancel is not None and cancel.is_set():
            return None
        exited = proc.poll() is not None
        if launch.method == 'tracer':
            got = decide_traced(launch, read_trace(trace), exited)
        else:
            got = decide_observed(node, launch, proc, exited, errpath)
        if got is not None:
            return got
        if exited:
            wanted = 'listening socket' if launch.program.role == 'server' else 'connect'
            return {'actual': 'ERROR', 'message': f'exited with status {proc.returncode} '
                    f'without a {wanted}: {_tail(errpath)}'}
        if time.monotonic() > deadline:
            return None
        time.sleep(POLL_S)


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


def _result(rec, **more):
    """An outcome from one trace record."""
    out = {'actual': OK if rec.get('ok') else str(rec.get('error')),
           'message': rec.get('message'), 'elapsed_us': rec.get('elapsed_us'),
           'local': rec.get('local'), 'record': rec}
    out.update(more)
    return out


def relevant(launch, recs, ops):
    """The records of ops, those at the launch's port first when it has one."""
    recs = [r for r in recs if r.get('op') in ops]
    if launch.port is not None:
        at_port = [r for r in recs if r.get('port') == launch.port]
        if at_port or launch.program.role == 'client':
            return at_port
    return recs


def decide_traced(launch, recs, exited):
    """The outcome from trace records, or None while still undecided."""
    if launch.program.role == 'server':
        for rec in relevant(launch, recs, ('bind', 'listen')):
            if not rec.get('ok'):
                return _result(rec)
            if rec['op'] == 'listen' or launch.program.proto == 'udp':
                return _result(rec)
        return None
    binds = [r for r in recs if r.get('op') == 'bind' and not r.get('ok')]
    connects = relevant(launch, recs, ('connect',))
    first = connects[0] if connects else None
    if binds and (first is None or recs.index(binds[0]) < recs.index(first)):
        return _result(binds[0])
    if first is None:
        return None
    if first.get('error') != 'EINPROGRESS':
        return _result(first)
    for rec in connects[1:]:
        if rec.get('phase') == 'done' and rec.get('fd') == first.get('fd') and \
                rec.get('pid') == first.get('pid'):
            return _result(rec)
    if exited:
        return _result(dict(first, error='ETIMEDOUT', ok=False),
                       message='connect() never completed: the program gave up on it '
                               '(its own timeout)')
    return None


def strerror_names():
    """[(lower-case strerror text, errno name)], longest text first."""
    pairs = [(os.strerror(n).lower(), name) for n, name in errno_mod.errorcode.items()]
    return sorted(pairs, key=lambda p: -len(p[0]))


def errno_from_text(text):
    """The errno name whose strerror text appears first in text, or None."""
    low, best = text.lower(), None
    for message, name in strerror_names():
        at = low.find(message)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, name)
    return best[1] if best else None


def listening(node, launch, pid):
    """The local address of a listening socket of pid (ss inside the host), or None."""
    argv = ['ss', '-Hlnp', '-u' if launch.program.proto == 'udp' else '-t']
    proc = node.popen(argv, stdin=subprocess.DEVNULL)
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


def stop(proc, grace_s=2.0):
    """End the launch by PID: SIGTERM to its process group, then SIGKILL.

    The host's popen starts the program in a new session (mnexec -d, or the
    harness's nsenter with start_new_session), so its group is its PID and holds only
    what it started; were it not a group leader, only the PID itself is signalled.
    Returns True if it was still running (it was stopped).
    """
    if proc.poll() is not None:
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        _signal(proc, sig)
        try:
            proc.wait(timeout=grace_s)
            return True
        except subprocess.TimeoutExpired:
            continue
    return True


def _signal(proc, sig):
    """sig to proc's process group when it leads one, else to proc alone."""
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass


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


def _tail(path, limit=300):
    text = _read_cap(path).strip()
    lines = text.splitlines()[-3:]
    return ' '.join(lines)[-limit:] or 'nothing on stderr'


# -- cells ------------------------------------------------------------------------------

def program_cell(scenario, launch, base, problem):
    """The cell of one launch (base: the netprobe cell it replaces, or None)."""
    program = launch.program
    if base is not None:
        cell = dict(base, expected_peer=None, peer=None, local=None, elapsed_us=None)
    else:
        kind = 'bind' if program.role == 'server' else 'connect'
        rule = 'program-starts' if program.role == 'server' else 'program-connects'
        cell = {'id': launch.cell_id, 'kind': kind, 'host': launch.host,
                'addr': launch.addr or '', 'port': launch.port, 'proto': program.proto,
                'options': [], 'column': program.label(), 'expected': OK,
                'expected_peer': None, 'reason': PROGRAM_RULES[rule], 'rule': rule,
                'peer': None, 'local': None, 'elapsed_us': None}
    cell.update(method=launch.method, program=shlex.join(launch.argv),
                log=f'programs/{launch.cell_id}-{launch.host}', exit=None, stopped=False)
    got = launch.outcome
    if got is None:
        cell.update(actual='ERROR', verdict='error',
                    message=problem or 'the program was not run')
        return cell
    cell.update(actual=got['actual'], message=got.get('message'), local=got.get('local'),
                elapsed_us=got.get('elapsed_us'), exit=got.get('exit'),
                stopped=got.get('stopped'))
    rec = got.get('record')
    if base is None and rec:
        cell.update(addr=rec.get('addr') or '', port=rec.get('port'))
    if got['actual'] == 'ERROR':
        cell['verdict'] = 'error'
    else:
        cell['verdict'] = 'pass' if got['actual'] == cell['expected'] else 'fail'
    return cell


def save_logs(run_dir, scenario_results):
    """Write every launch's stdout, stderr and trace into the run folder."""
    for res in scenario_results:
        for entry in res.get('programs') or []:
            stem = os.path.join(run_dir, entry['scenario'], entry['log'])
            os.makedirs(os.path.dirname(stem), exist_ok=True)
            for ext, text in entry['files'].items():
                write_file(stem + ext, text)


def hosts_of(topo):
    """Host names of a Topo in its order."""
    return list(topo.hosts())
