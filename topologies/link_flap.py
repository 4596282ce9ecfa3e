"""link-flap: the IPv6 re-DAD window after a link comes back (Errno 99 in time).

h1, h2 on one switch s1 at 10.0.0.1..2/24; h1 holds fd00::1/64 (with DAD, finished
before the probes), h2 fd00::2/64.  h1 keeps its IPv6 addresses when its link goes
down (net.ipv6.conf.h1-eth0.keep_addr_on_down=1, as NetworkManager and systemd-networkd
setups often have), and its link is down when the probe phase starts; it comes back
up at t=1 s.  What the kernel really does:
  - a kept IPv6 address is tentative again while the link is down, and after the
    link comes up it runs DAD again (libreswan #42, opnsense #6749): a bind of
    fd00::1 is EADDRNOTAVAIL until that DAD is over, about a second after the link
    came back (one probe, retrans_time_ms 1000, router_solicitation_delay 0 on h1 so
    that DAD starts at once);
  - a bind that retries binds once DAD is over: the re-DAD window shows between the
    link's step and its first OK;
  - IP_FREEBIND binds at once; an IPv4 address stays usable on a down link (bind OK);
  - h2 reaches h1's fd00::1 only after that DAD (nobody answers for a tentative
    address).
Not in the default suite (no lab sheet); run it with
`sudo /usr/bin/python3 -m harness run link-flap`.
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
UP_S = 1.0                  # the link comes back this many seconds into the probe phase
_PORT = 7001
_RETRY = ('retry=4', 'every=100')
_WITHIN = 4.0


class LinkFlapTopo(Topo):
    """h1, h2 on one switch s1, at 10.0.0.1..2/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)


topos = {'linkflap': LinkFlapTopo}


def _setup():
    """fd00::1 on h1 with DAD (started at once), fd00::2 on h2; both DADs over."""
    return (sysctl('h1', 'net.ipv6.conf.h1-eth0.router_solicitation_delay', 0,
                   why='DAD on h1 starts at once: its window is one probe (1 s)'),
            addr_add('h1', f'{V6}/64', 'h1-eth0', why='h1 holds fd00::1 (with DAD)'),
            addr_add('h2', 'fd00::2/64', 'h2-eth0', nodad=True, why='h2 holds fd00::2'),
            wait_dad('h1', 'h1-eth0', why='fd00::1 usable before the probes'))


def _faults():
    """The link down with its addresses kept; back up at UP_S."""
    return (sysctl('h1', 'net.ipv6.conf.h1-eth0.keep_addr_on_down', 1,
                   why='h1 keeps its IPv6 addresses while the link is down'),
            link_down('h1', 'h1-eth0', why='h1\'s link goes down (cable, switch port, '
                                           'VM NIC)'),
            at(UP_S, run('h1', ['ip', 'link', 'set', 'dev', 'h1-eth0', 'up'],
                         why='the link comes back: fd00::1 runs DAD again')))


def _cases():
    return (
        bind('h1', V6, 6677, explicit(
            'EADDRNOTAVAIL', f'the link is down: {V6} is tentative again')),
        bind('h1', V6, 6678, explicit(
            'OK', f'retries until {V6}\'s DAD after the link came back is over',
            before='EADDRNOTAVAIL', within=_WITHIN), options=_RETRY),
        bind('h1', V6, 6679, explicit(
            'OK', 'IP_FREEBIND binds a tentative address at once', within=0.5),
            options=('freebind',)),
        bind('h1', '10.0.0.1', 6680, explicit(
            'OK', 'an IPv4 address stays usable on a down link')),
        connect('h2', V6, _PORT, explicit(
            'OK', f'h1 answers once {V6} is usable again', peer='h1', within=_WITHIN),
            options=_RETRY + ('timeout=300',)),
    )


scenarios = [
    Scenario(
        name='link-flap',
        title='The IPv6 re-DAD window after a link comes back up',
        topo=LinkFlapTopo,
        setup=_setup(),
        faults=_faults(),
        servers=(Server('h1', '::', _PORT),),
        cases=_cases(),
        default=False,
        order=14,
    ),
]
