"""multicast: a group join and a multicast interface name an address the host lacks.

h1..h3 on one switch s1 at 10.0.0.1..3/24 and fd00::1..3/64 (nodad); h1 also held
10.0.0.11 until a fault removed it (the receiver's "service address" left, as a
failover or a DHCP renewal takes it).  Every host tries, on UDP sockets, the calls a
multicast receiver and a multicast sender make, naming the interface by an address
it owns, one another host owns, and the one that left:

  - join (IP_ADD_MEMBERSHIP, struct ip_mreqn by address): OK on the owner, ENODEV
    everywhere else, the removed address included (BSD and macOS say EADDRNOTAVAIL:
    the same mistake, another errno);
  - mcast-if (IP_MULTICAST_IF by address): OK on the owner, EADDRNOTAVAIL elsewhere;
  - a receiver that joined before its address left keeps its membership (it lives on
    the device, not on the address: /proc/net/igmp still lists it), but its restart,
    joining by the same address, is ENODEV; joining by the interface (name or
    index) is OK: that is the fix;
  - IPv6 joins and multicast interfaces take an interface index, never an address:
    the host's own interface is OK; an index no interface has is ENODEV for both
    IPV6_JOIN_GROUP and IPV6_MULTICAST_IF (IPv4's IP_MULTICAST_IF says
    EADDRNOTAVAIL for the same index).
Run it with `sudo make mininet-test SCENARIO=multicast`.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, addr_add, addr_del, expect_join,  # noqa: E402
                              expect_mcast_if, explicit)
from harness.scenario import join as _join, mcast_if as _mcast_if  # noqa: E402

_HOSTS = ('h1', 'h2', 'h3')
_GROUP, _GROUP6 = '239.1.1.1', 'ff12::1:1'
_GONE = '10.0.0.11'              # h1's address until the fault
_NO_INDEX = '999'                # an interface index no host has
_OWNERS = {f'10.0.0.{n}': f'h{n}' for n in (1, 2, 3)}     # after the faults


class MulticastTopo(Topo):
    """h1..h3 on one switch s1, at 10.0.0.1..3/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2, 3):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)


topos = {'multicast': MulticastTopo}


def _setup():
    steps = [addr_add(f'h{n}', f'fd00::{n}/64', f'h{n}-eth0', nodad=True,
                      why=f'give h{n} an IPv6 address, usable at once') for n in (1, 2, 3)]
    steps.append(addr_add('h1', f'{_GONE}/24', 'h1-eth0',
                          why="h1's service address, which the receiver is set up with"))
    return tuple(steps)


def _faults():
    return (addr_del('h1', f'{_GONE}/24', 'h1-eth0',
                     why="the service address leaves h1 (a failover, a DHCP renewal)"),)


def _v4_cases():
    """Every host joins and sets the multicast interface by h1's, h2's and the gone
    address."""
    out = []
    for host in _HOSTS:
        for addr in ('10.0.0.1', '10.0.0.2', _GONE):
            out.append(_join(host, _GROUP, expect_join(host, addr, _OWNERS), iface=addr))
        for addr in ('10.0.0.1', '10.0.0.2', _GONE):
            out.append(_mcast_if(host, _GROUP, expect_mcast_if(host, addr, _OWNERS),
                                 iface=addr))
    return out


def _restart_cases():
    """h1's receiver restarting after its address left: by the address, by the
    interface."""
    return [
        _join('h1', _GROUP, explicit(
            'ENODEV', f'the receiver restarts and joins by {_GONE} again: ENODEV here '
            'means no interface has that address (its old membership, on the device, '
            'did not help it)'), iface=_GONE, port=5353,
            options=('reuseaddr',)),
        _join('h1', _GROUP, expect_join('h1', 'h1-eth0', {}, ifaces=('h1-eth0',)),
              iface='h1-eth0', port=5353, options=('reuseaddr',)),
    ]


def _v6_cases():
    """IPv6: by the host's own interface, and by an index no interface has."""
    out = []
    for n, host in enumerate(_HOSTS, 1):
        own = f'h{n}-eth0'
        out += [
            _join(host, _GROUP6, expect_join(host, own, {}, ifaces=(own,)), iface=own,
                  column=f'udp {_GROUP6}@own interface'),
            _join(host, _GROUP6, explicit(
                'ENODEV', f'ENODEV here means: no interface has index {_NO_INDEX}',
                'join-if-owner'), iface=_NO_INDEX),
            _mcast_if(host, _GROUP6, expect_mcast_if(host, own, {}, ifaces=(own,)),
                      iface=own, column=f'udp {_GROUP6}@own interface'),
            _mcast_if(host, _GROUP6, explicit(
                'ENODEV', f'IPV6_MULTICAST_IF names index {_NO_INDEX}, which no interface '
                'has: ENODEV (IPv4 says EADDRNOTAVAIL for the same)', 'mcast-if-owner'),
                iface=_NO_INDEX),
            _mcast_if(host, _GROUP, explicit(
                'EADDRNOTAVAIL', f'IP_MULTICAST_IF with index {_NO_INDEX}, which no '
                'interface has: EADDRNOTAVAIL (IPv6 says ENODEV)', 'mcast-if-owner'),
                iface=_NO_INDEX),
        ]
    return out


scenarios = [
    Scenario(
        name='multicast',
        title='a group join or a multicast interface names an address the host lacks '
              '(ENODEV, EADDRNOTAVAIL)',
        topo=MulticastTopo,
        setup=_setup(),
        faults=_faults(),
        cases=tuple(_v4_cases() + _restart_cases() + _v6_cases()),
        order=40,
    ),
]
