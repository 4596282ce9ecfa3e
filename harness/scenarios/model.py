"""The scenario API: a scenario is data, not a code path.

A scenario file is a Python module in topologies/ (or one given with
``--scenario-file``).  It exposes

    topos = {'name': TopoClass, ...}     # so `mn --custom FILE --topo name` works
    scenarios = [Scenario(...), ...]     # what `python3 -m harness` runs

and nothing in it runs a command at import time: the harness builds the network, runs the steps,
starts the servers, probes the cases and judges every cell.  Writing a scenario:

    from mininet.topo import Topo
    from harness.scenario import (Scenario, Server, bind, connect, explicit,
                                  expect_bind, expect_connect, addr_del)

    class ThreeHosts(Topo):
        def build(self):
            s1 = self.addSwitch('s1')
            for n in (1, 2, 3):
                self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)

    OWNERS = {'10.0.0.1': 'h1', '10.0.0.2': 'h2', '10.0.0.3': 'h3'}
    scenarios = [Scenario(
        name='my-case', title='h2 binds h1 address', topo=ThreeHosts,
        faults=(addr_del('h1', '10.0.0.1/24', 'h1-eth0', why='the address is gone'),),
        servers=(Server('h3', '0.0.0.0', 7001),),
        cases=(bind('h2', '10.0.0.1', 6677, expect_bind('h2', '10.0.0.1', OWNERS)),
               connect('h1', '10.0.0.3', 7001, explicit('OK', 'h3 listens', peer='h3'))),
    )]

Two rules for scenario files, because `mn --custom FILE` execs the file and copies
EVERY module-level name into mn's own globals: (1) keep module-level names away from
mn's (``hosts``, ``switches``, ``links``, ``tests``, ``HOSTS``, ``Host``, ``Link``,
``error``, ``info``, ``time``, ``exit``, ``version`` ...): prefix helpers and
constants with ``_``; (2) start with the sys.path preamble of topologies/wrong_host.py
(mn runs the file without ``__file__`` and without the repository on sys.path).
A file that fails to import or whose scenarios fail ``validate()`` makes the run exit 2
naming the file and the problem.

Words (see harness/__init__.py): a *step* is one command run inside a host, either
*setup* (part of the intended network, e.g. adding IPv6 addresses) or a *fault* (the
deliberate misconfiguration, recorded as such in matrix.json); a *server* is a
`netprobe serve` the connect cases talk to; a *case* is one bind or connect a host
makes; an *expectation* is the outcome a case should have (``OK`` or an errno name such
as ``EADDRNOTAVAIL``) with a one-line reason and the *rule* that produced it.

Order of a run: build the topology -> setup steps -> data-plane readiness check ->
fault steps -> servers (each waited for by its readiness line) -> one ``netprobe batch``
per host with all of that host's cases (binds in order, then all connects at once) ->
verdicts.  Bind cases do not hold their socket (each one is independent) unless the
``hold`` option is given; servers run during the whole batch, so a bind case on a
server's port meets that server (use another port unless that is the point).

Rules: each cell records which rule produced its expectation (harness/scenarios/rules.py, the
one registry; ``explicit`` means the scenario author wrote the outcome by hand).
"""

import errno
import functools
import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Optional, Tuple

from .rules import RULES

# Outcome words besides the errno names (harness/judge/cells.py).
OK, ERROR, NOCALL = 'OK', 'ERROR', 'NOCALL'


KINDS = ('bind', 'connect')
PROTOS = ('tcp', 'udp')
# Plan options netprobe's batch knows (see the netprobe contract), per kind.
BIND_OPTIONS = ('reuseaddr', 'reuseport', 'freebind', 'v6only=', 'dev=', 'hold',
                'nolisten', 'family=')
CONNECT_OPTIONS = ('freebind', 'dev=', 'hold', 'src=', 'sport=', 'timeout=', 'nogreet',
                   'family=')
SERVER_OPTIONS = ('reuseaddr', 'reuseport', 'freebind', 'v6only=', 'dev=')


# A scenario name becomes a folder name in every run folder, shard and baseline.
NAME_RE = re.compile(r'[A-Za-z0-9._-]{1,100}')
# Outcome words besides the errno names, and what can follow a connect's handshake
# (netprobe's "after"); see harness/judge/cells.py.
OUTCOMES = (OK,) + tuple(sorted(errno.errorcode.values()))
AFTERS = ('greeting', 'data', 'eof', 'reset', 'timeout', 'error')


def option(case, name):
    """The value of a case's NAME=VALUE option (src=, timeout=, ...), or None."""
    for opt in case.options:
        if opt.startswith(name + '='):
            return opt[len(name) + 1:]
    return None


def timeout_of(case):
    """A case's timeout= in ms, or None (also for one that is not a number)."""
    value = option(case, 'timeout')
    return int(value) if value is not None and value.isdigit() else None


def unmapped(addr):
    """An IPv4-mapped IPv6 address as the IPv4 address it is; others as they are."""
    return addr[len('::ffff:'):] if addr.startswith('::ffff:') and '.' in addr else addr


def valid_name(name):
    """True for a scenario name that is safe as one path component."""
    return isinstance(name, str) and bool(NAME_RE.fullmatch(name)) and \
        name not in ('.', '..')


class ScenarioError(ValueError):
    """A scenario that cannot be run as written (bad address, unknown host, ...)."""


@dataclass(frozen=True)
class Expect:
    """What a case should do: ``OK`` or an errno name, why, and which rule said so.

    peer: for a connect expected ``OK``, the host name the server must answer with
    (None: any answer will do).  A connect answered by another host fails the cell.
    after: what must follow a connect's handshake (AFTERS; ``eof``: a proxy accepted
    and closed; None: not checked); anything else fails the cell.
    """
    outcome: str
    reason: str
    rule: str = 'explicit'
    peer: Optional[str] = None
    after: Optional[str] = None


@dataclass(frozen=True)
class Step:
    """One command run inside a Mininet host (never in the root namespace).

    argv is an argument list (no shell).  stdin: text fed to the command (e.g. an nft
    ruleset for ``nft -f -``).  until: None runs once and requires exit status 0;
    'empty-stdout' reruns the command every 0.1 s until it exits 0 with nothing on
    stdout, for at most timeout_s (e.g. wait until no address is tentative).  A step
    that fails makes every cell of the scenario an ``error`` naming the step.
    together: consecutive steps that have it run at once (at_once(): one per host,
    none needing another's effect), not one after the other; each is still recorded
    and checked on its own.
    """
    host: str
    argv: Tuple[str, ...]
    why: str
    stdin: Optional[str] = None
    until: Optional[str] = None
    timeout_s: float = 10.0
    together: bool = False


@dataclass(frozen=True)
class Server:
    """A ``netprobe serve`` on host at addr:port, started before the probes.

    options: the plan-style server options (reuseaddr, reuseport, freebind,
    v6only=0|1, dev=IF).  family 6 makes an IPv6 socket (needed for '::').
    must_start: False when the scenario expects the listen to fail (then its record
    is kept in matrix.json and connects to it simply find nothing listening).
    proxy_to: 'ADDR:PORT' makes it a userland proxy like docker-proxy (TCP).
    """
    host: str
    addr: str
    port: int
    proto: str = 'tcp'
    options: Tuple[str, ...] = ()
    must_start: bool = True
    proxy_to: Optional[str] = None


@dataclass(frozen=True)
class Case:
    """One bind or connect made by host; one cell of a matrix.

    column: the matrix column this cell goes in (default: "proto addr" for binds,
    "proto addr:port" for connects, plus the options); row is always the host.
    """
    kind: str
    host: str
    addr: str
    port: int
    expect: Expect
    proto: str = 'tcp'
    options: Tuple[str, ...] = ()
    column: str = ''

    def label(self):
        """The column label of this cell."""
        return self.column or column_label(self.kind, self.proto, self.addr, self.port,
                                           self.options)


@functools.lru_cache(maxsize=8192)       # a matrix has few columns and many cells
def column_label(kind, proto, addr, port, options=()):
    """The default column of a cell: 'tcp 10.0.0.1', 'udp [fd00::1]:7001 src=...'."""
    where = addr if kind == 'bind' else _endpoint(addr, port)
    extra = ' ' + ' '.join(options) if options else ''
    return f'{proto} {where}{extra}'


@dataclass(frozen=True)
class Scenario:
    """A topology, what is done to it, what is probed, and what should happen.

    topo: a Mininet Topo class (or any callable returning a Topo); every host needs
    an explicit ``ip=`` so the topology as built is the one the expectations assume.
    switches: the switch kinds this scenario fits (ovs-user drops frames above ~40
    ports on one bridge, so large topologies leave it out).  ready: (host, addr)
    pairs pinged before the faults to prove the data plane works; None = each host
    pings the next host of its IPv4 subnet.  default: part of the default suite.
    order: position in the suite (the issue's numbering).  modules: the kernel
    modules it needs (vrf, dummy, sch_netem); where one is missing it is skipped with
    a notice naming it (`sudo make vm-test` runs it on Debian's kernel).
    """
    name: str
    title: str
    topo: Callable
    cases: Tuple[Case, ...]
    setup: Tuple[Step, ...] = ()
    faults: Tuple[Step, ...] = ()
    servers: Tuple[Server, ...] = ()
    switches: Tuple[str, ...] = ('lxbr', 'ovs', 'ovs-user')
    modules: Tuple[str, ...] = ()
    ready: Optional[Tuple[Tuple[str, str], ...]] = None
    default: bool = True
    order: int = 50
    source: str = field(default='', compare=False)
    # A scenario derived from a topology (harness/scenarios/derive.py): the runner completes it
    # (derive.complete) once the network is built and its addresses are known;
    # mutation: None or (catalogue entry, target host) applied then.
    derived: bool = False
    mutation: Optional[tuple] = field(default=None, compare=False)


# -- building cases and expectations ---------------------------------------------

def bind(host, addr, port, expect, proto='tcp', options=(), column=''):
    """A bind case: host binds addr:port (TCP binds also listen, as a server would)."""
    return Case('bind', host, addr, int(port), expect, proto, tuple(options), column)


def connect(host, addr, port, expect, proto='tcp', options=(), column=''):
    """A connect case: host connects to addr:port (options: src=, sport=, timeout=...)."""
    return Case('connect', host, addr, int(port), expect, proto, tuple(options), column)


def explicit(outcome, reason, peer=None, after=None):
    """An expectation written by hand: outcome is 'OK' or an errno name."""
    return Expect(outcome, reason, 'explicit', peer, after)


def expect_bind(host, addr, owners):
    """The expectation for host binding addr, by the owner/wildcard/loopback rules.

    owners maps each unicast address (text, as in the case) to the host holding it
    after the faults; an address nobody holds is EADDRNOTAVAIL everywhere.
    """
    special = _special(addr)
    if special == 'wildcard':
        return Expect(OK, f'{addr} is the wildcard: binds on every host', 'wildcard-binds')
    if special == 'loopback':
        return Expect(OK, f'{host} has its own lo with {addr}', 'loopback-binds')
    owner = owners.get(addr)
    if owner == host:
        return Expect(OK, f'{host} holds {addr}', 'owner-binds')
    holder = f'{owner} holds it' if owner else 'no host holds it'
    return Expect('EADDRNOTAVAIL', f'{addr} is not on {host} ({holder})', 'owner-binds')


def expect_connect(host, addr, port, listeners, src=None, owners=None, proto='tcp'):
    """The expectation for host connecting to addr:port by the listener rules.

    listeners maps (addr, port) to the host whose server accepts there; src, with
    owners, applies the foreign-source rule first.
    """
    if src is not None and owners is not None and owners.get(src) != host:
        return Expect('EADDRNOTAVAIL', f'source {src} is not on {host}', 'foreign-source')
    server = listeners.get((addr, int(port)))
    if server:
        return Expect(OK, f'{server} listens on {_endpoint(addr, port)}',
                      'listener-answers', peer=server)
    if proto != 'tcp':
        raise ScenarioError(f'no rule for a {proto} connect to {addr}:{port} without a '
                            'listener; write explicit(...)')
    return Expect('ECONNREFUSED', f'nothing listens on {_endpoint(addr, port)}',
                  'no-listener-refuses')


# -- building steps ----------------------------------------------------------------

def run(host, argv, why, **kw):
    """Any command inside host, as an argument list."""
    return Step(host, tuple(str(a) for a in argv), why, **kw)


def at_once(steps):
    """steps to run at the same time (Step.together): for independent steps on many
    hosts, such as filling every host's ARP table, which one after the other cost a
    process start each (200 hosts: 2.3 s; at once: a fraction)."""
    return tuple(replace(step, together=True) for step in steps)


def addr_add(host, cidr, dev, why, nodad=False):
    """ip addr add CIDR dev DEV (IPv6: with nodad when asked)."""
    argv = ['ip', 'addr', 'add', cidr, 'dev', dev] + (['nodad'] if nodad else [])
    return run(host, argv, why)


def addr_del(host, cidr, dev, why):
    """ip addr del CIDR dev DEV: the address disappears from the host."""
    return run(host, ['ip', 'addr', 'del', cidr, 'dev', dev], why)


def link_down(host, dev, why):
    """ip link set DEV down: the interface is down, its addresses stay."""
    return run(host, ['ip', 'link', 'set', 'dev', dev, 'down'], why)


def sysctl(host, key, value, why):
    """sysctl -w KEY=VALUE inside host (net.* keys are per namespace)."""
    return run(host, ['sysctl', '-q', '-w', f'{key}={value}'], why)


def port_range(host, low, high, why):
    """Narrow the ephemeral port range (net.ipv4.ip_local_port_range)."""
    return sysctl(host, 'net.ipv4.ip_local_port_range', f'{low} {high}', why)


def nft(host, ruleset, why):
    """Load an nft ruleset (text) inside host with `nft -f -`."""
    return run(host, ['nft', '-f', '-'], why, stdin=ruleset)


def wait_dad(host, dev, why, timeout_s=10.0):
    """Wait until no IPv6 address on dev is tentative (DAD finished).

    A dadfailed address keeps the tentative flag for good, so it is left out:
    DAD is over for it too.
    """
    return run(host, ['ip', '-6', 'addr', 'show', 'dev', dev, 'tentative', '-dadfailed'],
               why, until='empty-stdout', timeout_s=timeout_s)


# -- checking ---------------------------------------------------------------------

def topo_hosts(topo):
    """{host name: its ip= text} of a Topo instance."""
    return {h: topo.nodeInfo(h).get('ip') for h in topo.hosts()}


def validate(scenario, topo):
    """Raise ScenarioError naming the first thing wrong in scenario (topo built)."""
    where = f'scenario {scenario.name!r}'
    if not valid_name(scenario.name):
        raise ScenarioError(f'{where}: name must be 1-100 of A-Z a-z 0-9 . _ - '
                            '(and not . or ..)')
    hosts = topo_hosts(topo)
    for name, ip in hosts.items():
        if not ip and not scenario.derived:    # a derived one reads the built network
            raise ScenarioError(f'{where}: host {name} has no ip= in the topology')
        if ip:
            _check_addr(f'{where}: host {name} ip', ip.split('/')[0])
    _check_ready(where, scenario.ready, hosts)
    for step in scenario.setup + scenario.faults:
        _check_host(where, step.host, hosts)
        if not step.argv or step.until not in (None, 'empty-stdout'):
            raise ScenarioError(f'{where}: bad step {step!r}')
    for server in scenario.servers:
        _check_host(where, server.host, hosts)
        _check_endpoint(f'{where}: server on {server.host}', server.addr, server.port,
                        server.proto)
        _check_options(f'{where}: server on {server.host}', server.options,
                       SERVER_OPTIONS + ('family=',))
        if server.proxy_to is not None:   # 'ADDR:PORT' ([V6]:PORT), TCP only
            to, _, port = server.proxy_to.rpartition(':')
            _check_endpoint(f'{where}: proxy on {server.host} to {server.proxy_to}',
                            to.strip('[]'), int(port) if port.isdecimal() else -1,
                            server.proto if server.proto == 'tcp' else 'tcp only')
    if not scenario.cases and not scenario.derived:
        raise ScenarioError(f'{where}: no cases')
    cells = {}
    for case in scenario.cases:
        _check_case(where, case, hosts)
        cell = (case.kind, case.host, case.label())
        if cell in cells:
            raise ScenarioError(
                f'{where}: two {case.kind} cases of {case.host} share the column '
                f'{case.label()!r} ({cells[cell]} and {case.addr}:{case.port}); '
                'give one a column=')
        cells[cell] = f'{case.addr}:{case.port}'
    for sw in scenario.switches:
        if sw not in ('lxbr', 'ovs', 'ovs-user'):
            raise ScenarioError(f'{where}: unknown switch kind {sw!r}')
    for module in scenario.modules:
        if not re.fullmatch(r'[a-z0-9_]{1,56}', str(module)):
            raise ScenarioError(f'{where}: {module!r} is not a kernel module name')


def _check_case(where, case, hosts):
    """Raise ScenarioError if one case is malformed."""
    what = f'{where}: {case.kind} case on {case.host} to {case.addr}:{case.port}'
    if case.kind not in KINDS:
        raise ScenarioError(f'{what}: kind must be bind or connect')
    _check_host(where, case.host, hosts)
    _check_endpoint(what, case.addr, case.port, case.proto)
    allowed = BIND_OPTIONS if case.kind == 'bind' else CONNECT_OPTIONS
    _check_options(what, case.options, allowed)
    exp = case.expect
    if not isinstance(exp, Expect) or not exp.reason:
        raise ScenarioError(f'{what}: expectation needs an outcome and a reason')
    if exp.outcome not in OUTCOMES:
        raise ScenarioError(f'{what}: outcome {exp.outcome!r} is not OK or an errno name')
    if exp.peer is not None and not _plain(exp.peer):
        raise ScenarioError(f'{what}: peer {exp.peer!r} is not a host name')
    if exp.after is not None and exp.after not in AFTERS:
        raise ScenarioError(f'{what}: after {exp.after!r} is not one of {AFTERS}')
    if exp.rule not in RULES:
        raise ScenarioError(f'{what}: unknown rule {exp.rule!r} (known: {", ".join(RULES)})')


def _check_ready(where, ready, hosts):
    """Raise ScenarioError unless ready is None or (host, address) pairs of the
    topology's hosts and numeric addresses (readiness pings them)."""
    if ready is None:
        return
    if not isinstance(ready, (tuple, list)):
        raise ScenarioError(f'{where}: ready {ready!r} is not a tuple of (host, address) '
                            'pairs')
    for pair in ready:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ScenarioError(f'{where}: ready pair {pair!r} is not (host, address)')
        what = f'{where}: ready pair {tuple(pair)!r}'
        _check_host(what, pair[0], hosts)
        _check_addr(what, pair[1])


def _check_host(where, host, hosts):
    if not isinstance(host, str) or host not in hosts:
        raise ScenarioError(f'{where}: unknown host {host!r} (topology has '
                            f'{", ".join(sorted(hosts))})')


def _check_endpoint(what, addr, port, proto):
    _check_addr(what, addr)
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ScenarioError(f'{what}: port {port!r} is not 0-65535')
    if proto not in PROTOS:
        raise ScenarioError(f'{what}: proto {proto!r} is not tcp or udp')


def _plain(text):
    """True when text is one printable token (no space, newline or control byte):
    what becomes a word of a netprobe plan line must not be able to start another."""
    return isinstance(text, str) and bool(text) and text.isprintable() and \
        not any(c.isspace() for c in text)


def _check_addr(what, addr):
    if not _plain(addr):
        raise ScenarioError(f'{what}: address {addr!r} holds a space or control byte')
    try:
        ipaddress.ip_address(_bare(addr))
    except ValueError:
        raise ScenarioError(f'{what}: {addr!r} is not a numeric IPv4/IPv6 address') from None


def _check_options(what, options, allowed):
    for opt in options:
        if not _plain(opt):
            raise ScenarioError(f'{what}: option {opt!r} holds a space or control byte')
        if not any(opt == a or (a.endswith('=') and opt.startswith(a)) for a in allowed):
            raise ScenarioError(f'{what}: unknown option {opt!r}')


def _bare(addr):
    """'fe80::1%h1-eth0' or '[::1]' -> the address alone."""
    return addr.strip('[]').split('%')[0]


@functools.lru_cache(maxsize=8192)       # parsed once per address, not once per cell
def _special(addr):
    """'wildcard', 'loopback' or None: what kind of address addr is for a bind."""
    ip = ipaddress.ip_address(_bare(addr))
    if ip.is_unspecified:
        return 'wildcard'
    return 'loopback' if ip.is_loopback else None


def _endpoint(addr, port):
    return f'[{addr}]:{port}' if ':' in addr else f'{addr}:{port}'


def endpoint(addr, port):
    """'10.0.0.1:7001' or '[fd00::1]:7001'."""
    return _endpoint(addr, port)
