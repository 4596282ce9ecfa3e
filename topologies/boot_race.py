"""boot-race: a service started before its address exists (Errno 99 in time).

h1..h3 on one switch s1 at 10.0.0.1..3/24.  The service address 10.0.0.10/24 arrives
on h1 one second into the probe phase (a timed step: DHCP, keepalived, a slow
network-online), and 10.0.0.30/24 on h3 at the same second; h3 has
net.ipv4.ip_nonlocal_bind=1.  What the kernel really does while it waits:
  - a plain bind at t=0 is EADDRNOTAVAIL: the unit ordered After=network.target, not
    network-online.target;
  - a bind that retries (retry=3, every 100 ms) fails with EADDRNOTAVAIL until the
    address arrives, then binds: the patient service;
  - IP_FREEBIND (systemd's FreeBind=) binds at once, and so does any bind on h3
    (ip_nonlocal_bind=1);
  - but neither listener receives anything before its address exists: h2's
    connects at t=0 get no answer (nobody answers ARP for 10.0.0.10 or 10.0.0.30),
    a retrying connect reaches h1 (freebind) and h3 (ip_nonlocal_bind) once the
    address is there, and one started after it is answered at once;
  - the control: the same bind started after the address (delay=1500, as
    network-online.target orders it) is OK at its first try.
h2's connects wait for ARP, which asks again once a second: the first request after
the address arrived is answered, so a connect's OK comes up to a second after it
(within=2.5 allows for that, never an exact time).
Run it with `sudo make mininet-test SCENARIO=boot-race`; lab sheet labs/boot-race.md.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, addr_add, at, bind, connect, explicit,
                              sysctl)

LATE = '10.0.0.10'          # h1's service address, arriving at ARRIVES_S
LATE_H3 = '10.0.0.30'       # h3's, at the same second (ip_nonlocal_bind there)
ARRIVES_S = 1.0
_PORT = 7001                # h1's freebind server on LATE
_PORT_H3 = 7003             # h3's server on LATE_H3 (ip_nonlocal_bind)
_RETRY = ('retry=3', 'every=100')
_SHORT = 'timeout=300'
_AFTER = 'delay=1500'       # started after the address: network-online ordering
_WITHIN = 2.5               # seconds into the probe phase: the address came at 1
_AT_ONCE = 0.5              # a bind that needs no address: done at the start


class BootRaceTopo(Topo):
    """h1..h3 on one switch s1, at 10.0.0.1..3/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2, 3):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)


topos = {'bootrace': BootRaceTopo}


def _faults():
    """h3 may bind any address; the service addresses arrive one second in."""
    return (sysctl('h3', 'net.ipv4.ip_nonlocal_bind', 1,
                   why='h3 binds addresses it does not hold (yet)'),
            at(ARRIVES_S, addr_add('h1', f'{LATE}/24', 'h1-eth0',
                                   why='the service address arrives late on h1')),
            at(ARRIVES_S, addr_add('h3', f'{LATE_H3}/24', 'h3-eth0',
                                   why='h3\'s service address arrives late')))


def _servers():
    """Listeners that wait for no address: IP_FREEBIND on h1, ip_nonlocal_bind on h3."""
    return (Server('h1', LATE, _PORT, options=('freebind',)),
            Server('h3', LATE_H3, _PORT_H3))


def _bind_cases():
    """h1's service binds LATE four ways; h3's binds LATE_H3 at once."""
    return (
        bind('h1', LATE, 6677, explicit(
            'EADDRNOTAVAIL', f'started at t=0, before {LATE} exists on h1: Errno 99')),
        bind('h1', LATE, 6678, explicit(
            'OK', f'retries every 100 ms until {LATE} arrives at t={ARRIVES_S:g} s',
            before='EADDRNOTAVAIL', within=_WITHIN), options=_RETRY),
        bind('h1', LATE, 6679, explicit(
            'OK', 'IP_FREEBIND (systemd FreeBind=): binds an address not there yet',
            within=_AT_ONCE), options=('freebind',)),
        bind('h1', LATE, 6680, explicit(
            'OK', f'started after {LATE} exists (network-online.target): the control'),
            options=(_AFTER,)),
        bind('h3', LATE_H3, 6677, explicit(
            'OK', 'ip_nonlocal_bind=1 on h3: binds an address not there yet',
            within=_AT_ONCE)),
    )


def _connect_cases():
    """h2 reaches the listeners only once their addresses exist: a connect before
    (t=0), a retrying one, one after (delay=1500), to each."""
    return (
        connect('h2', LATE, _PORT, explicit(
            'ETIMEDOUT', f'h1 listens (freebind) but does not hold {LATE} yet: nobody '
            'answers ARP, the SYN never leaves'), options=(_SHORT,)),
        connect('h2', LATE, _PORT, explicit(
            'OK', f'tried until {LATE} arrives on h1, then h1 answers', peer='h1',
            within=_WITHIN), options=_RETRY + (_SHORT,)),
        connect('h2', LATE_H3, _PORT_H3, explicit(
            'ETIMEDOUT', f'h3 listens (ip_nonlocal_bind) but does not hold {LATE_H3} '
            'yet: nobody answers ARP'), options=(_SHORT,)),
        connect('h2', LATE_H3, _PORT_H3, explicit(
            'OK', f'h3 listens (ip_nonlocal_bind) and answers once {LATE_H3} arrives',
            peer='h3', within=_WITHIN), options=_RETRY + (_SHORT,)),
        connect('h2', LATE, _PORT, explicit(
            'OK', f'started after {LATE} exists: h1 answers at once', peer='h1'),
            options=(_AFTER,)),
        connect('h2', LATE_H3, _PORT_H3, explicit(
            'OK', f'started after {LATE_H3} exists: h3 answers at once', peer='h3'),
            options=(_AFTER,)),
    )


scenarios = [
    Scenario(
        name='boot-race',
        title='A service started before its address exists: retry, FreeBind=, '
              'ip_nonlocal_bind, network-online',
        topo=BootRaceTopo,
        faults=_faults(),
        servers=_servers(),
        cases=_bind_cases() + _connect_cases(),
        order=12,
    ),
]
