"""The catalogue's mutations of the calls besides bind and connect (mutate.py lists
them): a multicast program's interface address, or a UDP sender's chosen source,
that was the target's and left.

Each gives the target a service address (the highest free one of its first IPv4
subnet) and takes it away again, as a failover or a lease does, so nothing else of
the network changes; then the target's own cells of these calls are added to the
derived scenario (World.udp_cases), predicted by the rule table:

    mcast-if-gone  join GROUP@gone  ENODEV; mcast-if GROUP@gone  EADDRNOTAVAIL
                   (join-if-owner, mcast-if-owner); the same calls on the target's
                   own address: OK
    source-gone    a send to a peer on its segment from the gone address:
                   in IP_PKTINFO  ENETUNREACH, bound first  EADDRNOTAVAIL
                   (send-source-owner, foreign-source); from its own address: OK
The added cells have no control (the unmutated network has no such cell): each is
`changed`.
"""

from .builders import run
from .derive import NotApplicable
from .mutate_world import free_address, own_ipv4
from .udpcalls import expect_join, expect_mcast_if, expect_send, join, mcast_if, send

GROUP = '239.1.1.1'
SEND_PORT = 7002        # derive.SERVE_PORT + 1: every host's UDP server listens there


def _service_address(world, t):
    """(own IPv4 Addr of t, a free address of its subnet, steps adding then removing
    it); NotApplicable when t has no IPv4 address."""
    own = own_ipv4(world, t)
    gone = free_address(world, own)
    cidr = f'{gone}/{own.prefixlen}'
    steps = [run(t, ['ip', 'addr', 'add', cidr, 'dev', own.intf],
                 why=f'{t} holds the service address {gone} (the one its program names)'),
             run(t, ['ip', 'addr', 'del', cidr, 'dev', own.intf],
                 why=f'{gone} leaves {t} (a failover, a lease lost); the program still '
                     'names it')]
    return own, gone, steps


def mcast_if_gone(world, t):
    own, gone, steps = _service_address(world, t)
    owners = world.owners()
    for iface in (gone, own.addr):
        world.udp_cases += [join(t, GROUP, expect_join(t, iface, owners), iface),
                            mcast_if(t, GROUP, expect_mcast_if(t, iface, owners), iface)]
    return steps, []


def source_gone(world, t):
    own, gone, steps = _service_address(world, t)
    owners = world.owners()
    peers = [(h, a.addr) for h, addrs in sorted(world.addrs.items()) if h != t
             for a in addrs if not a.v6 and a.network == own.network]
    if not peers:
        raise NotApplicable(f'no other host on {own.network}')
    dest = peers[0][1]
    world.udp_cases += [
        send(t, dest, SEND_PORT, expect_send(t, gone, owners, pktinfo=True), pktinfo=gone),
        send(t, dest, SEND_PORT, expect_send(t, gone, owners), src=gone),
        send(t, dest, SEND_PORT, expect_send(t, own.addr, owners, pktinfo=True),
             pktinfo=own.addr)]
    return steps, []
