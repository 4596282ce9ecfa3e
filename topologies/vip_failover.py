"""vip-failover: a keepalived-style VIP moves from h1 to h2 while services run.

h1..h3 on one switch s1 at 10.0.0.1..3/24.  The VIP 10.0.0.100/24 is on h1 (the
master) from the start; one second into the probe phase it fails over: h1 loses it,
h2 (the backup) gets it, and h3 forgets its ARP entry for it (the gratuitous ARP a
real failover sends).  What the kernel really does:
  - the backup's service binding the VIP before failover is EADDRNOTAVAIL (kube-vip
    #711: HAProxy on the backup); retrying, it binds once the VIP arrives; with
    IP_FREEBIND (or ip_nonlocal_bind) it binds at once;
  - clients reach whoever holds the VIP: h3's connect before failover is answered by
    h1, the one after it by h2's freebind listener, which never restarted;
  - the old master binding the VIP after failover is EADDRNOTAVAIL.
Run it with `sudo make mininet-test SCENARIO=vip-failover`; lab sheet
labs/vip-failover.md.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, addr_add, addr_del, at, bind, connect,
                              explicit, run)

VIP = '10.0.0.100'
FAILOVER_S = 1.0
_PORT = 7001                # the service on the VIP: h1's plain, h2's freebind
_AFTER = 'delay=1500'       # after failover


class VipFailoverTopo(Topo):
    """h1..h3 on one switch s1, at 10.0.0.1..3/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2, 3):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)


topos = {'vipfailover': VipFailoverTopo}


def _faults():
    """The VIP on the master, then the failover at FAILOVER_S."""
    return (addr_add('h1', f'{VIP}/24', 'h1-eth0', why='the VIP starts on the master h1'),
            at(FAILOVER_S, addr_del('h1', f'{VIP}/24', 'h1-eth0',
                                    why='failover: the master h1 loses the VIP')),
            at(FAILOVER_S, addr_add('h2', f'{VIP}/24', 'h2-eth0',
                                    why='failover: the backup h2 takes the VIP')),
            at(FAILOVER_S, run('h3', ['ip', 'neigh', 'flush', 'dev', 'h3-eth0'],
                               why='the gratuitous ARP of a real failover: h3 forgets '
                                   'the VIP\'s old MAC address')))


def _cases():
    return (
        bind('h2', VIP, 6677, explicit(
            'EADDRNOTAVAIL', 'the backup binds the VIP before failover: Errno 99')),
        bind('h2', VIP, 6678, explicit(
            'OK', 'the backup retries until the VIP arrives at failover',
            before='EADDRNOTAVAIL', within=2.5), options=('retry=2', 'every=100')),
        bind('h2', VIP, 6679, explicit(
            'OK', 'IP_FREEBIND: the backup binds the VIP at once', within=0.5),
            options=('freebind',)),
        bind('h1', VIP, 6680, explicit(
            'EADDRNOTAVAIL', 'the old master no longer holds the VIP after failover'),
            options=(_AFTER,)),
        connect('h3', VIP, _PORT, explicit(
            'OK', 'before failover the master h1 answers on the VIP', peer='h1',
            within=0.5), options=('timeout=300',)),
        connect('h3', VIP, _PORT, explicit(
            'OK', 'after failover the backup h2 answers: its freebind listener was '
            'waiting for the VIP', peer='h2'), options=(_AFTER,)),
    )


scenarios = [
    Scenario(
        name='vip-failover',
        title='A VIP fails over while services run: the backup\'s bind, FreeBind=, '
              'who answers',
        topo=VipFailoverTopo,
        faults=_faults(),
        servers=(Server('h1', VIP, _PORT), Server('h2', VIP, _PORT, options=('freebind',))),
        cases=_cases(),
        order=13,
    ),
]
