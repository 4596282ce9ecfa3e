"""lost-address: an address deleted after start, an interface set down after start.

h1..h3 on one switch s1 at 10.0.0.1..3/24.  After the network is up:
  - h1's address is deleted (`ip addr del 10.0.0.1/24 dev h1-eth0`): binding it is now
    EADDRNOTAVAIL on h1 too (the seed's error, on the host that used to own it), and
    with the address the connected route went, so h1 reaches nobody (ENETUNREACH);
  - h3's interface is set down (`ip link set dev h3-eth0 down`): the address stays, so
    Linux still lets h3 bind it (bind only asks "is this address mine?", not "is its
    link up?"), and h3 still reaches itself over lo; but the link took its connected
    route with it, so h3 reaches nobody else (ENETUNREACH), and nobody reaches h3 (the
    connect waits for an ARP answer that never comes: ETIMEDOUT at the 1 s timeout).
Servers: each host listens on 0.0.0.0:7001 (started after the faults: h1's server is
still reachable on 127.0.0.1, but no longer at 10.0.0.1).
Run it with `sudo make mininet-test SCENARIO=lost-address`.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, addr_del, bind, connect, expect_bind,
                              explicit, link_down)

_NAMES = ('h1', 'h2', 'h3')
_BIND_PORT = 6677
_PORT = 7001
# Who holds which address AFTER the faults (h1's is gone; h3's stays while down).
_OWNERS = {'10.0.0.2': 'h2', '10.0.0.3': 'h3'}


class LostAddressTopo(Topo):
    """h1..h3 on one switch s1, at 10.0.0.1..3/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2, 3):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)


topos = {'lostaddress': LostAddressTopo}


def _bind_cases():
    """Every host binds each topology address, the wildcard and loopback."""
    cases = []
    for addr in ('10.0.0.1', '10.0.0.2', '10.0.0.3', '0.0.0.0', '127.0.0.1'):
        for h in _NAMES:
            if (h, addr) == ('h1', '10.0.0.1'):
                exp = explicit('EADDRNOTAVAIL', 'h1 held 10.0.0.1 until `ip addr del`: '
                               'an address that is gone cannot be bound, even by its '
                               'old owner')
            elif (h, addr) == ('h3', '10.0.0.3'):
                exp = explicit('OK', 'h3-eth0 is down but 10.0.0.3 is still assigned: '
                               'bind checks the address, not the link')
            else:
                exp = expect_bind(h, addr, _OWNERS)
            cases.append(bind(h, addr, _BIND_PORT, exp))
    return cases


def _connect_expect(client, n):
    """Expected outcome of client connecting to 10.0.0.n:7001."""
    target = f'h{n}'
    if client == 'h1':
        return explicit('ENETUNREACH', 'h1 lost 10.0.0.1 and with it the route to '
                        '10.0.0.0/24: no route to any 10.0.0.x')
    if client == target == 'h2':
        return explicit('OK', 'h2 reaches itself', peer='h2')
    if client == target == 'h3':
        return explicit('OK', 'h3 still holds 10.0.0.3: a connect to it goes over lo, '
                        'the link state does not matter', peer='h3')
    if client == 'h3':
        return explicit('ENETUNREACH', 'h3-eth0 is down: the kernel dropped the route to '
                        '10.0.0.0/24 with the link, so h3 has no route to the others')
    if target == 'h1':
        return explicit('ETIMEDOUT', 'nobody holds 10.0.0.1 any more: the ARP question '
                        'gets no answer within the 1 s timeout')
    if target == 'h3':
        return explicit('ETIMEDOUT', 'h3-eth0 is down: nobody answers ARP for 10.0.0.3, '
                        'the connect waits until the 1 s timeout')
    return explicit('OK', f'{target} listens on 0.0.0.0:{_PORT}', peer=target)


def _connect_cases():
    """Each host to each host's server, plus h1 to its own server over loopback."""
    cases = [connect(h, f'10.0.0.{n}', _PORT, _connect_expect(h, n))
             for n in (1, 2, 3) for h in _NAMES]
    cases.append(connect('h1', '127.0.0.1', _PORT,
                         explicit('OK', 'h1\'s server listens on 0.0.0.0, so loopback '
                                  'still reaches it', peer='h1')))
    return cases


scenarios = [
    Scenario(
        name='lost-address',
        title='an address deleted and an interface set down after start',
        topo=LostAddressTopo,
        faults=(addr_del('h1', '10.0.0.1/24', 'h1-eth0',
                         why='the address disappears (DHCP lease lost, an admin, a script)'),
                link_down('h3', 'h3-eth0', why='the interface goes down, its address stays')),
        servers=tuple(Server(h, '0.0.0.0', _PORT) for h in _NAMES),
        cases=tuple(_bind_cases() + _connect_cases()),
        order=2,
    ),
]
