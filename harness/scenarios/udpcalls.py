"""Building the cases of the calls besides bind and connect, and their expectations
by the documented rules (rules.py): a multicast join, a multicast interface, a UDP
send from a chosen source (netprobe's join, mcast-if and send; docs/netprobe.md says
what each errno means on each call).

Cells of these kinds: rows hosts; columns 'udp GROUP@IF' (join, mcast-if) and
'udp SRC->DST:PORT' (send), model.column_label.  Each builder returns a model.Case;
none runs anything.
"""

import ipaddress

from .model import bare, Case, Expect, OK


def join(host, group, expect, iface=None, port=0, options=(), column=''):
    """A join case: host joins multicast group on iface (an IPv4 address, an
    interface name or index; None: the route to the group picks it), binding port
    first when it is not 0 (as a receiver does)."""
    return Case('join', host, group, int(port), expect, 'udp',
                _with_if(iface, options), column)


def mcast_if(host, group, expect, iface=None, port=0, options=(), column=''):
    """A mcast-if case: host sets the interface its multicast to group leaves by
    (IP_MULTICAST_IF / IPV6_MULTICAST_IF)."""
    return Case('mcast-if', host, group, int(port), expect, 'udp',
                _with_if(iface, options), column)


def send(host, addr, port, expect, src=None, pktinfo=None, options=(), column=''):
    """A send case: one UDP datagram from host to addr:port, from the source bound
    first (src=) or given in IP_PKTINFO / IPV6_PKTINFO (pktinfo=)."""
    opts = (f'src={src}',) if src else ()
    opts += (f'pktinfo={pktinfo}',) if pktinfo else ()
    return Case('send', host, addr, int(port), expect, 'udp', opts + tuple(options),
                column)


def _with_if(iface, options):
    return ((f'if={iface}',) if iface is not None else ()) + tuple(options)


def _is_addr(text):
    try:
        ipaddress.ip_address(bare(str(text)))
        return True
    except ValueError:
        return False


def expect_join(host, iface, owners, ifaces=()):
    """The expectation of host joining a group on iface by the join-if-owner rule.

    iface: an IPv4 address (owners maps each address to the host holding it after
    the faults) or an interface name (ifaces: the names host has).
    """
    if _is_addr(iface):
        if owners.get(iface) == host:
            return Expect(OK, f'{host} holds {iface}: the join finds its interface',
                          'join-if-owner')
        holder = f'{owners[iface]} holds it' if owners.get(iface) else 'no host holds it'
        return Expect('ENODEV', f'ENODEV here means: no interface of {host} has {iface} '
                      f'({holder})', 'join-if-owner')
    if iface in ifaces:
        return Expect(OK, f'{host} has the interface {iface}', 'join-if-owner')
    return Expect('ENODEV', f'ENODEV here means: {host} has no interface {iface}',
                  'join-if-owner')


def expect_mcast_if(host, iface, owners, ifaces=()):
    """The expectation of host's IP_MULTICAST_IF (an IPv4 address) or
    IPV6_MULTICAST_IF (an interface name) by the mcast-if-owner rule."""
    if _is_addr(iface):
        if owners.get(iface) == host:
            return Expect(OK, f'{host} holds {iface}', 'mcast-if-owner')
        return Expect('EADDRNOTAVAIL', f'EADDRNOTAVAIL here means: no interface of {host} '
                      f'has {iface} (the same mistake a join answers with ENODEV)',
                      'mcast-if-owner')
    if iface in ifaces:
        return Expect(OK, f'{host} has the interface {iface}', 'mcast-if-owner')
    return Expect('ENODEV', f'{host} has no interface {iface}', 'mcast-if-owner')


def expect_send(host, src, owners, pktinfo=False):
    """The expectation of host sending from src (bound first, or pktinfo: given in
    IP_PKTINFO / IPV6_PKTINFO) to a destination it has a route to, by the
    send-source-owner rule."""
    if owners.get(src) == host:
        return Expect(OK, f'{host} holds the source {src}', 'send-source-owner')
    if not pktinfo:
        return Expect('EADDRNOTAVAIL', f'the source {src} is not on {host}: the bind '
                      'before the send fails', 'foreign-source')
    if ':' in src:
        return Expect('EINVAL', f'EINVAL here means: IPV6_PKTINFO names {src}, which '
                      f'{host} does not hold', 'send-source-owner')
    return Expect('ENETUNREACH', f'ENETUNREACH here means: IP_PKTINFO names {src}, which '
                  f'{host} does not hold (no route from it)', 'send-source-owner')
