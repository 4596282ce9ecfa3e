"""What the catalogue's mutations (mutate.py, mutate_udp.py, mutate_time.py,
mutate_names.py) ask of the derive.World about their target, in one place:

    own_ipv4(world, t)          t's first IPv4 Addr
    free_address(world, own)    an address of own's subnet nobody holds (the highest)
    first_intf(world, t)        t's main interface: its first address's, else its
                                first link's
    new_ula(world, t, intf)     t given the IPv6 address ULA<n>/64 on intf (n: its
                                place among the hosts, from 1), in the world: a
                                column of the bind matrix

Each raises NotApplicable saying why the target cannot take the mutation.
"""

from .derive import Addr, NotApplicable, unheld

ULA = 'fd00:bd::'       # an IPv6 address for a host that has none: fd00:bd::<n>/64


def own_ipv4(world, t):
    """t's first IPv4 Addr; NotApplicable when it holds none."""
    mine = [a for a in world.addrs[t] if not a.v6]
    if not mine:
        raise NotApplicable(f'{t} holds no IPv4 address')
    return mine[0]


def free_address(world, own, what=''):
    """An address of own's subnet that no host holds; NotApplicable (`no free address
    in NET` and what it was for) when there is none."""
    free = unheld(own.network, set(world.owners()))
    if free is None:
        raise NotApplicable(f'no free address in {own.network}{what}')
    return free


def first_intf(world, host):
    """The interface of host's first address (its main link), else its first link."""
    if world.addrs[host]:
        return world.addrs[host][0].intf
    intfs = sorted(i for h, i in world.segment if h == host)
    if not intfs:
        raise NotApplicable(f'{host} has no interface')
    return intfs[0]


def new_ula(world, t, intf):
    """t's address fd00:bd::<n>/64 on intf, added to the world (its address, its
    connected route, a column of the bind matrix); NotApplicable when another host
    holds it."""
    a = Addr(f'{ULA}{world.hosts.index(t) + 1:x}', 64, intf)
    if a.addr in world.owners():
        raise NotApplicable(f'{a.addr} is held already')
    world.addrs[t].append(a)
    world.routes[t].append((a.network, intf))
    world.extra_columns.append(a.addr)
    return a
