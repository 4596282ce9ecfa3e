"""The user's own programs as probes: run them on every host, fill the same matrices.

    python3 -m harness run --server 'python3 app.py --host {addr} --port {port}'
    python3 -m harness run --client 'python3 client.py {addr} {port} {src}'

A *program* is a command-line template (split like a shell would, run without one).
Placeholders, replaced inside each argument: ``{addr}`` ``{port}`` ``{src}``
``{host}`` (the Mininet host's name) ``{proto}``, and for a program that takes
``host:port`` or a URL ``{hostport}`` (``10.0.0.1:7001``, ``[fd00::1]:7001``) and
``{urlhost}`` (``10.0.0.1``, ``[fd00::1]``; a scope as ``%25``, RFC 6874:
``[fe80::1%25h1-eth0]``); ``{name}``: a name case's name (``localhost``, which the
program resolves itself: its cell says the address it called, ``::1 EADDRNOTAVAIL``;
only a ``{name}`` template takes name cases, and no other); ``{if}``: a join's or
mcast-if's interface (if=), ``{src}`` a send's source.  Other braces stay.

Which cells a program fills (one *launch* of the program per cell); a template is
*told the address* when it has ``{addr}``, ``{hostport}`` or ``{urlhost}``:
- a server template told the address: every bind case of the scenario with the
  program's protocol (default tcp) and no netprobe-only options; the program takes
  the place of netprobe in that cell, with the case's own expectation and reason.
- a client template told the address: every such connect case; ``{src}`` is the case's
  ``src=`` (or the wildcard 0.0.0.0 / :: when it has none: let the kernel choose);
  a case with ``src=`` is left to netprobe when the template has no ``{src}``.
  The tracer cannot see who answered, so these cells do not check the peer.
- a template not told the address (the program decides its own address, like the
  seed's server): one launch per host, in a new column ``tcp server program`` or
  ``tcp client program``, expected ``OK`` (a server should start on every host, a client
  should connect from every host; rule ``program-starts`` / ``program-connects``).
- join, mcast-if and send cases (UDP, whatever the program's protocol): a server
  template takes a join's and a mcast-if's cell (told the interface with ``{if}``
  when the case names one), a client template a send's (told the source with
  ``{src}``); the first trace record of that call decides (probe/udptraced.py).
Everything else of the scenario (netprobe's servers, the other cases) runs as usual,
beside the programs.  Order (harness/runner.py): the server programs that choose
their own address and port first, on a network nobody has used yet (the harness's own
servers must not hold their port); then netprobe's servers; then the server programs
told the address, each in a case's place with the scenario's servers listening as the case
expects; then netprobe's batches; then the client programs, while netprobe's servers
still listen (they are what a client talks to).

A case whose precondition a launch cannot have (a socket held earlier in netprobe's
batch: harness/probe/preconditions.py) is left to netprobe, and its cell's ``note`` says
why.  How a launch's outcome is known (``tracer``, ``syscall``, ``observed``; ``--trace
auto|preload|syscall`` chooses), and how a hung program is stopped: probe/launches.py.
Each launch keeps its stdout, stderr and trace (up to 64 KiB each) in the run folder:
``<run>/<scenario>/programs/<cell id>-<host>.out|.err|.trace.jsonl``; the cell's
``log`` field names them, ``program`` holds the command line that ran, ``exit`` its
status.  In a scenario file: ``with_programs(scenario, server=..., client=...)``.
"""

import argparse
import math
import shlex
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Optional

from ..scenarios import Case, Expect, is_name, OK, option, RULES, Scenario
from .launches import method_of, ProgramError, run_launch, TRACE_CHOICES
from .named import named_observation
from .observation import Observation
from .preconditions import case_needs, left_note, moment_unmet, unmet
from .udptraced import source_of, takes_udpcall, UDP_CALLS

ROLES = ('server', 'client')
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_PORT = 6677          # the seed's port, for a template with {port} not told the address
# Options a program cannot be told about: such cases stay with netprobe.
CLIENT_OK_OPTIONS = ('src=', 'timeout=')
# What a program launch has in place: netprobe's servers listen meanwhile.
PROVIDES = ('listener',)
# The placeholders that tell a program the case's address: one launch per case.
ADDR_PLACEHOLDERS = ('{addr}', '{hostport}', '{urlhost}', '{name}')


@dataclass(frozen=True)
class Program:
    """A user program: role 'server' or 'client', a template, its protocol, a timeout,
    and how its calls are traced (launches.method_of: auto, preload, syscall)."""
    role: str
    template: str
    proto: str = 'tcp'
    timeout_s: float = DEFAULT_TIMEOUT_S
    trace: str = 'auto'

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
        """True when the program is told the address ({addr}, {hostport} or
        {urlhost}): one launch per case."""
        return any(p in self.template for p in ADDR_PLACEHOLDERS)

    def tells_port(self):
        """True when the program is told the port ({port} or {hostport})."""
        return '{port}' in self.template or '{hostport}' in self.template

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

def positive_seconds(text):
    """argparse type: a finite number of seconds above 0 (not 0, -1, nan or inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f'{text!r}: need a finite number above 0')
    return value


def add_program_options(run_parser):
    """--server / --client / --program-timeout / --trace on `harness run`."""
    run_parser.add_argument('--server', metavar='CMD',
                            help="your server, e.g. 'python3 app.py --host {addr} "
                                 "--port {port}', run on every host")
    run_parser.add_argument('--client', metavar='CMD',
                            help="your client, e.g. 'python3 cli.py {addr} {port} {src}'")
    run_parser.add_argument('--program-timeout', type=positive_seconds,
                            default=DEFAULT_TIMEOUT_S,
                            metavar='S', help='stop a program that has not decided '
                                              f'after S seconds (default {DEFAULT_TIMEOUT_S:g})')
    run_parser.add_argument('--trace', choices=TRACE_CHOICES, default='auto',
                            help='how the programs\' calls are seen: auto (default: '
                                 'libbindtrace.so for a dynamically linked program, the '
                                 'syscall tracer bindtrace-sys for a static one), preload '
                                 '(never ptrace: a static program is only observed), '
                                 'syscall (bindtrace-sys for every program)')


def programs_for(scenario, args=None):
    """The programs to run in scenario: the command line's, else the scenario file's."""
    progs = {}
    if isinstance(scenario, ProgramScenario):
        for role in ROLES:
            template = getattr(scenario, role)
            if template:
                timeout = scenario.program_timeout_s
                if not (isinstance(timeout, (int, float)) and 0 < timeout < math.inf):
                    raise ProgramError(f'scenario {scenario.name}: program timeout '
                                       f'{timeout!r} is not a finite number above 0')
                progs[role] = Program(role, template, scenario.program_proto, timeout)
    timeout = getattr(args, 'program_timeout', DEFAULT_TIMEOUT_S)
    for role in ROLES:
        template = getattr(args, role, None) if args is not None else None
        if template:
            progs[role] = Program(role, template, 'tcp', timeout)
    trace = getattr(args, 'trace', 'auto')
    return [replace(progs[r], trace=trace) for r in ROLES if r in progs]


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
    src: Optional[str] = None     # a client's source address (the case's src=), if any
    outcome: Optional[dict] = None    # filled by run
    case: Optional[Case] = None       # the case it takes (a join, mcast-if or send's)


def urlhost(addr):
    """addr as the host of a URL: '10.0.0.1', '[fd00::1]', '[fe80::1%25h1-eth0]' (an
    IPv6 address in brackets, its scope's '%' written '%25': RFC 6874)."""
    return f'[{addr.replace("%", "%25")}]' if ':' in addr else addr


def hostport(addr, port):
    """addr and port as host:port: '10.0.0.1:7001', '[fd00::1]:7001',
    '[fe80::1%h1-eth0]:7001' (as Go's net.JoinHostPort writes it)."""
    return f'[{addr}]:{port}' if ':' in addr else f'{addr}:{port}'


def wildcard(addr):
    """The wildcard of addr's family: '0.0.0.0' or '::'."""
    return '::' if ':' in addr else '0.0.0.0'


def src_of(case):
    """The source address of a connect case (its src= option), or None."""
    return option(case, 'src')


def takes_case(program, case):
    """True if program takes this case's cell in place of netprobe."""
    if case.kind in UDP_CALLS:
        return takes_udpcall(program, case)
    if case.kind != ('bind' if program.role == 'server' else 'connect'):
        return False
    if case.proto != program.proto:
        return False
    numeric = any(p in program.template for p in ADDR_PLACEHOLDERS if p != '{name}')
    if not (('{name}' in program.template) if is_name(case.addr) else numeric):
        return False    # a name case needs {name}, a numeric one {addr} or the like
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
                          'src': src_of(case) or source_of(case) or wildcard(case.addr),
                          'hostport': hostport(case.addr, case.port),
                          'urlhost': urlhost(case.addr), 'if': option(case, 'if') or '',
                          'name': case.addr}
                told_port = case.port if program.tells_port() else None
                launches.append(Launch(program, case.host, fill(argv, values),
                                       f'{case.kind[0]}{index}', index, case.addr,
                                       told_port, method, src_of(case), case=case))
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


# -- the prober --------------------------------------------------------------------------------

class ProgramRun:
    """The user programs of one scenario, as a prober of the pipeline (runner.py).

    ProgramRun(scenario, programs, state) plans the launches (hosts in topology order)
    and leaves to netprobe every case whose precondition a launch cannot have.
    run(live, role) runs the launches of one role on the live network; merge() puts
    their observations in place of netprobe's; extra_cases() are the columns of the
    programs that choose their own address; logs (after merge) go to save_logs().
    """

    def __init__(self, scenario, programs, state):
        self.scenario = scenario
        self.state = state
        self.launches = plan(scenario, programs, hosts_of(scenario.topo()))
        self.left = {}               # case id -> note: cases a launch cannot take
        needs = case_needs(scenario)
        for launch in self.launches:
            missing = unmet(needs.get(launch.index, ()), PROVIDES) + \
                moment_unmet(scenario, launch)
            if launch.index is not None and missing:
                self.left[launch.cell_id] = left_note(f'{launch.program.role} program',
                                                      missing)
        self.logs = []
        self.cancel = threading.Event()     # set: the run was interrupted

    def run(self, live, role, per_case=None):
        """Every launch of role (per_case: only those told the address, or only those that
        are not; None: both), hosts in parallel, each host's one after another."""
        by_host = {}
        for launch in self.launches:
            if launch.program.role == role and launch.cell_id not in self.left and \
                    per_case in (None, launch.program.per_case()):
                by_host.setdefault(launch.host, []).append(launch)
        with ThreadPoolExecutor(max_workers=max(1, len(by_host))) as pool:
            futures = [pool.submit(self._run_host, live.net.get(h), todo, live.workdir)
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

    def extra_cases(self):
        """[(case id, Case)] of the launches that add a column (not told the address)."""
        out = []
        for launch in self.launches:
            if launch.index is None:
                program = launch.program
                kind = 'bind' if program.role == 'server' else 'connect'
                rule = 'program-starts' if program.role == 'server' else \
                    'program-connects'
                out.append((launch.cell_id, Case(kind, launch.host, '', launch.port,
                                                 Expect(OK, RULES[rule], rule),
                                                 program.proto, (), program.label())))
        return out

    def merge(self, observations):
        """observations (netprobe's) with the programs' in place, and notes on the cases
        left to netprobe; fills self.logs."""
        out = dict(observations)
        for launch in self.launches:
            if launch.cell_id in self.left:
                if launch.cell_id in out:
                    out[launch.cell_id].note = self.left[launch.cell_id]
                continue
            out[launch.cell_id] = observation(launch)
            if launch.outcome:
                self.logs.append({'scenario': self.scenario.name,
                                  'log': _log_name(launch),
                                  'files': launch.outcome['files']})
        return out


def _log_name(launch):
    return f'programs/{launch.cell_id}-{launch.host}'


def observation(launch):
    """The Observation of one launch (ERROR when it was not run)."""
    got = launch.outcome
    extra = {'program': shlex.join(launch.argv), 'log': _log_name(launch),
             'exit': None, 'stopped': False}
    if got is None:
        return Observation.error('the program was not run', launch.method,
                                 sees_peer=False, extra=extra)
    extra.update(exit=got.get('exit'), stopped=got.get('stopped'))
    rec = got.get('record')
    if launch.index is None and rec:
        extra.update(addr=rec.get('addr') or '', port=rec.get('port'))
    call, bound = None, got.get('bind')
    if launch.addr and is_name(launch.addr):    # its call's address was its to choose
        return named_observation(launch, got, extra)
    if bound and launch.index is not None and 'options' in bound:
        call = {'addr': bound.get('addr') or '', 'options': bound.get('options') or [],
                'scope': bound.get('scope')}
    return Observation(got['actual'], got.get('method', launch.method), got.get('message'),
                       None, got.get('local'), got.get('elapsed_us'), sees_peer=False,
                       extra=extra, call=call, tries=got.get('tries'), ok_at=got.get('ok_at'))


def hosts_of(topo):
    """Host names of a Topo in its order."""
    return list(topo.hosts())
