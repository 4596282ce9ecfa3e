"""The scenario model: a scenario is data, not a code path.

Scenario (a topology, its setup steps and faults, its servers and cases), Case (one
bind or connect: one cell of a matrix), Expect (the outcome a case should have, why,
and the rule that said so), Step (one command inside a host), Server (a `netprobe
serve`), and the small functions that read them (a case's options, a cell's column).
builders.py makes these (bind, connect, explicit, expect_bind, run, sysctl, ...) and
checks.py validates a scenario against its topology; scenario files import all of it
from harness/scenario.py, whose docstring tells how to write one.
"""

import errno
import functools
import re
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple

# Outcome words besides the errno names (harness/judge/cell.py).
OK, ERROR, NOCALL = 'OK', 'ERROR', 'NOCALL'

# A scenario name becomes a folder name in every run folder, shard and baseline.
NAME_RE = re.compile(r'[A-Za-z0-9._-]{1,100}')
# Outcome words besides the errno names, and what can follow a connect's handshake
# (netprobe's "after"); see harness/judge/cell.py.
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


def retry_s(case):
    """A case's retry= in seconds (netprobe's form: 0.001-600, at most 3 decimals),
    or None (none, or not such a number)."""
    value = option(case, 'retry')
    if value is None or not re.fullmatch(r'[0-9]{1,3}(\.[0-9]{1,3})?', value):
        return None
    seconds = float(value)
    return seconds if 0 < seconds <= 600 else None


def unmapped(addr):
    """An IPv4-mapped IPv6 address as the IPv4 address it is; others as they are."""
    return addr[len('::ffff:'):] if addr.startswith('::ffff:') and '.' in addr else addr


def valid_name(name):
    """True for a scenario name that is safe as one path component."""
    return isinstance(name, str) and bool(NAME_RE.fullmatch(name)) and \
        name not in ('.', '..')


def bare(addr):
    """'fe80::1%h1-eth0' or '[::1]' -> the address alone."""
    return addr.strip('[]').split('%')[0]


def endpoint(addr, port):
    """'10.0.0.1:7001' or '[fd00::1]:7001'."""
    return f'[{addr}]:{port}' if ':' in addr else f'{addr}:{port}'


class ScenarioError(ValueError):
    """A scenario that cannot be run as written (bad address, unknown host, ...)."""


@dataclass(frozen=True, slots=True)   # one a cell: 320,400 at 400 hosts
class Expect:
    """What a case should do: ``OK`` or an errno name, why, and which rule said so.

    peer: for a connect expected ``OK``, the host name the server must answer with
    (None: any answer will do).  A connect answered by another host fails the cell.
    after: what must follow a connect's handshake (AFTERS; ``eof``: a proxy accepted
    and closed; None: not checked); anything else fails the cell.
    within: the outcome must be reached at most this many seconds into the probe
    phase ("OK within 2 s"; None: not checked).  before: every try before the last
    must have had this outcome, and there must be one ("EADDRNOTAVAIL, then OK":
    a case with retry=; None: not checked).  harness/judge/history.py judges both.
    """
    outcome: str
    reason: str
    rule: str = 'explicit'
    peer: Optional[str] = None
    after: Optional[str] = None
    within: Optional[float] = None
    before: Optional[str] = None


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
    at: seconds from the start of the probe phase (a fault only): the step is fired
    inside its host then, while the probes and programs run (harness/net/timeline.py),
    instead of before them, and recorded with the time it really took effect.
    """
    host: str
    argv: Tuple[str, ...]
    why: str
    stdin: Optional[str] = None
    until: Optional[str] = None
    timeout_s: float = 10.0
    together: bool = False
    at: Optional[float] = None


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


@dataclass(frozen=True, slots=True)   # one a cell: 320,400 at 400 hosts
class Case:
    """One call made by host (bind, connect, join, mcast-if, send); one cell of a
    matrix.

    column: the matrix column this cell goes in (default: "proto addr" for binds,
    "proto addr:port" for connects, plus the options; column_label for the others);
    row is always the host.  A join's and a mcast-if's addr is the group, port the
    port bound first (0: none); a send's addr:port is the destination.
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
    """The default column of a cell: 'tcp 10.0.0.1', 'udp [fd00::1]:7001 src=...';
    a join's and a mcast-if's 'udp 239.1.1.1@10.0.0.1' (group@if=), a send's
    'udp 10.0.0.1->10.0.0.2:7001' (src= or pktinfo=, then ' pktinfo')."""
    if kind in UDP_CALLS:
        return udp_call_label(kind, proto, addr, port, options)
    where = addr if kind == 'bind' else endpoint(addr, port)
    extra = ' ' + ' '.join(options) if options else ''
    return f'{proto} {where}{extra}'


# The calls besides bind and connect (netprobe's join, mcast-if and send: UDP).
UDP_CALLS = ('join', 'mcast-if', 'send')


def udp_call_label(kind, proto, addr, port, options):
    """column_label of a join, mcast-if or send case (the options it shows in its
    shape, if=, src=, pktinfo=, are not repeated after it)."""
    rest = list(options)
    if kind == 'send':
        src, how = option_of(rest, 'src'), ''
        if src is None and option_of(rest, 'pktinfo') is not None:
            src, how = option_of(rest, 'pktinfo'), ' pktinfo'
        shown = ('src=', 'pktinfo=') if how else ('src=',)
        rest = [o for o in rest if not o.startswith(shown)]
        where = f'{src or "any"}->{endpoint(addr, port)}{how}'
    else:
        iface = option_of(rest, 'if')
        rest = [o for o in rest if not o.startswith('if=')]
        where = (endpoint(addr, port) if port else addr) + (f'@{iface}' if iface else '')
    extra = ' ' + ' '.join(rest) if rest else ''
    return f'{proto} {where}{extra}'


def option_of(options, name):
    """The value of NAME=VALUE in a list of options, or None."""
    return next((o[len(name) + 1:] for o in options if o.startswith(name + '=')), None)


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
    a notice naming it, and a result saying so in every result file (`sudo make
    vm-test` runs it on Debian's kernel).  host_files: a tuple of hostfiles.HostFiles,
    a host's own /etc/hosts, resolv.conf and gai.conf (none: the machine's files).
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
    # Each host's own resolver files (hostfiles.HostFiles): none, the machine's.
    host_files: tuple = ()
    # A replica of snapshots (harness/scenarios/replica.py: Replica): what completing
    # it needs beyond the built network, and what could not be reproduced.
    replica: Optional[object] = field(default=None, compare=False)
    # DNS servers on hosts (hostfiles.DnsServer; dnsmasq), started after the files.
    dns_servers: tuple = ()
