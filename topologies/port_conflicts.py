"""port-conflicts: EADDRINUSE, SO_REUSEADDR against SO_REUSEPORT, v4/v6 wildcards.

h1 and h2 on one switch s1 at 10.0.0.1..2/24 and fd00::1..2/64 (nodad).  h1 runs
servers that hold ports; h1's bind cases meet them (and pairs of binds where the first
keeps its socket, `hold`); h2 connects to h1's dual-stack and IPv6-only servers.
labs/port-conflicts.md is written against these exact ports (servers on 7000-7113,
held pairs on 7004-7014, TIME_WAIT on 7020/7021): renumber them together.
Fault: two servers on h1 "just stopped" (ports 7020 and 7021) and left a connection in
TIME_WAIT on the server side; the one on 7021 had set SO_REUSEADDR, the one on 7020
had not.  What the kernel really does (TCP unless said):
  - a port held by a listener: any bind of it that overlaps (0.0.0.0, 10.0.0.1, and
    :: whose default IPV6_V6ONLY=0 claims IPv4 too) is EADDRINUSE; [fd00::1], ::
    with v6only=1, and the same port in another namespace (h2) are OK;
  - SO_REUSEADDR never lets two TCP *listeners* share a port (EADDRINUSE), but lets
    two bound, not yet listening sockets share it; for UDP it does let two sockets
    share the port.  SO_REUSEPORT on every socket lets them share (TCP and UDP); on
    only one it does not;
  - after a restart: the TIME_WAIT of a server that had SO_REUSEADDR lets a new
    SO_REUSEADDR bind through; the TIME_WAIT of a server that had NOT set it blocks the
    new bind even with SO_REUSEADDR (EADDRINUSE for the 60 s of TIME_WAIT);
  - a server on :: with v6only=0 blocks 0.0.0.0 (and every IPv4 address) on its port
    and answers IPv4 clients; with v6only=1 0.0.0.0 binds, and IPv4 clients are refused.
Run it with `sudo make mininet-test SCENARIO=port-conflicts`.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, addr_add, bind, connect, endpoint,
                              explicit, run)

_H1_V4, _H1_V6 = '10.0.0.1', 'fd00::1'
_TW_PLAIN, _TW_REUSE = 7020, 7021   # TIME_WAIT left by a server without / with REUSEADDR
_DUAL, _V6ONLY, _TWO_REUSEPORT = 7110, 7111, 7113   # connect targets only (no bind case)

# A server on h1 that just stopped: listen, accept one client, close first (so the
# server side of the connection ends in TIME_WAIT), then close the listener.  Exits 0
# only once /proc/net/tcp shows the TIME_WAIT (state 06) on the port.
_TIME_WAIT_PY = '''
import socket, sys, time
addr, port, reuse = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, reuse)
ls.bind(("0.0.0.0", port))
ls.listen()
cl = socket.create_connection((addr, port))
ls.accept()[0].close()
assert cl.recv(1) == b""
cl.close()
ls.close()
deadline = time.monotonic() + 5
while time.monotonic() < deadline:
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    if any(r[1].endswith(":%04X" % port) and r[3] == "06" for r in rows):
        sys.exit(0)
    time.sleep(0.05)
sys.exit("no TIME_WAIT on port %d" % port)
'''


class PortConflictsTopo(Topo):
    """h1 and h2 on one switch s1, at 10.0.0.1..2/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)


topos = {'portconflicts': PortConflictsTopo}


def _setup():
    """fd00::n/64 on each host, without DAD."""
    return tuple(addr_add(f'h{n}', f'fd00::{n}/64', f'h{n}-eth0', nodad=True,
                          why=f'give h{n} an IPv6 address, usable at once') for n in (1, 2))


def _faults():
    """Two servers on h1 that just stopped, leaving TIME_WAIT behind."""
    return tuple(run('h1', ['/usr/bin/python3', '-c', _TIME_WAIT_PY, _H1_V4, port, reuse],
                     why=f'a server on 0.0.0.0:{port} {"with" if reuse else "without"} '
                         'SO_REUSEADDR just stopped; its last connection is in TIME_WAIT')
                 for port, reuse in ((_TW_PLAIN, 0), (_TW_REUSE, 1)))


def _servers():
    """Listeners on h1 that the bind cases meet, and the connect targets."""
    s = [Server('h1', '0.0.0.0', 7000),
         Server('h1', '0.0.0.0', 7002, options=('reuseaddr',)),
         Server('h1', '0.0.0.0', 7003, options=('reuseport',)),
         Server('h1', '::', 7010, options=('v6only=0',)),
         Server('h1', '::', 7011, options=('v6only=1',)),
         Server('h1', '::', 7010, 'udp', ('v6only=0',)),
         Server('h1', '::', 7011, 'udp', ('v6only=1',)),
         Server('h1', '0.0.0.0', 7100, 'udp'),
         Server('h1', '0.0.0.0', 7102, 'udp', ('reuseaddr',)),
         Server('h1', '0.0.0.0', 7103, 'udp', ('reuseport',))]
    for proto in ('tcp', 'udp'):
        s += [Server('h1', '::', _DUAL, proto, ('v6only=0',)),
              Server('h1', '::', _V6ONLY, proto, ('v6only=1',))]
    s += [Server('h1', '0.0.0.0', _TWO_REUSEPORT, options=('reuseport',))] * 2
    return tuple(s)


def _b(host, addr, port, outcome, reason, proto='tcp', options=()):
    """A bind case whose column names the port: 'tcp 0.0.0.0:7000 reuseaddr'."""
    extra = ''.join(f' {o}' for o in options)
    return bind(host, addr, port, explicit(outcome, reason), proto, options,
                column=f'{proto} {endpoint(addr, port)}{extra}')


def _server_cases():
    """Binds on h1 (and h2) against h1's running servers."""
    used = 'EADDRINUSE'
    return [
        _b('h1', '0.0.0.0', 7000, used, 'a server listens on 0.0.0.0:7000'),
        _b('h1', _H1_V4, 7000, used, '0.0.0.0:7000 covers every IPv4 address, 10.0.0.1 too'),
        _b('h1', '0.0.0.0', 7000, used, 'SO_REUSEADDR on the new socket alone changes '
           'nothing: the port has a listener', options=('reuseaddr',)),
        _b('h1', '::', 7000, used, 'an IPv6 wildcard with the default IPV6_V6ONLY=0 '
           '(bindv6only=0) claims the IPv4 port too'),
        _b('h1', '::', 7000, 'OK', 'IPv6 only: no overlap with 0.0.0.0:7000',
           options=('v6only=1',)),
        _b('h1', _H1_V6, 7000, 'OK', 'an IPv6 address does not overlap 0.0.0.0'),
        _b('h2', '0.0.0.0', 7000, 'OK', 'ports belong to a network namespace: h1\'s '
           'server does not hold h2\'s port'),
        _b('h1', '0.0.0.0', 7002, used, 'SO_REUSEADDR on both: still two listeners on one '
           'TCP port, refused', options=('reuseaddr',)),
        _b('h1', '0.0.0.0', 7003, 'OK', 'SO_REUSEPORT on both sockets: they share the port',
           options=('reuseport',)),
        _b('h1', '0.0.0.0', 7003, used, 'SO_REUSEPORT only on the server: every socket '
           'must set it'),
        _b('h1', '0.0.0.0', 7003, used, 'SO_REUSEADDR is not SO_REUSEPORT',
           options=('reuseaddr',)),
        _b('h1', '0.0.0.0', 7010, used, 'the server on :: with v6only=0 holds IPv4 too'),
        _b('h1', _H1_V4, 7010, used, 'the server on :: with v6only=0 holds every IPv4 '
           'address'),
        _b('h1', '127.0.0.1', 7010, used, 'loopback too'),
        _b('h1', '0.0.0.0', 7010, used, 'UDP: the same overlap', 'udp'),
        _b('h1', '0.0.0.0', 7011, 'OK', 'the server on :: has v6only=1: IPv4 is free'),
        _b('h1', '0.0.0.0', 7011, 'OK', 'UDP: the same', 'udp'),
        _b('h1', '::', 7011, used, 'the IPv6 wildcard itself is taken',
           options=('v6only=1',)),
        _b('h1', _H1_V6, 7011, used, ':: covers every IPv6 address, fd00::1 too'),
        _b('h1', '0.0.0.0', 7100, used, 'UDP: a socket holds 0.0.0.0:7100', 'udp'),
        _b('h1', '0.0.0.0', 7100, used, 'UDP: SO_REUSEADDR must be on both sockets', 'udp',
           ('reuseaddr',)),
        _b('h1', '0.0.0.0', 7102, 'OK', 'UDP: SO_REUSEADDR on both sockets shares the '
           'port (unlike TCP listeners)', 'udp', ('reuseaddr',)),
        _b('h1', '0.0.0.0', 7103, 'OK', 'UDP: SO_REUSEPORT on both shares the port', 'udp',
           ('reuseport',)),
    ]


def _pair_cases():
    """Pairs of binds on h1: the first keeps its socket (hold), the next ones meet it."""
    used, hold = 'EADDRINUSE', ('hold',)
    first = 'the first socket on this port (kept open)'
    return [
        _b('h1', _H1_V4, 7006, 'OK', first, options=hold),
        _b('h1', '0.0.0.0', 7006, used, 'the wildcard overlaps 10.0.0.1:7006'),
        _b('h1', '0.0.0.0', 7006, used, 'overlap with a listener: SO_REUSEADDR does not '
           'help', options=('reuseaddr',)),
        _b('h1', '127.0.0.1', 7006, 'OK', 'another address, no overlap with 10.0.0.1'),
        _b('h1', '0.0.0.0', 7004, 'OK', first, options=hold),
        _b('h1', '::', 7004, used, 'IPV6_V6ONLY=0 by default: :: wants the IPv4 port too'),
        _b('h1', '::', 7004, 'OK', 'IPv6 only: no overlap', options=('v6only=1',)),
        _b('h1', _H1_V4, 7004, used, 'an IPv6 socket binding ::ffff:10.0.0.1 is an IPv4 '
           'bind', options=('family=6',)),
        _b('h1', '0.0.0.0', 7012, 'OK', first + ', bound but not listening',
           options=('reuseaddr', 'nolisten', 'hold')),
        _b('h1', '0.0.0.0', 7012, 'OK', 'two sockets with SO_REUSEADDR, neither listening: '
           'they may share the port', options=('reuseaddr', 'nolisten')),
        _b('h1', '0.0.0.0', 7013, 'OK', first + ', listening', options=('reuseaddr', 'hold')),
        _b('h1', '0.0.0.0', 7013, used, 'SO_REUSEADDR on both, but the first one listens',
           options=('reuseaddr', 'nolisten')),
        _b('h1', '0.0.0.0', 7014, 'OK', first + ', with SO_REUSEPORT',
           options=('reuseport', 'hold')),
        _b('h1', '0.0.0.0', 7014, used, 'the second socket lacks SO_REUSEPORT'),
    ]


def _restart_cases():
    """Binds on the ports whose servers just stopped (TIME_WAIT left behind)."""
    return [
        _b('h1', '0.0.0.0', _TW_PLAIN, 'EADDRINUSE', 'a connection of the stopped server '
           'is in TIME_WAIT'),
        _b('h1', '0.0.0.0', _TW_PLAIN, 'EADDRINUSE', 'the stopped server had not set '
           'SO_REUSEADDR: its TIME_WAIT blocks even a SO_REUSEADDR bind',
           options=('reuseaddr',)),
        _b('h1', '0.0.0.0', _TW_REUSE, 'EADDRINUSE', 'TIME_WAIT blocks a bind without '
           'SO_REUSEADDR'),
        _b('h1', '0.0.0.0', _TW_REUSE, 'OK', 'the restart case: both the stopped server '
           'and the new socket set SO_REUSEADDR', options=('reuseaddr',)),
    ]


def _connect_cases():
    """h2 to h1's dual-stack, IPv6-only and SO_REUSEPORT servers."""
    return [
        connect('h2', _H1_V4, _DUAL, explicit('OK', 'the :: server with v6only=0 answers '
                                              'IPv4 clients (as ::ffff:10.0.0.2)', peer='h1')),
        connect('h2', _H1_V6, _DUAL, explicit('OK', 'and IPv6 clients', peer='h1')),
        connect('h2', _H1_V4, _V6ONLY, explicit('ECONNREFUSED', 'the :: server with '
                                                'v6only=1 does not take IPv4: refused')),
        connect('h2', _H1_V6, _V6ONLY, explicit('OK', 'it answers IPv6', peer='h1')),
        connect('h2', _H1_V4, _DUAL, explicit('OK', 'UDP: the v6only=0 socket answers IPv4',
                                              peer='h1'), 'udp'),
        connect('h2', _H1_V4, _V6ONLY, explicit('ECONNREFUSED', 'UDP: nothing takes IPv4 '
                                                'on 7111, h1 answers ICMP port '
                                                'unreachable'), 'udp'),
        connect('h2', _H1_V4, _TWO_REUSEPORT, explicit(
            'OK', 'two servers share 0.0.0.0:7113 with SO_REUSEPORT; one of them answers',
            peer='h1')),
    ]


scenarios = [
    Scenario(
        name='port-conflicts',
        title='EADDRINUSE: a taken port, SO_REUSEADDR against SO_REUSEPORT, v4/v6 wildcards',
        topo=PortConflictsTopo,
        setup=_setup(),
        faults=_faults(),
        servers=_servers(),
        cases=tuple(_server_cases() + _pair_cases() + _restart_cases() + _connect_cases()),
        switches=('lxbr', 'ovs', 'ovs-user'),   # green on lxbr and ovs-user here
        order=9,
    ),
]
