"""udp-source: a UDP reply leaves from the wrong source, or from one the host lost.

h1..h3 on one switch s1 at 10.0.0.1..3/24 and fd00::1..3/64 (nodad).  h1 also holds
the secondary 10.0.0.11 (its service address, where h1's UDP server, bound to the
wildcard, is reached) and held 10.0.0.12 and fd00::12 until a fault moved them to h3.
What the kernel answers:
  - h2's connected UDP socket to 10.0.0.11:7002 gets no answer (ETIMEDOUT): the
    server bound to the wildcard replies from h1's primary address 10.0.0.1, and a
    connected socket drops a datagram from another source (the `udp-reply-source`
    rule of derived scenarios);
  - the fix, a reply sent from the address the request came to: h1's send from the
    secondary 10.0.0.11, bound first (sendto) or given in IP_PKTINFO (sendmsg), is
    OK;
  - a reply from the address that moved: bound first, the bind fails
    (EADDRNOTAVAIL); in IP_PKTINFO, the send fails with ENETUNREACH; in
    IPV6_PKTINFO with EINVAL.  On h3, which holds them now, both are OK.
Run it with `sudo make mininet-test SCENARIO=udp-source`.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, addr_add, addr_del,  # noqa: E402
                              connect, expect_send, explicit)
from harness.scenario import send as _send  # noqa: E402

_PORT = 7002                     # h1's UDP server (wildcard) and the replies' peer port
_SECOND, _MOVED, _MOVED6 = '10.0.0.11', '10.0.0.12', 'fd00::12'
_OWNERS = {'10.0.0.1': 'h1', '10.0.0.2': 'h2', '10.0.0.3': 'h3', _SECOND: 'h1',
           _MOVED: 'h3', 'fd00::1': 'h1', 'fd00::2': 'h2', 'fd00::3': 'h3',
           _MOVED6: 'h3'}        # after the faults


class UdpSourceTopo(Topo):
    """h1..h3 on one switch s1, at 10.0.0.1..3/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2, 3):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)


topos = {'udpsource': UdpSourceTopo}


def _setup():
    steps = [addr_add(f'h{n}', f'fd00::{n}/64', f'h{n}-eth0', nodad=True,
                      why=f'give h{n} an IPv6 address, usable at once') for n in (1, 2, 3)]
    steps += [addr_add('h1', f'{a}/24', 'h1-eth0', why=f'h1 serves on {a} too')
              for a in (_SECOND, _MOVED)]
    steps.append(addr_add('h1', f'{_MOVED6}/64', 'h1-eth0', nodad=True,
                          why=f'h1 serves on {_MOVED6} too'))
    return tuple(steps)


def _faults():
    return (addr_del('h1', f'{_MOVED}/24', 'h1-eth0', why=f'{_MOVED} moves to h3'),
            addr_del('h1', f'{_MOVED6}/64', 'h1-eth0', why=f'{_MOVED6} moves to h3'),
            addr_add('h3', f'{_MOVED}/24', 'h3-eth0', why=f'h3 holds {_MOVED} now'),
            addr_add('h3', f'{_MOVED6}/64', 'h3-eth0', nodad=True,
                     why=f'h3 holds {_MOVED6} now'))


def _requests():
    """h2's requests to h1's UDP server, on the primary and on the secondary address."""
    return [
        connect('h2', '10.0.0.1', _PORT, explicit(
            'OK', 'the primary address: the reply comes from where the request went',
            peer='h1'), 'udp', ('timeout=300',)),
        connect('h2', _SECOND, _PORT, explicit(
            'ETIMEDOUT', f'{_SECOND} is a secondary address of h1: its UDP server (bound '
            'to the wildcard) answers from the primary one, and h2\'s connected socket '
            'drops that answer', 'udp-reply-source'), 'udp', ('timeout=300',)),
    ]


def _replies():
    """Replies to h2 from h1's and h3's addresses, bound first and in PKTINFO."""
    out = []
    for host in ('h1', 'h3'):
        for src in ('10.0.0.1', _SECOND, _MOVED):
            out.append(_send(host, '10.0.0.2', _PORT, expect_send(host, src, _OWNERS),
                             src=src))
            out.append(_send(host, '10.0.0.2', _PORT,
                             expect_send(host, src, _OWNERS, pktinfo=True), pktinfo=src))
        out.append(_send(host, 'fd00::2', _PORT,
                         expect_send(host, _MOVED6, _OWNERS, pktinfo=True),
                         pktinfo=_MOVED6))
    return out


scenarios = [
    Scenario(
        name='udp-source',
        title='a UDP reply from a secondary address, or from one that moved '
              '(ETIMEDOUT, ENETUNREACH, EADDRNOTAVAIL)',
        topo=UdpSourceTopo,
        setup=_setup(),
        faults=_faults(),
        servers=(Server('h1', '0.0.0.0', _PORT, 'udp'),),
        cases=tuple(_requests() + _replies()),
        order=41,
    ),
]
