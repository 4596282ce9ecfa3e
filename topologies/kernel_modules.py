"""Scenarios that need kernel modules many machines lack: vrf, dummy, sch_netem.

h1 (10.0.0.1/24) and h2 (10.0.0.2/24) on one switch s1.  Each scenario names its
modules (Scenario.modules); a kernel without one skips it with a notice naming the
module, and `sudo make vm-test` runs them on Debian's stock kernel in a QEMU guest.
  - vrf-bind: h1's interface is enslaved to the VRF vrf-blue (table 10).  Its
    address and connected route now live in the VRF's table, so a socket that is not
    bound to the VRF device no longer sees them: binding 10.0.0.1 is EADDRNOTAVAIL,
    with `dev=vrf-blue` (SO_BINDTODEVICE) it is OK; a connect to h2 without the
    device finds no route (ENETUNREACH), with it h2 answers.  Loopback inside the
    VRF: 127.0.0.1 with `dev=vrf-blue` is EADDRNOTAVAIL (the VRF's table has no
    loopback address), without the device it binds as anywhere.  These are the
    address-binding rules the kernel's selftest fcnal-test.sh checks.
  - dummy-service: a service address (10.9.9.9/32) held by a dummy interface on h1
    (the way anycast and load-balanced service addresses are kept): h1 binds it, h2
    does not (EADDRNOTAVAIL) and reaches it through a route via h1.
  - netem-timeout: 400 ms of netem delay on h2's link: a connect with a 200 ms
    timeout is ETIMEDOUT, the same connect with 3 s connects: a timeout depends on
    the path, not only on the far end.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import Scenario, Server, bind, connect, explicit, run

_PORT = 7001
_VRF, _TABLE = 'vrf-blue', 10
_SERVICE = '10.9.9.9'


class PairTopo(Topo):
    """h1 and h2 on one switch s1, at 10.0.0.1/24 and 10.0.0.2/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)


topos = {'pair': PairTopo}


def _vrf():
    """h1-eth0 into the VRF vrf-blue: its address and routes move to table 10."""
    faults = (
        run('h1', ['ip', 'link', 'add', _VRF, 'type', 'vrf', 'table', _TABLE],
            'make the VRF vrf-blue (table 10) on h1'),
        run('h1', ['ip', 'link', 'set', 'dev', _VRF, 'up'], 'bring vrf-blue up'),
        run('h1', ['ip', 'link', 'set', 'dev', 'h1-eth0', 'master', _VRF],
            'enslave h1-eth0 (10.0.0.1) to vrf-blue'))
    dev = f'dev={_VRF}'
    no_dev = (f'10.0.0.1 is on h1-eth0, in VRF {_VRF}: a socket not bound to the VRF '
              'looks in the main table, where h1 holds no such address')
    cases = (
        bind('h1', '10.0.0.1', 6677, explicit('EADDRNOTAVAIL', no_dev)),
        bind('h1', '10.0.0.1', 6677, explicit('EADDRNOTAVAIL', no_dev), 'udp'),
        bind('h1', '10.0.0.1', 6677, explicit(
            'OK', f'bound to {_VRF} (SO_BINDTODEVICE), the socket sees the VRF\'s '
            'addresses'), options=(dev,)),
        bind('h1', '10.0.0.1', 6677, explicit('OK', f'bound to {_VRF}'), 'udp',
             options=(dev,)),
        bind('h1', '0.0.0.0', 6677, explicit('OK', 'the wildcard binds in any VRF')),
        bind('h1', '127.0.0.1', 6677, explicit(
            'EADDRNOTAVAIL', f'127.0.0.1 is lo\'s, in the main table: a socket bound to '
            f'{_VRF} looks in table {_TABLE}, which has no loopback address until one is '
            f'added to the VRF device itself (ip addr add 127.0.0.1/8 dev {_VRF}; '
            'PowerDNS #8284, FRR #7889)'), options=(dev,)),
        bind('h1', '127.0.0.1', 6677, explicit(
            'OK', 'outside the VRF, lo\'s 127.0.0.1 as on any host')),
        bind('h2', '10.0.0.1', 6677, explicit('EADDRNOTAVAIL', '10.0.0.1 is h1\'s')),
        connect('h1', '10.0.0.2', _PORT, explicit(
            'ENETUNREACH', 'the route to 10.0.0.0/24 moved into the VRF\'s table: without '
            'the device the main table has none')),
        connect('h1', '10.0.0.2', _PORT, explicit(
            'OK', f'bound to {_VRF}, the VRF\'s route reaches h2', peer='h2'),
            options=(dev,)),
    )
    return faults, cases


def _dummy():
    """A service address on a dummy interface of h1, routed to by h2."""
    faults = (
        run('h1', ['ip', 'link', 'add', 'svc0', 'type', 'dummy'],
            'a dummy interface svc0 on h1 to hold the service address'),
        run('h1', ['ip', 'link', 'set', 'dev', 'svc0', 'up'], 'bring svc0 up'),
        run('h1', ['ip', 'addr', 'add', f'{_SERVICE}/32', 'dev', 'svc0'],
            f'the service address {_SERVICE} on svc0'),
        run('h2', ['ip', 'route', 'add', f'{_SERVICE}/32', 'via', '10.0.0.1'],
            f'h2 reaches {_SERVICE} through h1'))
    cases = (
        bind('h1', _SERVICE, 6677, explicit('OK', f'h1 holds {_SERVICE} on svc0 (dummy)')),
        bind('h1', _SERVICE, 6677, explicit('OK', f'h1 holds {_SERVICE} on svc0'), 'udp'),
        bind('h2', _SERVICE, 6677, explicit(
            'EADDRNOTAVAIL', f'{_SERVICE} is routed to h1, not held by h2')),
        connect('h2', _SERVICE, _PORT, explicit(
            'OK', f'h1 serves {_SERVICE}; the route via h1 reaches it', peer='h1')),
        connect('h2', _SERVICE, _PORT, explicit(
            'EADDRNOTAVAIL', f'{_SERVICE} as a source: h2 does not hold it'),
            options=(f'src={_SERVICE}',)),
    )
    return faults, cases


def _netem():
    """400 ms delay on h2's link: a short connect timeout expires, a long one not."""
    faults = (run('h2', ['tc', 'qdisc', 'add', 'dev', 'h2-eth0', 'root', 'netem',
                         'delay', '400ms'], 'delay every frame h2 sends by 400 ms'),)
    cases = (
        connect('h2', '10.0.0.1', _PORT, explicit(
            'ETIMEDOUT', 'the SYN leaves 400 ms late: a 200 ms timeout expires first'),
            options=('timeout=200',)),
        connect('h2', '10.0.0.1', _PORT, explicit(
            'OK', 'a 3 s timeout outlasts the 400 ms delay', peer='h1'),
            options=('timeout=3000',)),
        connect('h1', '10.0.0.2', _PORT, explicit(
            'OK', 'h2\'s answers are late but a 3 s timeout waits for them', peer='h2'),
            options=('timeout=3000',)),
    )
    return faults, cases


def _scenario(name, title, module, parts, servers, order):
    faults, cases = parts
    return Scenario(name=name, title=title, topo=PairTopo, faults=faults,
                    servers=servers, cases=cases, modules=(module,), order=order)


scenarios = [
    _scenario('vrf-bind', 'binds in a VRF: a socket bound to the VRF device vs one that '
              'is not', 'vrf', _vrf(), (Server('h2', '10.0.0.2', _PORT),), 60),
    _scenario('dummy-service', 'a service address held by a dummy interface', 'dummy',
              _dummy(), (Server('h1', _SERVICE, _PORT),), 61),
    _scenario('netem-timeout', 'a netem delay: a short connect timeout is ETIMEDOUT, a '
              'long one connects', 'sch_netem', _netem(),
              (Server('h1', '10.0.0.1', _PORT), Server('h2', '10.0.0.2', _PORT)), 62),
]
