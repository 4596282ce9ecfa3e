"""Any Mininet topology (`--custom FILE --topo NAME,ARGS`): the scenario derived from it.

Topologies come exactly as `mn` takes them (harness/scenarios/topos.py).  Hosts without an
explicit `ip=` get Mininet's usual addresses.

The scenario is derived from the network AS BUILT (never from the file): after the
build, every host's addresses (IPv4 and IPv6, `ip -j addr` inside the host), its
IPv6 state and whether it forwards (a router: forwarding on and several subnets) are
read, and the layer-2 segments are computed from the links (hosts whose interfaces
hang off the same switches).  Then:

    bind matrix     every host binds, on BIND_PORT, TCP and UDP: every address any
                    host holds, the wildcards, loopback, and one address of each
                    subnet that nobody holds; rules owner-binds, wildcard-binds,
                    loopback-binds.
    connect matrix  (each connect with a 300 ms timeout) every host runs a netprobe
                    server (TCP SERVE_PORT, UDP SERVE_PORT + 1, dual-stack where
                    IPv6 is on); every host connects to every address of every
                    host.  On one segment and one subnet (or to its own address)
                    the rule listener-answers predicts OK from the owner; anything
                    else (another subnet, through a router) is `control`: its
                    expectation is what netprobe measures on the same network in the
                    same run (runner.py), said so in the cell.

A mutation (harness/scenarios/mutate.py) changes the World (who holds what, what is
broken on which host) before the cases are made: the same rules predict its cells.
"""

import copy
import ipaddress
import json
import os
from dataclasses import dataclass, field, replace
from typing import Dict, List, Set, Tuple

from ..errors import UsageError
from .builders import bind, connect, expect_bind
from .model import endpoint, Expect, OK, Scenario, Server
from .topos import load_topos, scenario_name, topo_factory

BIND_PORT = 6677
SERVE_PORT = 7001
# A silent path costs this much per cell; an answer over the emulated links (no delay
# of their own) comes long before it.  The kernel's own verdict for a silent TCP peer
# comes only once its SYN retransmissions run out (net.ipv4.tcp_syn_retries, 6 by
# default: about two minutes): a cell that times out says ETIMEDOUT here, by rule.
CONNECT_TIMEOUT = 'timeout=300'


def derived(spec, custom_files, mutation=None):
    """The Scenario of `--topo spec` (cases derived once the network is built)."""
    topos = load_topos(custom_files)
    factory = topo_factory(topos, spec)
    source = ' '.join([f'--custom {os.path.basename(p)}' for p in custom_files] +
                      [f'--topo {spec}'])
    title = f'derived from {source}' + (f' (mutation {mutation[0].name} on '
                                        f'{mutation[1]})' if mutation else '')
    return Scenario(name=scenario_name(spec), title=title, topo=factory, cases=(),
                    default=False, source=source,
                    derived=True, mutation=mutation)


class NotApplicable(Exception):
    """A mutation this target cannot take (it has no IPv6 address to re-add, ...)."""


# -- the network as built ----------------------------------------------------------------------

@dataclass
class Addr:
    """One address a host holds: text, prefix length, interface, network."""
    addr: str
    prefixlen: int
    intf: str

    @property
    def network(self):
        return ipaddress.ip_interface(f'{self.addr}/{self.prefixlen}').network

    @property
    def v6(self):
        return ':' in self.addr


@dataclass
class World:
    """What the network is: addresses, routes, segments, and what is broken where.
    Built from the live network (read_world); `built` keeps the addresses as built
    (they name the matrix columns), the rest a mutation may change."""
    hosts: List[str]
    built: Dict[str, List[Addr]]                 # host -> addresses as built
    addrs: Dict[str, List[Addr]]                 # host -> addresses it holds now
    routes: Dict[str, List[Tuple[object, str]]]  # host -> [(network, dev)]
    segment: Dict[Tuple[str, str], int]          # (host, intf) -> layer-2 segment
    v6: Dict[str, bool]                          # host -> IPv6 enabled
    routers: Set[str] = field(default_factory=set)
    # what a mutation broke
    nonlocal_bind: Set[str] = field(default_factory=set)
    v6_off: Set[str] = field(default_factory=set)
    tentative: Dict[str, Set[str]] = field(default_factory=dict)
    link_down: Set[Tuple[str, str]] = field(default_factory=set)
    firewall: Dict[str, str] = field(default_factory=dict)     # host -> drop|reject
    ports_exhausted: Set[str] = field(default_factory=set)
    port_taken: Set[str] = field(default_factory=set)
    # connects no rule predicts: (src or '*', addr), or (src, '*4'/'*6') for a family
    unpredictable: Set[Tuple[str, str]] = field(default_factory=set)
    extra_columns: List[str] = field(default_factory=list)   # addresses a mutation added
    udp_cases: list = field(default_factory=list)     # a mutation's joins, sends (mutate_udp)
    in_time: Set[Tuple[str, str]] = field(default_factory=set)  # binds racing a timed step

    def owners(self):
        """{address: host} of every address held now."""
        return {a.addr: h for h, addrs in self.addrs.items() for a in addrs}

    def subnets(self):
        """Every subnet of the network as built, IPv4 first."""
        return sorted({a.network for al in self.built.values() for a in al},
                      key=lambda n: (n.version, n))

    def drop_routes(self, host, keep):
        """Forget host's routes for which keep(network, dev) is False."""
        self.routes[host] = [(n, d) for n, d in self.routes[host] if keep(n, d)]


def read_world(net):
    """The World of a live Mininet network."""
    hosts = [h.name for h in net.hosts]
    addrs, routes, v6, routers = {}, {}, {}, set()
    for host in net.hosts:
        addrs[host.name] = _host_addrs(host)
        routes[host.name] = _host_routes(host)
        v6[host.name] = _sysctl(host, 'net.ipv6.conf.all.disable_ipv6') == '0'
        nets = {a.network for a in addrs[host.name]}
        if len(nets) > 1 and _sysctl(host, 'net.ipv4.ip_forward') == '1':
            routers.add(host.name)
    built = {h: list(a) for h, a in addrs.items()}
    return World(hosts, built, addrs, routes, _segments(net), v6, routers)


def _ip_json(host, argv):
    proc = host.popen(['ip', '-j'] + argv)
    out, _err = proc.communicate()
    return json.loads(out.decode() or '[]')


def _host_routes(host):
    """[(network, dev)] of a host's main routing table, IPv4 and IPv6."""
    out = []
    for family in ('-4', '-6'):
        for route in _ip_json(host, [family, 'route', 'show']):
            dst = route.get('dst')
            dst = ('0.0.0.0/0' if family == '-4' else '::/0') if dst == 'default' else dst
            try:
                out.append((ipaddress.ip_network(dst, strict=False), route.get('dev')))
            except (TypeError, ValueError):
                continue
    return out


def _host_addrs(host):
    """A host's global addresses (not lo, not link-local, not tentative)."""
    found = []
    for link in _ip_json(host, ['addr', 'show']):
        if link.get('ifname') == 'lo':
            continue
        for info in link.get('addr_info', []):
            if info.get('scope') != 'global' or info.get('tentative') or \
                    info.get('dadfailed'):
                continue
            found.append(Addr(info['local'], int(info['prefixlen']), link['ifname']))
    return found


def _sysctl(host, key):
    proc = host.popen(['sysctl', '-n', key])
    out, _err = proc.communicate()
    return out.decode().strip()


def _segments(net):
    """{(host, intf): segment id}: interfaces joined by switches share a segment."""
    switches = {s.name for s in net.switches}
    parent = {}

    def root(n):
        parent.setdefault(n, n)
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    def end(intf):
        node = intf.node.name
        return node if node in switches else (node, intf.name)
    for link in net.links:
        parent[root(end(link.intf1))] = root(end(link.intf2))
    ids, out = {}, {}
    for host in net.hosts:
        for intf in host.intfList():
            if intf.name != 'lo':
                out[(host.name, intf.name)] = ids.setdefault(root((host.name, intf.name)),
                                                             len(ids))
    return out


# -- the derived cases --------------------------------------------------------------------------

@dataclass
class Derived:
    """What derivation made of a built network: the complete scenario, and the
    mutation's fault steps and port holders (servers), for the runner to apply before
    anything is probed; world: the network as read before the mutation (untouched)."""
    scenario: Scenario
    steps: list
    holders: list
    world: World = None


def complete(scenario, net, world=None):
    """The scenario of the built network net (and its mutation's steps and holders).
    world: the network's World when the caller knows it still holds (a shared network
    whose last mutation was undone and the undo proved: net/undo.py compares a superset
    of what read_world reads); read from net otherwise.  It is not changed."""
    world = read_world(net) if world is None else world
    pristine, world = world, copy.deepcopy(world)   # a mutation edits its world
    steps, more = [], []
    if scenario.mutation is not None:
        entry, target = scenario.mutation
        if target not in world.hosts:
            raise UsageError(f'--mutate-hosts: no host {target} in the topology')
        steps, more = entry.apply(world, target)
    plan = scenario.replica          # a replica: what the network cannot say itself
    if plan is not None:
        plan.adjust(world, Addr)
    servers = list(scenario.servers if plan is not None else ()) + list(serve_all(world))
    cases = bind_cases(world) + connect_cases(world) + list(world.udp_cases)
    if plan is not None:
        cases = [plan.expectation(c) for c in cases] + plan.extra_cases(
            scenario.mutation is not None) + plan.hostname_cases(world, more)
    if scenario.mutation is not None:  # a control measurement was of the unmutated network
        cases = [replace(c, expect=replace(c.expect, rule='observed',
                                           reason='no rule predicts this cell under '
                                                  'the mutation', peer=None))
                 if c.expect.rule == 'control' else c for c in cases]
    timed = tuple(s for s in steps if s.at is not None)   # fired by the timeline
    return Derived(replace(scenario, cases=tuple(cases), servers=tuple(servers),
                           faults=tuple(scenario.faults) + timed), steps, more, pristine)


def serve_all(world):
    """A netprobe server on every host: TCP SERVE_PORT, UDP SERVE_PORT + 1."""
    for host in world.hosts:
        for proto, port in (('tcp', SERVE_PORT), ('udp', SERVE_PORT + 1)):
            if world.v6[host] and host not in world.v6_off:
                yield Server(host, '::', port, proto, ('v6only=0',))
            else:
                yield Server(host, '0.0.0.0', port, proto)


def bind_columns(world):
    """The addresses of the bind matrix, in order."""
    held = sorted({a.addr for al in world.built.values() for a in al},
                  key=lambda a: (':' in a, ipaddress.ip_address(a)))
    any_v6 = any(world.v6.values())
    out = held + [a for a in world.extra_columns if a not in held]
    out += ['0.0.0.0', '127.0.0.1'] + (['::', '::1'] if any_v6 else [])
    for net in world.subnets():
        free = unheld(net, set(held))
        if free:
            out.append(free)
    return out


def unheld(net, held):
    """One address of subnet net that nobody holds (the highest free host address)."""
    last = net.broadcast_address - (1 if net.version == 4 else 0)
    for n in range(64):
        cand = str(last - n)
        if cand not in held and ipaddress.ip_address(cand) in net:
            return cand
    return None


def bind_cases(world):
    """Every host binds every column address, TCP and UDP."""
    return [bind(h, addr, BIND_PORT, expect_bind_in(world, h, addr), proto)
            for h in world.hosts for addr in bind_columns(world)
            for proto in ('tcp', 'udp')]


def expect_bind_in(world, host, addr):
    """The expectation of host binding addr in world (mutations included)."""
    ip = ipaddress.ip_address(addr)
    if ip.version == 6 and host in world.v6_off and not ip.is_unspecified:
        return Expect('EADDRNOTAVAIL', f'IPv6 is disabled on {host}: it holds no IPv6 '
                      'address, ::1 included', 'ipv6-off')
    if (host, addr) in world.in_time:     # a timed step changes addr while probes run
        return Expect(OK, 'no rule says when this bind ran under the mutation', 'observed')
    if addr in world.tentative.get(host, ()):
        return Expect('EADDRNOTAVAIL', f'{addr} on {host} is still tentative (DAD) or '
                      'failed DAD', 'tentative-binds')
    exp = expect_bind(host, addr, world.owners())
    if host in world.nonlocal_bind and ip.version == 4 and exp.outcome != OK:
        return Expect(OK, f'ip_nonlocal_bind=1 on {host}: any IPv4 address binds',
                      'nonlocal-bind')
    if host in world.port_taken and exp.outcome == OK:
        return Expect('EADDRINUSE', f'another process on {host} holds port {BIND_PORT} '
                      'on every address ([::] with v6only=0)', 'port-taken')
    return exp


def connect_cases(world):
    """Every host to every address of every host (TCP SERVE_PORT, UDP SERVE_PORT+1)."""
    cases = []
    for src in world.hosts:
        for dst in world.hosts:
            for a in world.built[dst]:
                for proto, port in (('tcp', SERVE_PORT), ('udp', SERVE_PORT + 1)):
                    cases.append(connect(src, a.addr, port,
                                         expect_connect_in(world, src, a.addr, proto),
                                         proto, (CONNECT_TIMEOUT,),
                                         f'{proto} {endpoint(a.addr, port)}'))
    return cases


def expect_connect_in(world, src, addr, proto):
    """The expectation of src connecting to addr (a server on every host), in the
    order the kernel decides: source address, route, source port, then the path."""
    owner = world.owners().get(addr)
    ip = ipaddress.ip_address(addr)
    if ip.version == 6 and src in world.v6_off:
        return Expect('EADDRNOTAVAIL', f'IPv6 is disabled on {src}: no IPv6 source '
                      'address', 'ipv6-off')
    if owner != src and not routed(world, src, ip):
        return Expect('ENETUNREACH', f'{src} has no route to {addr}', 'no-route')
    if src in world.ports_exhausted:
        return Expect('EADDRNOTAVAIL' if proto == 'tcp' else 'EAGAIN',
                      f'every ephemeral port of {src} is held', 'ports-exhausted')
    family = '*6' if ip.version == 6 else '*4'
    if owner is None or {(src, addr), ('*', addr), (src, family)} & world.unpredictable:
        return Expect(OK, 'no rule predicts this cell under the mutation', 'observed')
    if owner in world.firewall:
        how = world.firewall[owner]
        return Expect('ETIMEDOUT' if how == 'drop' else 'ECONNREFUSED',
                      f'nft on {owner} {how}s {proto} port of its server', f'fw-{how}')
    if proto == 'udp' and not primary(world, owner, addr) and \
            (owner == src or same_segment(world, src, owner, ip)):
        return Expect('ETIMEDOUT', f'{addr} is a secondary address of {owner}: its UDP '
                      'server (bound to the wildcard) answers from the primary one, and '
                      f'{src}\'s connected socket drops that answer', 'udp-reply-source')
    if owner == src or same_segment(world, src, owner, ip):
        return Expect(OK, f'{owner} listens on {addr} (a server on every host)',
                      'listener-answers', peer=owner)
    return Expect(OK, f'{src} -> {addr} crosses subnets or a router: measured (control)',
                  'control')


def primary(world, host, addr):
    """True if addr is the first address host holds in its subnet on its interface
    (the source the kernel picks for answers from a socket bound to the wildcard)."""
    a = next(x for x in world.addrs[host] if x.addr == addr)
    first = next(x for x in world.addrs[host] if x.network == a.network and
                 x.intf == a.intf)
    return first.addr == addr


def routed(world, src, ip):
    """True if a route of src (longest prefix) leads to ip over an interface that is up."""
    best = None
    for net, dev in world.routes.get(src, ()):
        if net.version == ip.version and ip in net and \
                (best is None or net.prefixlen > best[0].prefixlen):
            best = (net, dev)
    return best is not None and (src, best[1]) not in world.link_down


def same_segment(world, src, owner, ip):
    """True when src reaches ip on one layer-2 segment and subnet (no router)."""
    dst = next(a for a in world.addrs[owner] if a.addr == str(ip))
    for a in world.addrs[src]:
        if ip in a.network and world.segment.get((src, a.intf)) == \
                world.segment.get((owner, dst.intf)) and (src, a.intf) not in \
                world.link_down and (owner, dst.intf) not in world.link_down:
            return True
    return False


def apply_control(cases, measured):
    """cases with each `control` expectation set to its control measurement."""
    out = []
    for cid, case in cases:
        if case.expect.rule == 'control':
            obs = measured.get(cid)
            outcome = obs.actual if obs is not None else 'ERROR'
            peer = obs.peer if obs is not None and outcome == OK else None
            case = replace(case, expect=Expect(
                outcome, f'{case.expect.reason}: {outcome}'
                         f'{" from " + peer if peer else ""}', 'control', peer=peer))
        out.append((cid, case))
    return out
