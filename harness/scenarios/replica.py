"""A replica: snapshots of real hosts (`run --from-snapshot A.json B.json`) as a scenario.

The snapshots come read and checked (harness/replica/: read_snapshot); this module
only turns their data into a scenario, like derive.py turns a topology into one:

    hosts       one a snapshot, named after its hostname (h1, h2, ... when that is
                not a usable host name or is taken)
    interfaces  every link that can be one: a veth with the snapshot's name and MAC
                (so its IPv6 link-local address is the same); a kind this kernel or
                an emulation cannot have (a bridge, a VLAN, a dummy, a bond) becomes a
                veth of the same name with the same addresses, and is listed; a VPN
                or tunnel, an enslaved port (a bridge's member) and a link without
                addresses are listed and left out
    segments    interfaces that share a subnet hang off one switch (never two that
                hold the same address); any other interface gets a switch of its own
    setup       replicasteps.py: sysctls, addresses with their flags, routes, rules,
                permanent neighbours, links down
    servers     a netprobe server wherever the real host had a listener
    own name    replicanames.py: where the snapshot's hosts name its hostname, the
                host's hostname and a hosts file of those lines (host_files), and
                binds by that hostname

Then derive.py completes it once built (the same bind and connect matrices as any
`--topo`, the same rules), with the Replica below telling it what the built network
cannot say by itself: which addresses are tentative on purpose (bind columns with
rule tentative-binds), which hosts have ip_nonlocal_bind, addresses held on lo, the
listeners.  What could not be reproduced is Replica.not_reproduced: printed by the
run and written to matrix.json, never dropped silently.
"""

import functools
import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Dict, Tuple

from .builders import connect
from .model import endpoint, Expect, OK, Scenario
from .replicanames import hostname_cases, own_name
from .replicasteps import host_plan, listed, MAC6

LINK_KINDS = ('veth', 'ether')              # an emulated link is what they are
STAND_IN_KINDS = ('bridge', 'bond', 'team', 'vlan', 'macvlan', 'ipvlan', 'dummy', 'vrf',
                  'macvtap', 'ipvtap')
HOST_NAME = re.compile(r'[a-z][a-z0-9-]{0,11}\Z')
SWITCH_NAME = re.compile(r's[0-9]+\Z')


@dataclass(frozen=True)
class Replica:
    """What derive.complete needs beyond the built network, and what was not
    reproduced ({what, why} each, in the order found)."""
    hosts: Tuple[str, ...]
    tentative: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    loopback: Dict[str, Tuple[Tuple[str, int], ...]] = field(default_factory=dict)
    nonlocal4: Tuple[str, ...] = ()
    nonlocal6: Tuple[str, ...] = ()
    v6_off: Tuple[str, ...] = ()       # net.ipv6.conf.all.disable_ipv6=1 (a container)
    not_reproduced: Tuple[Dict[str, str], ...] = ()
    extra: Tuple = ()              # cases of its own (replicadocker.py: published ports)
    own_binds: Tuple = ()          # binds by hostname (replicanames.OwnBind)

    def adjust(self, world, addr_class):
        """The World of the built replica, told what it cannot read by itself."""
        for host, addrs in self.tentative.items():
            world.tentative.setdefault(host, set()).update(addrs)
            world.extra_columns += [a for a in addrs if a not in world.extra_columns]
        for host, held in self.loopback.items():
            for addr, prefixlen in held:
                world.addrs[host].append(addr_class(addr, prefixlen, 'lo'))
                world.built[host].append(addr_class(addr, prefixlen, 'lo'))
        world.nonlocal_bind |= set(self.nonlocal4)
        world.v6_off |= set(self.v6_off)

    def extra_cases(self, mutated):
        """Its own cases (published ports); under a mutation no rule predicts them."""
        if not mutated:
            return list(self.extra)
        return [replace(c, expect=Expect(OK, 'no rule predicts this cell under the '
                                             'mutation', 'observed')) for c in self.extra]

    def hostname_cases(self, world, holders):
        """The binds by each host's hostname, predicted in world (replicanames.py);
        holders: the mutation's (a name mutation's HostFiles among them)."""
        return hostname_cases(self.own_binds, world, holders, self.expectation)

    def expectation(self, case):
        """A case whose expectation a sysctl the derived rules do not read decides."""
        if case.kind == 'bind' and case.host in self.nonlocal6 and ':' in case.addr \
                and case.expect.outcome == 'EADDRNOTAVAIL':
            return replace(case, expect=Expect(
                OK, f'net.ipv6.ip_nonlocal_bind=1 on {case.host}: any IPv6 address '
                    'binds', 'nonlocal-bind'))
        return case


def host_names(snaps):
    """A Mininet host name for each snapshot: its hostname's first label when usable."""
    names = []
    for n, (_path, snap) in enumerate(snaps, 1):
        name = snap['host']['hostname'].split('.')[0].lower()
        if not HOST_NAME.match(name) or SWITCH_NAME.match(name) or name in names:
            name = f'h{n}'
            while name in names:
                name += 'x'
        names.append(name)
    return names


def choose_interfaces(host, snap, missing):
    """The interfaces of snap the replica makes (stand-ins included); what it does
    not make goes to missing."""
    chosen = []
    for iface in snap['interfaces']:
        kind, name = iface['kind'], iface['name']
        if name == 'lo' or kind == 'loopback':
            continue
        if not [a for a in iface['addresses'] if a['scope'] != 'link']:
            iface = dict(iface, addresses=[])         # its link-local one: the kernel's
        if iface['master'] is not None and not iface['addresses']:
            listed(missing, f'{host} {name}', f'a {kind} enslaved to {iface["master"]}: '
                   'the replica has no bridge or bond ports')
        elif not iface['addresses']:
            listed(missing, f'{host} {name}', f'a {kind} without addresses (but '
                   'perhaps a link-local one)')
        elif kind in LINK_KINDS:
            chosen.append(iface)
        elif kind in STAND_IN_KINDS:
            listed(missing, f'{host} {name}', f'a {kind}: replaced by a veth of the same '
                   'name on a switch, with its addresses, routes and listeners')
            chosen.append(iface)
        else:
            listed(missing, f'{host} {name}', f'a {kind} (a VPN, a tunnel or a kind this '
                   'emulation cannot make): left out with its addresses, routes and '
                   'listeners')
    return chosen


def subnets(iface):
    """The shared subnets an interface is on (not host routes, not link-local)."""
    out = set()
    for a in iface['addresses']:
        net = ipaddress.ip_interface(f'{a["address"]}/{a["prefixlen"]}').network
        if net.prefixlen < net.max_prefixlen and not net.is_link_local and \
                not net.is_loopback:
            out.add(net)
    return out


def segments(ends):
    """[[(host, iface)]]: interfaces sharing a subnet on one segment, unless that
    would put one address on two of its interfaces."""
    groups = [[end] for end in ends]
    merged = True
    while merged:
        merged = False
        for i, a in enumerate(groups):
            for b in groups[i + 1:]:
                nets_a = set().union(*(subnets(x) for _h, x in a))
                nets_b = set().union(*(subnets(x) for _h, x in b))
                held_a = {y['address'] for _h, x in a for y in x['addresses']}
                held_b = {y['address'] for _h, x in b for y in x['addresses']}
                if nets_a & nets_b and not held_a & held_b:
                    a.extend(b)
                    groups.remove(b)
                    merged = True
                    break
            if merged:
                break
    return groups


def macs(groups, missing):
    """{(host, iface name): MAC} for the snapshot MACs the replica can keep (an
    Ethernet MAC, unique in the replica)."""
    out, seen = {}, set()
    for group in groups:
        for host, iface in group:
            mac = iface['mac']
            if mac and MAC6.match(mac) and mac not in seen and \
                    mac not in ('00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff'):
                out[(host, iface['name'])] = mac
                seen.add(mac)
            elif mac:            # a description without MACs (Docker, clab) loses none
                listed(missing, f'{host} {iface["name"]}', f'MAC {mac}: not usable twice '
                       'or not Ethernet; the replica gives it another (and another IPv6 '
                       'link-local address)')
    return out


def replica_topo(names, groups, macs_of):
    """The Mininet Topo of the replica (a function of plain data: topo() builds it
    again whenever asked)."""
    from mininet.topo import Topo
    topo = Topo()
    for name in names:
        topo.addHost(name, ip=None, mac=None)
    for n, group in enumerate(groups, 1):
        switch = topo.addSwitch(f's{n}')
        for host, iface in group:
            opts = {'intfName1': iface['name']}
            if (host, iface['name']) in macs_of:
                opts['addr1'] = macs_of[(host, iface['name'])]
            topo.addLink(host, switch, **opts)
    return topo


def ready_pairs(groups):
    """(host, IPv4 address) pairs proving each segment forwards: a ring per segment
    over its hosts' first IPv4 address on an interface that is up."""
    pairs = []
    for group in groups:
        firsts = []
        for host, iface in group:
            v4 = [a['address'] for a in iface['addresses'] if a['family'] == 'inet'
                  and 'secondary' not in a['flags'] and a['scope'] == 'global']
            if v4 and iface['up'] and host not in [h for h, _a in firsts]:
                firsts.append((host, v4[0]))
        if len(firsts) > 1:
            pairs += [(host, firsts[(i + 1) % len(firsts)][1])
                      for i, (host, _a) in enumerate(firsts)]
    return tuple(pairs)


def linked(ends, names, links):
    """The segments a file's links say ([[(snapshot index, interface name)]]):
    [[(host, iface)]] of the interfaces made; any other on a segment of its own."""
    made = {(host, iface['name']): (host, iface) for host, iface in ends}
    groups = [[made[(names[i], dev)] for i, dev in group if (names[i], dev) in made]
              for group in links]
    groups = [g for g in groups if g]
    placed = {(h, i['name']) for g in groups for h, i in g}
    return groups + [[end] for end in ends if (end[0], end[1]['name']) not in placed]


def listener_cases(servers, held, names):
    """Every host to every listener of the real hosts (TCP: its own by rule, the
    others measured as `control`; UDP all measured: a wildcard UDP server answers
    from the primary address); held {host: [its global addresses]}."""
    cases, seen = [], set()
    for s in servers:
        addr = ipaddress.ip_address(s.addr)
        if addr.is_unspecified:
            both = addr.version == 6 and 'v6only=1' not in s.options
            targets = [a for a in held.get(s.host, ())
                       if ipaddress.ip_address(a).version == addr.version or both]
        else:
            targets = [s.addr]
        for target in targets:
            column = f'{s.proto} {endpoint(target, s.port)}'
            for src in ([s.host] if addr.is_loopback else names):
                if (src, column) in seen:
                    continue
                seen.add((src, column))
                expect = Expect(OK, f'{s.host} listens on {s.addr}:{s.port} as the real '
                                    'host did', 'listener-answers', peer=s.host) \
                    if src == s.host and s.proto == 'tcp' else Expect(
                        OK, f'{src} -> a listener of {s.host}: measured (control)',
                        'control')
                cases.append(connect(src, target, s.port, expect, s.proto,
                                     ('timeout=300',), column))
    return tuple(cases)


def from_snapshots(snaps, mutation=None, links=None):
    """The Scenario replicating snaps ([(path, checked snapshot)]): a derived one,
    completed once built (derive.complete with its Replica).  links: the segments
    ([[(snapshot index, interface name)]]) when a file says them (containerlab);
    None: interfaces that share a subnet share a segment."""
    names = host_names(snaps)
    missing, ends, plans, files, own_binds = [], [], [], [], []
    for name, (_path, snap) in zip(names, snaps):
        chosen = choose_interfaces(name, snap, missing)
        ends += [(name, iface) for iface in chosen]
        plans.append(host_plan(name, snap, [i['name'] for i in chosen], missing))
        host_files, binds = own_name(name, snap, missing)
        files += [host_files] if host_files else []
        own_binds += binds
    groups = segments(ends) if links is None else linked(ends, names, links)
    macs_of = macs(groups, missing)
    setup = tuple(step for plan in plans for step in plan.steps)
    servers = tuple(s for plan in plans for s in plan.servers)
    source = '--from-snapshot ' + ' '.join(p.rsplit('/', 1)[-1] for p, _s in snaps)
    replica = Replica(
        hosts=tuple(names),
        tentative={p.host: p.tentative for p in plans if p.tentative},
        loopback={p.host: p.loopback for p in plans if p.loopback},
        nonlocal4=tuple(p.host for p in plans if p.nonlocal4),
        nonlocal6=tuple(p.host for p in plans if p.nonlocal6),
        v6_off=tuple(p.host for p in plans if p.v6_off),
        not_reproduced=tuple(missing),
        extra=listener_cases(servers, {p.host: p.held for p in plans}, names),
        own_binds=tuple(own_binds))
    title = f'replica of {", ".join(names)} ({source})' + (
        f' (mutation {mutation[0].name} on {mutation[1]})' if mutation else '')
    return Scenario(name='replica-' + '-'.join(names)[:90], title=title,
                    topo=functools.partial(replica_topo, names, groups, macs_of),
                    cases=(), setup=setup, servers=servers, ready=ready_pairs(groups),
                    default=False, source=source, derived=True, mutation=mutation,
                    replica=replica, host_files=tuple(files))
