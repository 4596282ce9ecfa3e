"""What the catalogue's mutations (mutate.py, mutate_udp.py, mutate_time.py,
mutate_names.py) ask of the derive.World about their target, in one place:

    own_ipv4(world, t)          t's first IPv4 Addr
    free_address(world, own)    an address of own's subnet nobody holds (the highest)
    first_intf(world, t)        t's main interface: its first address's, else its
                                first link's

Each raises NotApplicable saying why the target cannot take the mutation.
"""

from .derive import NotApplicable, unheld


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
