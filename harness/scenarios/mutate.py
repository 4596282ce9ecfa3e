"""Mutations (`--mutate all|NAME,...`): a catalogue of misconfigurations, each applied
alone to one target host of any topology, on a freshly built network.

Each entry says what it does (the exact commands), what real-world event it stands
for, and changes the derive.World so that the documented rules predict its effect:
the bind-side effects and the deterministic connect-side effects are expected by
rule (netprobe's cells pass or fail like any cell); what no rule predicts is rule
`observed` (its expectation is what was observed).  Every mutated cell carries
`control` (its outcome on the unmutated network) and `changed`.

The catalogue is CATALOGUE below; `bindlab list --mutations` prints it.
"""

from dataclasses import dataclass
from functools import partial
from typing import Callable

from ..errors import UsageError
from .derive import Addr, BIND_PORT, NotApplicable, SERVE_PORT
from .builders import run, sysctl
from .model import Server, Step
from .mutate_names import dns_down, hosts_stale, localhost_v6, name_public
from .mutate_time import addr_late, dad_slow, link_flap, renumber, vip_failover
from .mutate_udp import mcast_if_gone, source_gone
from .mutate_world import first_intf as _first_intf, new_ula


@dataclass(frozen=True)
class Mutation:
    """One catalogue entry: apply(world, target) -> (steps, what the target is given
    before anything runs: port holders (Server) and resolver files (HostFiles, the
    name mutations')), or raises NotApplicable saying why this target cannot take it."""
    name: str
    does: str
    stands_for: str
    apply: Callable


# -- helpers on the world -------------------------------------------------------------------

def _forget_address(world, host, a):
    """host no longer holds a; its connected route goes with the last such address.
    An IPv4 primary takes its secondaries with it (the kernel's default,
    promote_secondaries=0): those after it in its subnet on its interface (a replica's
    hosts have them); no rule predicts connects to them then."""
    held = world.addrs[host]
    if not a.v6 and a in held:
        after = held[held.index(a) + 1:]
        for x in after:
            if not x.v6 and x.network == a.network and x.intf == a.intf:
                world.unpredictable.add(('*', x.addr))
        world.addrs[host] = [x for x in held if x not in after or x.v6 or
                             x.network != a.network or x.intf != a.intf]
    world.addrs[host] = [x for x in world.addrs[host] if x.addr != a.addr]
    if not any(x.network == a.network and x.intf == a.intf for x in world.addrs[host]):
        world.drop_routes(host, lambda n, d: not (n == a.network and d == a.intf))


def _v6_of(world, host):
    """(steps, address): host's global IPv6 address, or a ULA given to it now."""
    for a in world.addrs[host]:
        if a.v6:
            return [], a
    if not world.v6.get(host):
        raise NotApplicable(f'IPv6 is disabled on {host}')
    a = new_ula(world, host, _first_intf(world, host))
    return [run(host, ['ip', 'addr', 'add', f'{a.addr}/64', 'dev', a.intf, 'nodad'],
                why=f'give {host} an IPv6 address to mutate ({a.addr}, no DAD)')], a


def _peer_on_segment(world, host, intf):
    """Another host with an interface on the segment of (host, intf), else any other."""
    seg = world.segment.get((host, intf))
    others = [(h, i) for (h, i), s in sorted(world.segment.items())
              if s == seg and h != host]
    if others:
        return others[0]
    rest = [h for h in world.hosts if h != host]
    if not rest:
        raise NotApplicable('the topology has no other host')
    return rest[0], _first_intf(world, rest[0])


# -- the catalogue ------------------------------------------------------------------------------

def addr_del(world, t):
    if not world.addrs[t]:
        raise NotApplicable(f'{t} holds no address')
    steps = []
    for a in reversed(list(world.addrs[t])):     # secondaries before their primary
        steps.append(run(t, ['ip', 'addr', 'del', f'{a.addr}/{a.prefixlen}', 'dev', a.intf],
                         why=f'{t} loses {a.addr} (lease lost, interface reconfigured)'))
        _forget_address(world, t, a)
        world.unpredictable.add(('*', a.addr))
    return steps, []


def addr_move(world, t):
    if not world.addrs[t]:
        raise NotApplicable(f'{t} holds no address')
    a = world.addrs[t][0]
    other, intf = _peer_on_segment(world, t, a.intf)
    steps = [run(t, ['ip', 'addr', 'del', f'{a.addr}/{a.prefixlen}', 'dev', a.intf],
                 why=f'the service address {a.addr} leaves {t}'),
             run(other, ['ip', 'addr', 'add', f'{a.addr}/{a.prefixlen}', 'dev', intf] +
                 (['nodad'] if a.v6 else []), why=f'{a.addr} moves to {other}')]
    steps += [run(h, ['ip', 'neigh', 'flush', 'all'],
                  why='forget the old owner\'s MAC (as a gratuitous ARP would)')
              for h in world.hosts]
    _forget_address(world, t, a)
    world.addrs[other].append(Addr(a.addr, a.prefixlen, intf))
    if (a.network, intf) not in world.routes[other]:
        world.routes[other].append((a.network, intf))
    return steps, []


def ipv6_tentative(world, t):
    steps, a = _v6_of(world, t)
    steps += [sysctl(t, f'net.ipv6.conf.{a.intf}.dad_transmits', 120,
                     why='make DAD last (120 probes, one a second)'),
              run(t, ['ip', 'addr', 'del', f'{a.addr}/64', 'dev', a.intf],
                  why=f'{a.addr} is removed ...'),
              run(t, ['ip', 'addr', 'add', f'{a.addr}/64', 'dev', a.intf],
                  why='... and added again: tentative while DAD runs (right after boot)')]
    world.tentative.setdefault(t, set()).add(a.addr)
    world.unpredictable.update({('*', a.addr), (t, '*6')})
    return steps, []


def ipv6_dadfailed(world, t):
    steps, a = _v6_of(world, t)
    other, intf = _peer_on_segment(world, t, a.intf)
    if not world.v6.get(other):
        raise NotApplicable(f'IPv6 is disabled on {other}')
    steps += [sysctl(other, f'net.ipv6.neigh.{intf}.retrans_time_ms', 100,
                     why='DAD probes 100 ms apart (it fails in 0.1 s, not 1 s)'),
              sysctl(other, f'net.ipv6.conf.{intf}.router_solicitation_delay', 0,
                     why='and DAD starts at once (no random delay of up to 1 s)'),
              run(other, ['ip', 'addr', 'add', f'{a.addr}/64', 'dev', intf],
                  why=f'{other} is given {t}\'s address {a.addr}: its DAD fails'),
              run(other, ['ip', '-6', 'addr', 'show', 'dev', intf, 'to', f'{a.addr}/128',
                          'tentative', '-dadfailed'], why='wait until its DAD has failed',
                  until='empty-stdout')]
    world.tentative.setdefault(other, set()).add(a.addr)
    world.unpredictable.update({(other, '*6'), (other, a.addr)})
    return steps, []


def ipv6_off(world, t):
    if not world.v6.get(t):
        raise NotApplicable(f'IPv6 is already disabled on {t}')
    world.v6_off.add(t)
    for a in [x for x in world.addrs[t] if x.v6]:
        _forget_address(world, t, a)
        world.unpredictable.add(('*', a.addr))
    world.drop_routes(t, lambda n, d: n.version == 4)
    return [sysctl(t, 'net.ipv6.conf.all.disable_ipv6', 1,
                   why=f'IPv6 off on {t} (a container: localhost -> ::1 fails)')], []


def link_down(world, t):
    intf = _first_intf(world, t)
    world.link_down.add((t, intf))
    for a in [x for x in world.addrs[t] if x.intf == intf]:
        world.unpredictable.add(('*', a.addr))
        if a.v6:             # keep_addr_on_down=0: IPv6 addresses go with the link
            _forget_address(world, t, a)
    world.drop_routes(t, lambda n, d: d != intf)
    return [run(t, ['ip', 'link', 'set', 'dev', intf, 'down'],
                why=f'{t}-side of the link down (cable, bridge or VM NIC)')], []


def ports_narrow(world, t):
    low, high = 40000, 40001
    world.ports_exhausted.add(t)
    holders = [Server(t, '0.0.0.0', port, proto) for port in (low, high)
               for proto in ('tcp', 'udp')]
    return [sysctl(t, 'net.ipv4.ip_local_port_range', f'{low} {high}',
                   why=f'two ephemeral ports on {t}, both held (exhaustion under load)')
            ], holders


def port_taken(world, t):
    world.port_taken.add(t)
    wild, opts = ('::', ('v6only=0',)) if world.v6.get(t) and t not in world.v6_off \
        else ('0.0.0.0', ())
    return [], [Server(t, wild, BIND_PORT, proto, opts) for proto in ('tcp', 'udp')]


def route_del(world, t):
    default = [(n, d) for n, d in world.routes[t] if n.prefixlen == 0]
    if default:
        net, dev = default[0]
    elif world.addrs[t]:
        a = world.addrs[t][0]
        net, dev = a.network, a.intf
    else:
        raise NotApplicable(f'{t} has no route to remove')
    world.drop_routes(t, lambda n, d: (n, d) != (net, dev))
    for a in world.addrs[t]:      # replies to its peers would need that route
        world.unpredictable.add(('*', a.addr))
    family = ['-6'] if net.version == 6 else []
    return [run(t, ['ip'] + family + ['route', 'del', str(net), 'dev', dev],
                why=f'{t} loses its route to {net}')], []


def _firewall(how):
    def apply(world, t):
        verdict_ = 'drop' if how == 'drop' else 'reject'
        tcp = 'drop' if how == 'drop' else 'reject with tcp reset'
        ruleset = ('table inet bindlab_mutation {\n chain input {\n'
                   '  type filter hook input priority 0; policy accept;\n'
                   f'  tcp dport {SERVE_PORT} {tcp}\n'
                   f'  udp dport {SERVE_PORT + 1} {verdict_}\n }}\n}}\n')
        world.firewall[t] = how
        return [Step(t, ('nft', '-f', '-'), f'a firewall on {t} {how}s the service '
                     'ports', stdin=ruleset)], []
    return apply


def nonlocal_bind(world, t):
    world.nonlocal_bind.add(t)
    return [sysctl(t, 'net.ipv4.ip_nonlocal_bind', 1,
                   why=f'{t} may bind addresses it does not hold')], []


CATALOGUE = [
    Mutation('addr-del', "deletes the target's address(es)",
             'DHCP lease lost, interface reconfigured', addr_del),
    Mutation('addr-move', "moves the target's address to another host",
             "service moved, the seed's wrong-host", addr_move),
    Mutation('ipv6-tentative', "re-adds the target's IPv6 address with slow DAD",
             'binding right after boot', ipv6_tentative),
    Mutation('ipv6-dadfailed', 'gives another host the same IPv6 address',
             'duplicate address', ipv6_dadfailed),
    Mutation('ipv6-off', 'disables IPv6 on the target',
             'a container without IPv6 (localhost -> ::1)', ipv6_off),
    Mutation('link-down', "sets the target's interface down",
             'cable, bridge or VM NIC down', link_down),
    Mutation('ports-narrow', "narrows the target's ephemeral range and holds the ports",
             'port exhaustion under load', ports_narrow),
    Mutation('port-taken', "another process holds the program's port on the target",
             'a second instance, a stale server', port_taken),
    Mutation('route-del', "removes the target's default or subnet route",
             'a broken route', route_del),
    Mutation('fw-drop', "nft drop of the program's port on the target", 'a firewall',
             _firewall('drop')),
    Mutation('fw-reject', "nft reject of the program's port on the target", 'a firewall',
             _firewall('reject')),
    Mutation('nonlocal-bind', 'net.ipv4.ip_nonlocal_bind=1 on the target',
             'binds that succeed but receive nothing', nonlocal_bind),
    Mutation('mcast-if-gone', "the address the target's multicast program joins and "
             'sends by leaves it (join, mcast-if cells)',
             'a receiver configured with an interface address that moved',
             mcast_if_gone),
    Mutation('source-gone', "the source the target's UDP replies are sent from leaves "
             'it (send cells)', 'a UDP server replying from a configured address',
             source_gone),
    Mutation('addr-late', "the target's address is missing at start and arrives "
             '1.5 s into the probe phase (timed)',
             'a service started before its address (boot race)', addr_late),
    Mutation('vip-failover', 'a service address on the target moves to a peer on its '
             'segment 1.5 s into the probe phase (timed)',
             'a keepalived/VRRP failover', vip_failover),
    Mutation('link-flap', "the target's link is down at start (IPv6 addresses kept) "
             'and comes back 1.5 s in: DAD runs again (timed)',
             'a cable, switch port or VM NIC flapping', link_flap),
    Mutation('dad-slow', "the target's IPv6 address is added at start with a DAD of "
             '1.5 s (timed)', 'binding an IPv6 address right after boot', dad_slow),
    Mutation('renumber', "the target's IPv4 address is replaced by another 1.5 s in "
             '(timed)', 'a new DHCP lease', renumber),
    Mutation('localhost-v6', "IPv6 off on the target, and its hosts file has localhost "
             'on ::1 only (adds bind and connect by localhost)',
             'a Docker container with IPv6 off (localhost -> ::1)',
             partial(localhost_v6, ipv6_off=ipv6_off)),
    Mutation('hosts-stale', "the target's hosts file maps a service name to an address "
             'of its subnet nobody holds (adds connect and bind by the name)',
             'a stale /etc/hosts entry after the service moved', hosts_stale),
    Mutation('name-public', "the target's hosts file maps the service's public name to "
             'an address of 203.0.113.0/24 no host holds (adds bind by the name)',
             "a name that gives a NAT router's public address", name_public),
    Mutation('dns-down', "the target's resolv.conf names a nameserver that does not run "
             '(127.0.0.53; adds connect and bind by a name in no hosts file)',
             'DNS down, a stub resolver copied into a container', dns_down),
]
BY_NAME = {m.name: m for m in CATALOGUE}


def select_mutations(text):
    """`all` or NAME,...: the mutations, in catalogue order; UsageError if unknown."""
    names = [n.strip() for n in text.split(',') if n.strip()]
    if names == ['all']:
        return list(CATALOGUE)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown or not names:
        raise UsageError(f'--mutate {text!r}: unknown mutation {", ".join(unknown)}; '
                         f'known: all, {", ".join(BY_NAME)}')
    return [m for m in CATALOGUE if m.name in names]


# -- the mutation run -----------------------------------------------------------------------------

def targets_of(scenario, hosts_text):
    """The target hosts: --mutate-hosts h1,h2 (checked), else every host."""
    hosts = list(scenario.topo().hosts())
    if not hosts_text:
        return hosts
    chosen = [h.strip() for h in hosts_text.split(',') if h.strip()]
    unknown = [h for h in chosen if h not in hosts]
    if unknown or not chosen:
        raise UsageError(f'--mutate-hosts {hosts_text!r}: no host {", ".join(unknown)} '
                         f'in the topology (hosts: {", ".join(hosts)})')
    return chosen
