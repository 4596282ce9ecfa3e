"""The catalogue's timed mutations (mutate.py lists them): a fault that happens while
the probes and programs run, fired by the scenario's timeline (Step.at, net/timeline.py).

    addr-late   the target's first IPv4 address is removed before anything runs and
                comes back LATE_S seconds into the probe phase (DHCP, keepalived or a
                slow network-online at boot; the service was started before it).

What the target's own programs meet is a race in time: its plain bind of the address
at t=0 is EADDRNOTAVAIL, peers' connects to it find nobody, its own connects no
route, all until the address arrives.  No rule says when a derived cell ran, so those
cells are rule `observed` (World.in_time for its binds, World.unpredictable for the
connects); the mutation adds its own cells in time, whatever the topology:
a bind that retries (retry=, every 100 ms), OK once the address arrives, and an
IP_FREEBIND one, OK at once.  A --server program started at t=0 that binds the address
and exits on the error meets Errno 99; one that retries survives.

The address comes back as it was (same prefix and interface), so a shared network's
undo proof (net/undo.py) holds after it.
"""

from .builders import at, bind, explicit, run
from .derive import BIND_PORT, NotApplicable

LATE_S = 1.5            # the address arrives this many seconds into the probe phase
RETRY_S = LATE_S + 1.5  # the patient service's budget
TIMED_PORT = BIND_PORT + 1


def _late_address(world, t):
    """The Addr addr-late removes: t's first IPv4 address, alone in its subnet on its
    interface (a primary would take its secondaries with it, and they would not come
    back); NotApplicable otherwise."""
    mine = [a for a in world.addrs[t] if not a.v6]
    if not mine:
        raise NotApplicable(f'{t} holds no IPv4 address')
    a = mine[0]
    if any(x is not a and not x.v6 and x.network == a.network and x.intf == a.intf
           for x in world.addrs[t]):
        raise NotApplicable(f'{a.addr} has secondaries on {a.intf}: they would not come back')
    return a


def addr_late(world, t):
    a = _late_address(world, t)
    cidr = f'{a.addr}/{a.prefixlen}'
    steps = [run(t, ['ip', 'addr', 'del', cidr, 'dev', a.intf],
                 why=f'{t} has not got {a.addr} yet (boot: DHCP, keepalived, network-online)'),
             at(LATE_S, run(t, ['ip', 'addr', 'add', cidr, 'dev', a.intf],
                            why=f'{a.addr} arrives on {t} while its services run'))]
    world.addrs[t] = [x for x in world.addrs[t] if x.addr != a.addr]
    world.in_time.add((t, a.addr))
    world.unpredictable.update({('*', a.addr), (t, '*4')})
    world.udp_cases += [
        bind(t, a.addr, TIMED_PORT, explicit(
            'OK', f'retries every 100 ms until {a.addr} arrives at t={LATE_S:g} s',
            within=RETRY_S), options=(f'retry={RETRY_S:g}', 'every=100')),
        bind(t, a.addr, TIMED_PORT, explicit(
            'OK', 'IP_FREEBIND (systemd FreeBind=): binds an address not there yet'),
            options=('freebind',))]
    return steps, []
