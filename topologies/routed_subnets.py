"""routed-subnets: two subnets behind a Linux router; unreachable, refused, dropped.

Clients h1..h8 (10.0.1.11..18/24, fd00:1::11..18/64) on switch s1; the server srv
(10.0.2.10/24, fd00:2::10/64) on switch s2; r1 routes between them (r1-eth0 10.0.1.1 /
fd00:1::1, r1-eth1 10.0.2.1 / fd00:2::1, IPv4 and IPv6 forwarding on).  srv serves TCP
on 5001 and UDP on 5002 (one dual-stack socket each).  Each client has one thing wrong
on its path (h8 none):

    h1  no default route (IPv4 and IPv6)
    h2  `ip route add unreachable 10.0.2.0/24` (and the IPv6 one for fd00:2::/64)
    h3  r1: `reject with tcp reset` for h3's TCP
    h4  r1: `drop` for everything from h4
    h5  r1: `reject with icmpx type host-unreachable` (IPv6: address unreachable)
    h6  r1: `reject with icmpx type port-unreachable`
    h7  r1: `reject with icmpx type admin-prohibited`
    h8  nothing: the working path

The nft rules sit in an `inet filter` table, forward chain, matched on the client's
source address; icmpx is nft's name for "the ICMP or ICMPv6 message of this meaning".

What the kernel answers (measured, identical over repeated runs, on lxbr and ovs-user):
ENETUNREACH (h1) and EHOSTUNREACH (h2) come from the client's own routing table before
any packet leaves; a reject is answered by r1 in place of srv (tcp reset and port
unreachable: ECONNREFUSED; host unreachable and, for IPv4, admin-prohibited:
EHOSTUNREACH; ICMPv6 admin-prohibited: EACCES); a drop is silence until the timeout
(300 ms here).  One timing trap, kept out of the matrix: on the Linux bridge the
reject's ICMPv6 error reaches the client while its connect() call still holds the
socket, and TCP over IPv6 then acts only on the answer to the SYN retransmitted ~1 s
later (ETIMEDOUT at 300 ms), while over the slower ovs-user switch it is reported at
once; so the IPv6 TCP reject cells wait 2 s and show the ICMPv6 errno on both.  Each
client causes at most three ICMP errors per family, inside r1's per-destination ICMP
rate limit (net.ipv4.icmp_ratelimit, net.ipv6.icmp.ratelimit: a burst of 6, then one
per interval; a tight loop of rejected connects measured mostly ETIMEDOUT after the
first six).  Errno 99 never appears, and every host binds its own addresses.  Run it
with `sudo make mininet-test SCENARIO=routed-subnets`; the topology alone with
`sudo mn --custom topologies/routed_subnets.py --topo routedsubnets --switch lxbr`.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, addr_add, bind, connect, expect_bind,
                              explicit, nft, run, sysctl)

_CLIENTS = ('h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8')
_SRV4, _SRV6 = '10.0.2.10', 'fd00:2::10'
_TCP_PORT, _UDP_PORT = 5001, 5002
_BIND_PORT = 6600
_TIMEOUT = 'timeout=300'  # a dropped SYN costs 300 ms, not the default 1 s


def _v4(host):
    """h1 -> 10.0.1.11, ..., srv -> 10.0.2.10, r1 -> 10.0.1.1."""
    if host == 'srv':
        return _SRV4
    if host == 'r1':
        return '10.0.1.1'
    return f'10.0.1.{10 + int(host[1:])}'


def _v6(host):
    """h1 -> fd00:1::11, ..., srv -> fd00:2::10, r1 -> fd00:1::1."""
    if host == 'srv':
        return _SRV6
    if host == 'r1':
        return 'fd00:1::1'
    return f'fd00:1::{10 + int(host[1:])}'


_OWNERS = {_v4(h): h for h in _CLIENTS + ('srv', 'r1')} | \
    {_v6(h): h for h in _CLIENTS + ('srv', 'r1')} | {'10.0.2.1': 'r1', 'fd00:2::1': 'r1'}


class RoutedSubnetsTopo(Topo):
    """h1..h8 on s1 (10.0.1.0/24), srv on s2 (10.0.2.0/24), r1 between them."""

    def build(self):
        left, right = self.addSwitch('s1'), self.addSwitch('s2')
        r1 = self.addHost('r1', ip='10.0.1.1/24')
        self.addLink(r1, left, intfName1='r1-eth0', params1={'ip': '10.0.1.1/24'})
        self.addLink(r1, right, intfName1='r1-eth1', params1={'ip': '10.0.2.1/24'})
        self.addLink(self.addHost('srv', ip=f'{_SRV4}/24', defaultRoute='via 10.0.2.1'),
                     right)
        for h in _CLIENTS:
            route = {} if h == 'h1' else {'defaultRoute': 'via 10.0.1.1'}
            self.addLink(self.addHost(h, ip=f'{_v4(h)}/24', **route), left)


topos = {'routedsubnets': RoutedSubnetsTopo}


def _setup():
    """Forwarding on r1, IPv6 addresses (no DAD) and IPv6 default routes (not h1).

    r1's link-local addresses are replaced by fe80::1 and fe80::2 without DAD: while
    the kernel's own ran DAD (up to 2 s after the link came up) no IPv6 packet got
    through r1, and the readiness check waited for it."""
    steps = []
    for n, intf in enumerate(('r1-eth0', 'r1-eth1'), 1):
        steps += [run('r1', ['ip', '-6', 'addr', 'flush', 'dev', intf, 'scope', 'link'],
                      why=f'r1\'s link-local address on {intf}, maybe still in DAD, goes'),
                  addr_add('r1', f'fe80::{n}/64', intf, nodad=True,
                           why='... and another comes, usable at once')]
    steps += [sysctl('r1', 'net.ipv4.ip_forward', 1, why='r1 routes IPv4'),
             sysctl('r1', 'net.ipv6.conf.all.forwarding', 1, why='r1 routes IPv6'),
             addr_add('r1', 'fd00:1::1/64', 'r1-eth0', nodad=True, why='r1 IPv6, left'),
             addr_add('r1', 'fd00:2::1/64', 'r1-eth1', nodad=True, why='r1 IPv6, right'),
             addr_add('srv', f'{_SRV6}/64', 'srv-eth0', nodad=True, why='srv IPv6'),
             run('srv', ['ip', '-6', 'route', 'add', 'default', 'via', 'fd00:2::1'],
                 why='srv routes IPv6 via r1')]
    for h in _CLIENTS:
        steps.append(addr_add(h, f'{_v6(h)}/64', f'{h}-eth0', nodad=True,
                              why=f'{h} IPv6, usable at once'))
        if h != 'h1':
            steps.append(run(h, ['ip', '-6', 'route', 'add', 'default', 'via',
                                 'fd00:1::1'], why=f'{h} routes IPv6 via r1'))
    return tuple(steps)


def _reject_rules():
    """r1's forward chain: one rule per faulty client, by source address (each with a
    counter, so `explain` can say which rule a connect hit)."""
    def both(host, verdict, l4=''):
        return (f'        ip saddr {_v4(host)} {l4}counter {verdict}\n'
                f'        ip6 saddr {_v6(host)} {l4}counter {verdict}\n')
    return ('table inet filter {\n'
            '    chain forward {\n'
            '        type filter hook forward priority filter; policy accept;\n'
            + both('h3', 'reject with tcp reset', 'meta l4proto tcp ')
            + both('h4', 'drop')
            + both('h5', 'reject with icmpx type host-unreachable')
            + both('h6', 'reject with icmpx type port-unreachable')
            + both('h7', 'reject with icmpx type admin-prohibited')
            + '    }\n}\n')


def _faults():
    """h2's unreachable routes and r1's reject/drop rules (h1's fault is by omission)."""
    return (run('h2', ['ip', 'route', 'add', 'unreachable', '10.0.2.0/24'],
                why='an unreachable route for the server subnet (IPv4)'),
            run('h2', ['ip', '-6', 'route', 'add', 'unreachable', 'fd00:2::/64'],
                why='an unreachable route for the server subnet (IPv6)'),
            nft('r1', _reject_rules(), why='r1 rejects h3, h5, h6, h7 and drops h4'))


def _servers():
    """srv: one dual-stack TCP and one dual-stack UDP server."""
    return (Server('srv', '::', _TCP_PORT, 'tcp', ('v6only=0',)),
            Server('srv', '::', _UDP_PORT, 'udp', ('v6only=0',)))


_ICMP6_SLOW = ('r1 answers {what}; this TCP/IPv6 cell waits up to 2 s because when the '
               'error comes back while connect() still holds the socket (Linux bridge: '
               'TcpExtLockDroppedIcmps counts it) IPv6 acts only on the answer to the SYN '
               'retransmitted after ~1 s, while IPv4 reports it at once')

# client -> column key -> (outcome, reason); keys: tcp4, tcp6, udp4, udp6 (300 ms);
# h5-h7 have tcp6slow (2 s) instead of tcp6
_EXPECT = {
    'h1': {k: ('ENETUNREACH', 'h1 has no default route: no route to the server subnet, '
               'refused before any packet is sent')
           for k in ('tcp4', 'tcp6', 'udp4', 'udp6')},
    'h2': {k: ('EHOSTUNREACH', 'the unreachable route for the server subnet matches: '
               '"No route to host", before any packet is sent')
           for k in ('tcp4', 'tcp6', 'udp4', 'udp6')},
    'h3': {'tcp4': ('ECONNREFUSED', 'r1 answers the SYN with a reset in srv\'s name: '
                    'it looks exactly like a closed port'),
           'tcp6': ('ECONNREFUSED', 'the same reset over IPv6'),
           'udp4': ('OK', 'the tcp-reset rule matches TCP only: UDP passes and srv '
                    'answers'),
           'udp6': ('OK', 'the tcp-reset rule matches TCP only: UDP passes')},
    'h4': {k: ('ETIMEDOUT', 'r1 drops everything from h4: nothing comes back within '
               '300 ms') for k in ('tcp4', 'tcp6', 'udp4', 'udp6')},
    'h5': {'tcp4': ('EHOSTUNREACH', 'r1 answers ICMP host unreachable: refused at once'),
           'udp4': ('EHOSTUNREACH', 'the ICMP host unreachable reaches the UDP socket '
                    '(IP_RECVERR)'),
           'udp6': ('EHOSTUNREACH', 'ICMPv6 address unreachable reaches the UDP socket'),
           'tcp6slow': ('EHOSTUNREACH', _ICMP6_SLOW.format(
               what='ICMPv6 address unreachable: "No route to host"'))},
    'h6': {'tcp4': ('ECONNREFUSED', 'r1 answers ICMP port unreachable: refused, as if '
                    'srv had nothing on the port'),
           'udp4': ('ECONNREFUSED', 'ICMP port unreachable: the usual UDP answer of a '
                    'closed port'),
           'udp6': ('ECONNREFUSED', 'ICMPv6 port unreachable: refused'),
           'tcp6slow': ('ECONNREFUSED', _ICMP6_SLOW.format(
               what='ICMPv6 port unreachable: refused'))},
    'h7': {'tcp4': ('EHOSTUNREACH', 'ICMP administratively prohibited (code 13) maps to '
                    '"No route to host"'),
           'udp4': ('EHOSTUNREACH', 'ICMP administratively prohibited: "No route to '
                    'host"'),
           'udp6': ('EACCES', 'ICMPv6 administratively prohibited maps to EACCES, '
                    '"Permission denied": not the errno IPv4 gives'),
           'tcp6slow': ('EACCES', _ICMP6_SLOW.format(
               what='ICMPv6 administratively prohibited: EACCES, not IPv4\'s errno'))},
    'h8': {k: ('OK', 'nothing wrong on h8\'s path: srv answers')
           for k in ('tcp4', 'tcp6', 'udp4', 'udp6')},
}
_SLOW_TIMEOUT = 'timeout=2000'


def _connect_cases():
    """Each client to srv: TCP and UDP, IPv4 and IPv6 (300 ms; IPv6 TCP rejects 2 s)."""
    cases = []
    targets = (('tcp4', _SRV4, _TCP_PORT, 'tcp', _TIMEOUT),
               ('tcp6', _SRV6, _TCP_PORT, 'tcp', _TIMEOUT),
               ('udp4', _SRV4, _UDP_PORT, 'udp', _TIMEOUT),
               ('udp6', _SRV6, _UDP_PORT, 'udp', _TIMEOUT),
               ('tcp6slow', _SRV6, _TCP_PORT, 'tcp', _SLOW_TIMEOUT))
    for h in _CLIENTS:
        for key, addr, port, proto, timeout in targets:
            if key not in _EXPECT[h]:
                continue
            outcome, reason = _EXPECT[h][key]
            exp = explicit(outcome, reason, peer='srv' if outcome == 'OK' else None)
            cases.append(connect(h, addr, port, exp, proto=proto, options=(timeout,)))
    cases.append(connect('h1', _v4('h8'), _TCP_PORT,
                         explicit('ECONNREFUSED', 'h1 still reaches its own subnet (the '
                                  'connected route stays); h8 has nothing on 5001'),
                         options=(_TIMEOUT,)))
    return cases


def _bind_cases():
    """Every host binds its own addresses, srv's address and the wildcards."""
    cases = []
    for h in _CLIENTS + ('r1', 'srv'):
        for addr, column in ((_v4(h), 'tcp own IPv4'), (_v6(h), 'tcp own IPv6'),
                             (_SRV4, ''), ('0.0.0.0', ''), ('::', '')):
            if h == 'srv' and column == '' and addr == _SRV4:
                continue  # already its own IPv4
            cases.append(bind(h, addr, _BIND_PORT, expect_bind(h, addr, _OWNERS),
                              column=column))
    return cases


scenarios = [
    Scenario(
        name='routed-subnets',
        title='two subnets behind a router: no route, unreachable route, reject, drop',
        topo=RoutedSubnetsTopo,
        setup=_setup(),
        faults=_faults(),
        servers=_servers(),
        ready=tuple((h, '10.0.1.1') for h in _CLIENTS) + (
            ('srv', '10.0.2.1'), ('h8', _SRV4), ('h8', _SRV6), ('h4', _SRV4)),
        cases=tuple(_bind_cases() + _connect_cases()),
        order=8,
    ),
]
