"""link-flap: the IPv6 re-DAD window after a link comes back (Errno 99 in time).

h1, h2 on one switch s1 at 10.0.0.1..2/24; h1 holds fd00::1/64 (with DAD, finished
before the probes) and fd00::11/64 (added with nodad), h2 fd00::2/64.  h1 keeps its
IPv6 addresses when its link goes down (net.ipv6.conf.h1-eth0.keep_addr_on_down=1,
as NetworkManager and systemd-networkd setups often have), and its link is down when
the probe phase starts; it comes back up at t=1 s.  h1's service listens on
fd00::1:7001 with IP_FREEBIND.  What the kernel really does:
  - a kept IPv6 address is tentative again while the link is down, and after the
    link comes up it runs DAD again (libreswan #42, opnsense #6749): a bind of
    fd00::1 is EADDRNOTAVAIL until that DAD is over (one probe; h1's
    retrans_time_ms is 500, a second by default, and router_solicitation_delay 0,
    so DAD starts at once and the window is half a second after the link's step);
  - a bind that retries binds once DAD is over: the re-DAD window shows between the
    link's step and its first OK;
  - IP_FREEBIND binds at once, and so does the address added with nodad (never
    tentative, not even on the down link); an IPv4 address stays usable on a down
    link (bind OK);
  - the freebind listener receives nothing while the link is down (h2's connect at
    t=0 times out) and answers once DAD is over (a retrying connect).  h2 asks for
    fd00::1 every 200 ms (its retrans_time_ms), so its OK follows DAD's end closely.
The windows (within=3.0) allow for a loaded machine; never an exact time.
Run it with `sudo make mininet-test SCENARIO=link-flap`; lab sheet labs/link-flap.md.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, addr_add, at, bind, connect, explicit,
                              link_down, run, sysctl, wait_dad)

V6 = 'fd00::1'
V6_NODAD = 'fd00::11'
UP_S = 1.0                  # the link comes back this many seconds into the probe phase
DAD_MS = 500                # h1's retrans_time_ms: one DAD probe, this long
_PORT = 7001                # h1's freebind service on fd00::1
_RETRY = ('retry=3', 'every=100')
_SHORT = 'timeout=300'
_WITHIN = 3.0               # seconds into the probe phase: up at 1, DAD over at ~1.5
_AT_ONCE = 0.5


class LinkFlapTopo(Topo):
    """h1, h2 on one switch s1, at 10.0.0.1..2/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)


topos = {'linkflap': LinkFlapTopo}


def _setup():
    """fd00::1 on h1 with a short DAD (started at once), fd00::11 on h1 and fd00::2 on
    h2 without; h1's DAD over before the faults."""
    return (sysctl('h1', 'net.ipv6.conf.h1-eth0.router_solicitation_delay', 0,
                   why='DAD on h1 starts at once'),
            sysctl('h1', 'net.ipv6.neigh.h1-eth0.retrans_time_ms', DAD_MS,
                   why='one DAD probe on h1 lasts half a second (a second by default)'),
            sysctl('h2', 'net.ipv6.neigh.h2-eth0.retrans_time_ms', 200,
                   why='h2 asks for a neighbour again every 200 ms'),
            addr_add('h1', f'{V6}/64', 'h1-eth0', why='h1 holds fd00::1 (with DAD)'),
            addr_add('h1', f'{V6_NODAD}/64', 'h1-eth0', nodad=True,
                     why='h1 holds fd00::11 (nodad: never tentative)'),
            addr_add('h2', 'fd00::2/64', 'h2-eth0', nodad=True, why='h2 holds fd00::2'),
            wait_dad('h1', 'h1-eth0', why='fd00::1 usable before the faults'))


def _faults():
    """The link down with its addresses kept; back up at UP_S."""
    return (sysctl('h1', 'net.ipv6.conf.h1-eth0.keep_addr_on_down', 1,
                   why='h1 keeps its IPv6 addresses while the link is down'),
            link_down('h1', 'h1-eth0', why='h1\'s link goes down (cable, switch port, '
                                           'VM NIC)'),
            at(UP_S, run('h1', ['ip', 'link', 'set', 'dev', 'h1-eth0', 'up'],
                         why='the link comes back: fd00::1 runs DAD again')))


def _bind_cases():
    """h1's service binds fd00::1 plainly, retrying, with IP_FREEBIND; the nodad and
    IPv4 addresses beside it."""
    return (
        bind('h1', V6, 6677, explicit(
            'EADDRNOTAVAIL', f'the link is down: {V6} is tentative again')),
        bind('h1', V6, 6678, explicit(
            'OK', f'retries until {V6}\'s DAD after the link came back is over',
            before='EADDRNOTAVAIL', within=_WITHIN), options=_RETRY),
        bind('h1', V6, 6679, explicit(
            'OK', 'IP_FREEBIND binds a tentative address at once', within=_AT_ONCE),
            options=('freebind',)),
        bind('h1', V6_NODAD, 6677, explicit(
            'OK', f'{V6_NODAD} was added with nodad: never tentative, even on the down '
            'link')),
        bind('h1', '10.0.0.1', 6680, explicit(
            'OK', 'an IPv4 address stays usable on a down link')),
    )


def _connect_cases():
    """h2 reaches h1's freebind listener only once fd00::1 is usable again."""
    return (
        connect('h2', V6, _PORT, explicit(
            'ETIMEDOUT', f'h1 listens (freebind) but its link is down: nobody answers '
            f'for {V6}'), options=(_SHORT,)),
        connect('h2', V6, _PORT, explicit(
            'OK', f'tried until {V6}\'s DAD is over, then h1 answers', peer='h1',
            within=_WITHIN), options=_RETRY + (_SHORT,)),
    )


scenarios = [
    Scenario(
        name='link-flap',
        title='The IPv6 re-DAD window after a link comes back up: retry, IP_FREEBIND, '
              'nodad',
        topo=LinkFlapTopo,
        setup=_setup(),
        faults=_faults(),
        servers=(Server('h1', V6, _PORT, options=('freebind',)),),
        cases=_bind_cases() + _connect_cases(),
        order=14,
    ),
]
