"""Is the network ready to probe?  One question, asked after setup and before faults:

    not_ready(net, scenario, tcp)   what keeps it from being ready, as failure texts
                                    (empty: ready)

Never probe a half-started network.  The pairs checked are the scenario's `ready`
pairs, else a ring per IPv4 subnet (ready_pairs).  A pair whose address Mininet knows
the owner of is ready when a TCP connect gets through: a ping can succeed where TCP
cannot (checksum offload through a userspace switch, a firewall that lets ICMP
through), and a matrix taken then would be wrong; a connect that works proves the
ping too, so those pairs are not pinged first.  A pair with no owner is pinged.

A pair that does not connect within a few tries is pinged, with the ping's patience
(a network still coming up), and connects again once it answers; so a network whose
TCP alone is stuck (a firewall, broken offload) is told after two rounds of connects
(about 12 s), and the failure says which of the two failed: `h1 cannot reach
10.0.0.2` (no ping got through), `h1 cannot open a TCP connection to 10.0.0.2`.

tcp is the prober's half (probe.TcpCheck): tcp.serving(net, {addr: host}) listens on
every address at its owner (a context manager; EnvError when a server could not
start), tcp.unconnected(net, pairs) tries one connect a pair and returns the pairs
that did not connect.  This module decides which pairs, how often, and what a
failure says.
"""

import ipaddress

from ..errors import EnvError
from .hosts import run_on
from .retry import attempts

PING_TRIES = 25        # a try: one ping a pair of up to 1 s (-W1); about 30 s in all
CONNECT_TRIES = 5      # a try: one connect a pair of up to 1 s (--timeout 1000); ~6 s
PAUSE_S = 0.2          # between two tries


def not_ready(net, scenario, tcp):
    """The failure texts of the network's readiness check (empty: ready)."""
    tcp_pairs, icmp = owned_pairs(net, ready_pairs(net, scenario))
    failures = unreachable(unanswered(net, icmp))
    try:
        stuck = connects(net, tcp, tcp_pairs)
        silent = unanswered(net, stuck)
        stuck = connects(net, tcp, [p for p in stuck if p not in silent])
    except EnvError as exc:
        return failures + [str(exc)]
    return failures + unreachable(silent) + [
        f'{h} cannot open a TCP connection to {a}' for h, a in stuck]


def ready_pairs(net, scenario):
    """(host, address) pairs to check: the scenario's, or a ring per IPv4 subnet."""
    if scenario.ready is not None:
        return list(scenario.ready)
    groups = {}
    for host in net.hosts:
        params = host.params.get('ip') or ''
        if '/' not in params:
            continue
        iface = ipaddress.ip_interface(params)
        groups.setdefault(iface.network, []).append((host.name, str(iface.ip)))
    pairs = []
    for members in groups.values():
        if len(members) < 2:
            continue
        for i, (name, _ip) in enumerate(members):
            pairs.append((name, members[(i + 1) % len(members)][1]))
    return pairs


def owners(net):
    """{address: the host Mininet gave it}."""
    return {intf.IP(): host.name for host in net.hosts for intf in host.intfList()
            if intf.IP()}


def owned_pairs(net, pairs):
    """(pairs whose address Mininet knows the owner of, the other pairs)."""
    owner = owners(net)
    return [p for p in pairs if p[1] in owner], [p for p in pairs if p[1] not in owner]


def unanswered(net, pairs, tries=PING_TRIES):
    """Ping every pair (all at once, each ping bounded by -W1) until all answer or
    tries run out; the pairs that never answered.  A ready network costs one try; the
    patience is for Open vSwitch's kernel datapath just started (`ovs-ctl start` in
    the VM lane), whose first bridge can take longer to forward than the connects'
    two rounds wait."""
    pending = list(pairs)
    if not pending:
        return []
    for _ in attempts(tries=tries, pause=PAUSE_S):
        said = run_on([(net.get(name), ['ping', '-6' if ':' in addr else '-4', '-n', '-q',
                                        '-c1', '-W1', addr], None, None)
                       for name, addr in pending])
        pending = [pair for pair, (rc, _out, _err) in zip(pending, said) if rc != 0]
        if not pending:
            break
    return pending


def connects(net, tcp, pairs, tries=CONNECT_TRIES):
    """A TCP connect for every pair, each address's owner serving meanwhile, until all
    connected or tries run out; the pairs that never connected."""
    if not pairs:
        return []
    owner = owners(net)
    pending = list(pairs)
    with tcp.serving(net, {a: owner[a] for a in sorted({a for _h, a in pairs})}):
        for _ in attempts(tries=tries, pause=PAUSE_S):
            pending = tcp.unconnected(net, pending)
            if not pending:
                break
    return pending


def unreachable(pairs):
    """The failure texts of (host, address) pairs that no ping got through."""
    return [f'{name} cannot reach {addr}' for name, addr in pairs]
