"""scale: N hosts, full bind and connect matrices (the benchmark's topology).

Hosts h1..hN at 10.0.x.y/16 (h1 = 10.0.0.1 ... h250 = 10.0.0.250, h251 = 10.0.1.1),
MAC 02:00:00:00:HH:LL, behind bridges of at most 30 hosts each: one bridge s1 up to 30
hosts, else leaf bridges s1..sK under a root bridge s0 (no bridge gets near the ~40
ports where OVS's userspace datapath starts dropping frames).  Every host serves on
0.0.0.0:7001.  Bind matrix: every host binds every host's address and 0.0.0.0;
connect matrix: every host connects to every host's server.  All expectations come
from the owner-binds, wildcard-binds and listener-answers rules.

ARP tables are filled statically in setup (one `ip -batch` per host, all at once): N hosts asking
N-1 neighbours by broadcast would flood N^2 frames through the bridges at once, and
the matrix is about sockets, not about surviving an ARP storm.

The default suite runs `scale` with 8 hosts; `scale_scenario(hosts=N)` builds another
size (bench/bench_harness.py uses 10..200); `sudo mn --custom topologies/scale.py
--topo scale,50 --switch lxbr` builds the topology alone.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, at_once, bind, connect, expect_bind,
                              expect_connect, run)

SCALE_PORT = 7001
SCALE_BIND_PORT = 6677
PER_BRIDGE = 30


def scale_ip(n):
    """The address of host n (1-based)."""
    return f'10.0.{(n - 1) // 250}.{(n - 1) % 250 + 1}'


def scale_mac(n):
    """The MAC of host n."""
    return f'02:00:00:00:{n >> 8:02x}:{n & 0xff:02x}'


class ScaleTopo(Topo):
    """hosts h1..hN on bridges of at most PER_BRIDGE hosts (a root bridge s0 above)."""

    def build(self, hosts=8, per_bridge=PER_BRIDGE):
        leaves = (hosts + per_bridge - 1) // per_bridge
        root = self.addSwitch('s0') if leaves > 1 else None
        for k in range(1, leaves + 1):
            leaf = self.addSwitch(f's{k}')
            if root:
                self.addLink(leaf, root)
            for n in range((k - 1) * per_bridge + 1, min(hosts, k * per_bridge) + 1):
                host = self.addHost(f'h{n}', ip=f'{scale_ip(n)}/16', mac=scale_mac(n))
                self.addLink(host, leaf)


topos = {'scale': ScaleTopo}


def _static_arp(count):
    """Setup steps, all at once: every host learns every other host's MAC without
    asking."""
    steps = []
    for n in range(1, count + 1):
        lines = ''.join(f'neigh replace {scale_ip(m)} lladdr {scale_mac(m)} '
                        f'dev h{n}-eth0 nud permanent\n'
                        for m in range(1, count + 1) if m != n)
        steps.append(run(f'h{n}', ['ip', '-batch', '-'], 'fill the ARP table '
                         '(no broadcast storm)', stdin=lines))
    return at_once(steps)


def scale_scenario(hosts=8, name=None, default=True):
    """The scale scenario for `hosts` hosts (full bind and connect matrices)."""
    names = [f'h{n}' for n in range(1, hosts + 1)]
    owners = {scale_ip(n): f'h{n}' for n in range(1, hosts + 1)}
    listeners = {(scale_ip(n), SCALE_PORT): f'h{n}' for n in range(1, hosts + 1)}
    addrs = [scale_ip(n) for n in range(1, hosts + 1)] + ['0.0.0.0']
    cases = [bind(h, a, SCALE_BIND_PORT, expect_bind(h, a, owners))
             for a in addrs for h in names]
    # Above 50 hosts every host has that many connects in flight at once against as
    # many servers on a shared CPU: 5 s instead of 1 s of slack (it only matters when
    # the machine is slow; a correct matrix has no timeouts at all).
    slack = ('timeout=5000',) if hosts > 50 else ()
    cases += [connect(h, scale_ip(n), SCALE_PORT,
                      expect_connect(h, scale_ip(n), SCALE_PORT, listeners), options=slack)
              for n in range(1, hosts + 1) for h in names]
    return Scenario(
        name=name or 'scale',
        title=f'{hosts} hosts, full bind and connect matrices',
        topo=lambda: ScaleTopo(hosts=hosts),
        setup=_static_arp(hosts),
        servers=tuple(Server(h, '0.0.0.0', SCALE_PORT) for h in names),
        cases=tuple(cases),
        switches=('lxbr', 'ovs', 'ovs-user') if hosts <= 60 else ('lxbr', 'ovs'),
        ready=tuple((f'h{n}', scale_ip(n % hosts + 1)) for n in range(1, hosts + 1)),
        default=default,
        order=10,
    )


scenarios = [scale_scenario(8)]
