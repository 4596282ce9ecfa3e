"""wrong-host: the seed's own Errno 99, on three hosts and one switch.

h1..h3 sit on one switch at 10.0.0.1..3/24 (and fd00::1..3/64, added without DAD so
they are usable at once).  Nothing is misconfigured: the "fault" is in the program,
which binds an address another host holds.  h2 binding 10.0.0.1:6677 is
EADDRNOTAVAIL, h1 binding it is OK, every host binding 0.0.0.0 is OK; the same holds
for UDP and IPv6, and a connect whose source address belongs to another host fails
the same way.  Run it alone with `sudo make mininet-test SCENARIO=wrong-host`; the
topology alone with `sudo mn --custom topologies/wrong_host.py --topo wronghost
--switch lxbr`.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, addr_add, bind, connect, expect_bind,
                              expect_connect, explicit)

_HOSTS = ('h1', 'h2', 'h3')
_BIND_PORT = 6677          # the seed's port
_TCP_PORT = 7001           # every host serves here (IPv4 and IPv6, one socket)
_UDP_PORT = 7002
_CLOSED_PORT = 7009        # nobody listens here


def _v4(n):
    """10.0.0.n."""
    return f'10.0.0.{n}'


def _v6(n):
    """fd00::n."""
    return f'fd00::{n}'


class WrongHostTopo(Topo):
    """h1..h3 on one switch s1, at 10.0.0.1..3/24."""

    def build(self, hosts=3):
        s1 = self.addSwitch('s1')
        for n in range(1, hosts + 1):
            self.addLink(self.addHost(f'h{n}', ip=f'{_v4(n)}/24'), s1)


topos = {'wronghost': WrongHostTopo}

_OWNERS = {_v4(n): f'h{n}' for n in (1, 2, 3)} | {_v6(n): f'h{n}' for n in (1, 2, 3)}
_BIND_ADDRS = (_v4(1), _v4(2), _v4(3), '10.0.0.99', '0.0.0.0', '127.0.0.1',
              _v6(1), _v6(2), _v6(3), '::', '::1')


def _setup():
    """Each host gets fd00::n/64 without DAD (DAD is scenario 3's subject)."""
    return tuple(addr_add(f'h{n}', f'{_v6(n)}/64', f'h{n}-eth0', nodad=True,
                          why=f'give h{n} an IPv6 address, usable at once')
                 for n in (1, 2, 3))


def _servers():
    """A dual-stack TCP server and a UDP server on every host."""
    both = ('v6only=0',)
    return tuple(Server(h, '::', port, proto, both)
                 for h in _HOSTS for port, proto in ((_TCP_PORT, 'tcp'), (_UDP_PORT, 'udp')))


def _bind_cases():
    """Every host binds every address of the topology, plus wildcard and loopback."""
    return tuple(bind(h, addr, _BIND_PORT, expect_bind(h, addr, _OWNERS), proto)
                 for proto in ('tcp', 'udp') for addr in _BIND_ADDRS for h in _HOSTS)


def _connect_cases():
    """Each client to each server endpoint, a closed port, and a foreign source."""
    listeners = {}
    for n in (1, 2, 3):
        listeners[(_v4(n), _TCP_PORT)] = f'h{n}'
        listeners[(_v6(n), _TCP_PORT)] = f'h{n}'
    cases = []
    for h in _HOSTS:
        for n in (1, 2, 3):
            for addr in (_v4(n), _v6(n)):
                cases.append(connect(h, addr, _TCP_PORT,
                                     expect_connect(h, addr, _TCP_PORT, listeners)))
            cases.append(connect(h, _v4(n), _UDP_PORT,
                                 explicit('OK', f'h{n} answers UDP on {_UDP_PORT}',
                                          peer=f'h{n}'), proto='udp'))
        cases.append(connect(h, _v4(1), _CLOSED_PORT,
                             expect_connect(h, _v4(1), _CLOSED_PORT, listeners)))
        cases.append(connect(h, _v4(1), _CLOSED_PORT,
                             explicit('ECONNREFUSED', 'h1 answers a datagram to a '
                                      'closed UDP port with ICMP port unreachable'),
                             proto='udp'))
        cases.append(connect(h, _v4(3), _TCP_PORT,
                             expect_connect(h, _v4(3), _TCP_PORT, listeners, src=_v4(1),
                                            owners=_OWNERS),
                             options=(f'src={_v4(1)}',)))
    return tuple(cases)


scenarios = [
    Scenario(
        name='wrong-host',
        title='h2 binds the address of h1: the seed\'s EADDRNOTAVAIL',
        topo=WrongHostTopo,
        setup=_setup(),
        servers=_servers(),
        cases=_bind_cases() + _connect_cases(),
        order=1,
    ),
]
