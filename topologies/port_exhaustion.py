"""port-exhaustion: connect() gets EADDRNOTAVAIL when no ephemeral port is left.

h1..h4 on one switch s1 at 10.0.0.1..4/24 and fd00::1..4/64 (nodad); h1 also holds
10.0.0.11/24.  h2 serves on ports 5001 and 5002, h3 on 5001 (TCP dual-stack, and UDP).
Faults: the clients h1 and h4 narrow net.ipv4.ip_local_port_range to `40000 40001`
(two ports; the range is shared by IPv4 and IPv6).
What the kernel really does:
  - h1 opens three connections to 10.0.0.2:5001 and keeps them (`hold`): ports 40000 and
    40001, then EADDRNOTAVAIL, errno 99, from connect() itself;
  - the 4-tuple rule: to another port of the same server, to another server, over
    IPv6, or from h1's second address, the same two ports are free again: OK.  Only
    the third IPv6 connection to [fd00::2]:5001 fails again;
  - a source address costs a port: the connect from 10.0.0.11 first binds
    (10.0.0.11, port 0), which takes port 40001 as a *bound* port, and connect() never
    shares a bound port: a second connect to 10.0.0.2:5002 (40000 already goes there)
    is now EADDRNOTAVAIL;
  - UDP has no such rule: a connected UDP socket takes its port for every destination,
    so the third UDP connect fails even toward another server, and with EAGAIN
    ("Resource temporarily unavailable"), not EADDRNOTAVAIL;
  - an explicit source port that connections already use (sport=40000): the source
    bind() is EADDRINUSE;
  - h4 takes both ports with bind(port 0) listeners instead: the third bind(0) is
    EADDRINUSE, and then every connect, to any destination, is EADDRNOTAVAIL: a port a
    bind() took is never shared with connections;
  - bind-before-connect (a client that binds its source address, port 0, then
    connects): once h1's connections hold both ports on 10.0.0.1, the bind itself
    fails with EADDRINUSE before the connect could choose a port, even toward a
    destination (h3's port 5002) no connection uses yet; with
    IP_BIND_ADDRESS_NO_PORT (bindnoport) the bind takes no port and the connect
    picks one unique for its 4-tuple: OK.
Run it with `sudo make mininet-test SCENARIO=port-exhaustion`.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, addr_add, bind, connect, explicit,
                              port_range)

_LOW, _HIGH = 40000, 40001        # the narrowed ephemeral range: two ports
_PORT, _OTHER_PORT = 5001, 5002   # h2 serves both, h3 serves _PORT
_SECOND_ADDR = '10.0.0.11'        # h1's second address


def _v4(n):
    """10.0.0.n."""
    return f'10.0.0.{n}'


def _v6(n):
    """fd00::n."""
    return f'fd00::{n}'


class PortExhaustionTopo(Topo):
    """h1..h4 on one switch s1, at 10.0.0.1..4/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2, 3, 4):
            self.addLink(self.addHost(f'h{n}', ip=f'{_v4(n)}/24'), s1)


topos = {'portexhaustion': PortExhaustionTopo}


def _setup():
    """IPv6 on every host (nodad), and a second IPv4 address on h1."""
    steps = [addr_add(f'h{n}', f'{_v6(n)}/64', f'h{n}-eth0', nodad=True,
                      why=f'give h{n} an IPv6 address, usable at once') for n in (1, 2, 3, 4)]
    steps.append(addr_add('h1', f'{_SECOND_ADDR}/24', 'h1-eth0',
                          why='a second source address for h1'))
    return tuple(steps)


def _faults():
    """Two ephemeral ports on the clients h1 and h4."""
    return tuple(port_range(h, _LOW, _HIGH, why=f'{h} has only ports {_LOW}-{_HIGH} for '
                            'connect()') for h in ('h1', 'h4'))


def _servers():
    """h2 on 5001 and 5002, h3 on 5001: TCP on [::] (both families) and UDP."""
    both = ('v6only=0',)
    tcp = [Server(h, '::', p, 'tcp', both) for h, p in (('h2', _PORT), ('h2', _OTHER_PORT),
                                                       ('h3', _PORT), ('h3', _OTHER_PORT))]
    udp = [Server(h, '::', _PORT, 'udp', both) for h in ('h2', 'h3')]
    return tuple(tcp + udp)


def _held(addr, port, nth, expect, proto='tcp', options=()):
    """h1's nth held connect to addr:port (its own column: 'tcp 10.0.0.2:5001 hold #3')."""
    where = f'[{addr}]:{port}' if ':' in addr else f'{addr}:{port}'
    extra = ''.join(f' {o}' for o in options)
    return connect('h1', addr, port, expect, proto, ('hold',) + tuple(options),
                   column=f'{proto} {where}{extra} hold #{nth}')


def _h1_cases():
    """Held connects from h1 until the range runs out, then the 4-tuple escapes."""
    first = explicit('OK', f'a free port from {_LOW}-{_HIGH}', peer='h2')
    full = explicit('EADDRNOTAVAIL', f'both ports {_LOW}-{_HIGH} already hold a connection '
                    'to this same address and port: no 4-tuple left')
    return [
        _held(_v4(2), _PORT, 1, first),
        _held(_v4(2), _PORT, 2, first),
        _held(_v4(2), _PORT, 3, full),
        _held(_v4(2), _OTHER_PORT, 1, explicit(
            'OK', 'another destination port: the held ports can be reused (4-tuple)',
            peer='h2')),
        _held(_v4(3), _PORT, 1, explicit(
            'OK', 'another destination address: the held ports can be reused', peer='h3')),
        _held(_v6(2), _PORT, 1, explicit(
            'OK', 'IPv6 to h2: other 4-tuples, same range', peer='h2')),
        _held(_v6(2), _PORT, 2, explicit('OK', 'the second and last port toward '
                                        '[fd00::2]:5001', peer='h2')),
        _held(_v6(2), _PORT, 3, explicit('EADDRNOTAVAIL', 'the IPv6 range is the IPv4 '
                                         'range (ip_local_port_range): both ports are '
                                         'taken toward [fd00::2]:5001')),
        _held(_v4(2), _PORT, 1, explicit('OK', 'a connected UDP socket takes a port',
                                         peer='h2'), 'udp'),
        _held(_v4(2), _PORT, 2, explicit('OK', 'the second and last port', peer='h2'),
              'udp'),
        _held(_v4(3), _PORT, 1, explicit(
            'EAGAIN', 'UDP ports are not shared by destination: both are taken, so even '
            'a new server is refused, with EAGAIN rather than EADDRNOTAVAIL'), 'udp',
            ('timeout=300',)),
        _held(_v4(2), _PORT, 4, explicit(
            'OK', 'another source address (10.0.0.11): a fresh set of 4-tuples; its '
            'bind(10.0.0.11, 0) takes port 40001 as a bound port', peer='h2'),
            options=(f'src={_SECOND_ADDR}',)),
        _held(_v4(2), _OTHER_PORT, 2, explicit(
            'EADDRNOTAVAIL', '40000 already goes to 10.0.0.2:5002, and 40001 was taken by '
            'the bind() of the source-address connect: connect() never shares a port a '
            'bind() took (IP_BIND_ADDRESS_NO_PORT avoids this)')),
        connect('h1', _v4(2), _PORT, explicit(
            'EADDRINUSE', f'an explicit source port ({_LOW}) that held connections use: '
            'the source bind() refuses it'), options=(f'sport={_LOW}',)),
    ] + _bind_first_cases()


def _bind_first_cases():
    """Bind-before-connect from h1's 10.0.0.1, whose two ports connections hold, to a
    destination none of them uses (h3's port 5002): without and with bindnoport."""
    src = (f'src={_v4(1)}',)
    return [
        connect('h1', _v4(3), _OTHER_PORT, explicit(
            'EADDRINUSE', f'bind({_v4(1)}, port 0) before the connect: both ports already '
            f'hold connections from {_v4(1)}, so the bind finds no free port (EADDRINUSE) '
            'before the connect could choose one unique for its 4-tuple'), options=src),
        connect('h1', _v4(3), _OTHER_PORT, explicit(
            'OK', 'IP_BIND_ADDRESS_NO_PORT: the bind takes no port, the connect picks '
            f'{_LOW}, free toward this destination', peer='h3'),
            options=src + ('bindnoport',)),
    ]


def _h4_cases():
    """h4's range is used up by bind(port 0) listeners: connects fail for every destination."""
    took = explicit('OK', f'bind() to port 0 picks a free port from {_LOW}-{_HIGH}')
    return [
        bind('h4', '0.0.0.0', 0, took, options=('hold',), column='tcp 0.0.0.0:0 hold #1'),
        bind('h4', '0.0.0.0', 0, took, options=('hold',), column='tcp 0.0.0.0:0 hold #2'),
        bind('h4', '0.0.0.0', 0, explicit(
            'EADDRINUSE', 'bind() to port 0 with no free port in the range: EADDRINUSE, '
            'not EADDRNOTAVAIL'), options=('hold',), column='tcp 0.0.0.0:0 hold #3'),
        connect('h4', _v4(2), _PORT, explicit(
            'EADDRNOTAVAIL', 'both ephemeral ports are taken by bind(): connect never '
            'shares a port a bind() took')),
        connect('h4', _v4(3), _PORT, explicit(
            'EADDRNOTAVAIL', 'another destination does not help when bind() holds the ports')),
        connect('h4', _v6(3), _PORT, explicit(
            'EADDRNOTAVAIL', 'nor does IPv6: the same range, the same bound ports')),
    ]


scenarios = [
    Scenario(
        name='port-exhaustion',
        title='a narrowed ip_local_port_range: connect() runs out of ports (EADDRNOTAVAIL)',
        topo=PortExhaustionTopo,
        setup=_setup(),
        faults=_faults(),
        servers=_servers(),
        cases=tuple(_h1_cases() + _h4_cases()),
        switches=('lxbr', 'ovs', 'ovs-user'),   # green on lxbr and ovs-user here
        order=7,
    ),
]
