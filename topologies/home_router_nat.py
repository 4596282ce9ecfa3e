"""home-router-nat: a server behind a home NAT router, its public address, the port forward.

srv (192.168.1.50/24) sits on the home LAN (switch s1) behind r1, a Linux router with a
LAN side (r1-eth0, 192.168.1.1/24) and a WAN side (r1-eth1, 203.0.113.1/24, switch s2)
that masquerades the LAN.  ext (203.0.113.10/24) is an outside client on the WAN side;
it has no route to 192.168.1.0/24, as on the Internet.  Everything is inside Mininet.

Setup (the intended network): ip_forward=1 on r1; an nft `ip nat` table on r1 with a
port forward 203.0.113.1:6677 -> 192.168.1.50:6677 (DNAT, the working reference), a
second forward 6679 -> 192.168.1.50:6679, and masquerading of the LAN on the way out.
Faults: no forward at all for 6678 (srv listens there, but nothing sends it the
traffic), and an `ip filter` forward-chain drop for traffic to srv's port 6679.

What the kernel answers (measured, identical over repeated runs):
  - srv binding 203.0.113.1 is EADDRNOTAVAIL: NAT translates for srv, it does not give
    srv the router's public address (with IP_FREEBIND the bind succeeds anyway);
  - ext -> 203.0.113.1:6677 is answered by srv (DNAT);
  - ext -> 203.0.113.1:6678 (no forward) is ECONNREFUSED: the packet is for r1 itself,
    where nothing listens, and r1 answers with a reset;
  - ext -> 203.0.113.1:6679 (forward, then dropped) is ETIMEDOUT (300 ms timeout);
  - UDP to 203.0.113.1:6678 is ECONNREFUSED too (r1's ICMP port unreachable);
  - ext -> 192.168.1.50 directly is ENETUNREACH: private addresses are not routed;
  - srv -> ext goes out masqueraded and is answered by ext.
Run it with `sudo make mininet-test SCENARIO=home-router-nat`; the topology alone with
`sudo mn --custom topologies/home_router_nat.py --topo homerouternat --switch lxbr`.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, bind, connect, expect_bind,
                              expect_connect, explicit, nft, sysctl)

_SRV, _LAN_GW = '192.168.1.50', '192.168.1.1'
_PUBLIC, _EXT = '203.0.113.1', '203.0.113.10'
_FORWARD_PORT = 6677      # forwarded to srv: works
_NO_FORWARD_PORT = 6678   # srv listens, but no forward rule on r1
_DROPPED_PORT = 6679      # forwarded to srv, then dropped by r1's firewall
_EXT_PORT = 7001          # ext serves here (srv's outbound connects)
_BIND_PORT = 6600         # the bind matrix (no server holds it)
_TIMEOUT = 'timeout=300'  # a silent drop costs 300 ms, not the default 1 s
_NAMES = ('srv', 'r1', 'ext')
_OWNERS = {_SRV: 'srv', _LAN_GW: 'r1', _PUBLIC: 'r1', _EXT: 'ext'}


class HomeRouterNatTopo(Topo):
    """srv on s1 (LAN), ext on s2 (WAN), r1 routing between them."""

    def build(self):
        lan, wan = self.addSwitch('s1'), self.addSwitch('s2')
        r1 = self.addHost('r1', ip=f'{_LAN_GW}/24')
        srv = self.addHost('srv', ip=f'{_SRV}/24', defaultRoute=f'via {_LAN_GW}')
        ext = self.addHost('ext', ip=f'{_EXT}/24')
        self.addLink(r1, lan, intfName1='r1-eth0', params1={'ip': f'{_LAN_GW}/24'})
        self.addLink(r1, wan, intfName1='r1-eth1', params1={'ip': f'{_PUBLIC}/24'})
        self.addLink(srv, lan)
        self.addLink(ext, wan)


topos = {'homerouternat': HomeRouterNatTopo}

_NAT_RULES = f"""
table ip nat {{
    chain prerouting {{
        type nat hook prerouting priority dstnat; policy accept;
        iifname "r1-eth1" tcp dport {_FORWARD_PORT} counter dnat to {_SRV}:{_FORWARD_PORT}
        iifname "r1-eth1" tcp dport {_DROPPED_PORT} counter dnat to {_SRV}:{_DROPPED_PORT}
    }}
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        oifname "r1-eth1" ip saddr 192.168.1.0/24 masquerade
    }}
}}
"""

_DROP_RULES = f"""
table ip filter {{
    chain forward {{
        type filter hook forward priority filter; policy accept;
        ip daddr {_SRV} tcp dport {_DROPPED_PORT} counter drop
    }}
}}
"""


def _setup():
    """r1 forwards, port-forwards 6677 and 6679 to srv, and masquerades the LAN."""
    return (sysctl('r1', 'net.ipv4.ip_forward', 1, why='r1 routes between LAN and WAN'),
            nft('r1', _NAT_RULES, why='port forwards 6677 and 6679 to srv, masquerade '
                'the LAN behind 203.0.113.1'))


def _faults():
    """No forward for 6678 (by omission) and a firewall drop for 6679."""
    return (nft('r1', _DROP_RULES, why='r1\'s firewall drops forwarded traffic to '
                f'srv:{_DROPPED_PORT}'),)


def _servers():
    """srv serves the three ports; ext serves srv's outbound connects."""
    return tuple(Server('srv', '0.0.0.0', port)
                 for port in (_FORWARD_PORT, _NO_FORWARD_PORT, _DROPPED_PORT)) + \
        (Server('ext', '0.0.0.0', _EXT_PORT),)


def _bind_cases():
    """Every host binds every address of the network, wildcard and loopback."""
    addrs = (_SRV, _LAN_GW, _PUBLIC, _EXT, '0.0.0.0', '127.0.0.1', '::', '::1')
    cases = [bind(h, a, _BIND_PORT, expect_bind(h, a, _OWNERS)) for a in addrs
             for h in _NAMES]
    cases.append(bind('srv', _PUBLIC, _BIND_PORT,
                      explicit('OK', 'IP_FREEBIND lets srv bind an address it does not '
                               'hold; DNAT still delivers to 192.168.1.50, not to it'),
                      options=('freebind',)))
    return cases


def _connect_cases():
    """The outside client through the router, and srv going out through NAT."""
    to_srv = {(_SRV, p): 'srv' for p in (_FORWARD_PORT, _NO_FORWARD_PORT, _DROPPED_PORT)}
    return [
        connect('ext', _PUBLIC, _FORWARD_PORT,
                explicit('OK', f'r1 forwards {_PUBLIC}:{_FORWARD_PORT} to srv (DNAT)',
                         peer='srv')),
        connect('ext', _PUBLIC, _NO_FORWARD_PORT,
                explicit('ECONNREFUSED', f'no forward for {_NO_FORWARD_PORT}: the SYN is '
                         'for r1 itself, where nothing listens, so r1 answers RST')),
        connect('ext', _PUBLIC, _DROPPED_PORT,
                explicit('ETIMEDOUT', f'forwarded to srv:{_DROPPED_PORT}, then dropped by '
                         'r1\'s firewall: no answer within 300 ms'),
                options=(_TIMEOUT,)),
        connect('ext', _PUBLIC, _NO_FORWARD_PORT,
                explicit('ECONNREFUSED', 'no UDP forward: the datagram is for r1 itself, '
                         'which answers ICMP port unreachable'), proto='udp'),
        connect('ext', _SRV, _FORWARD_PORT,
                explicit('ENETUNREACH', 'ext has no route to 192.168.1.0/24: private '
                         'addresses are not routed outside')),
        connect('srv', _EXT, _EXT_PORT,
                explicit('OK', 'srv goes out through r1, masqueraded behind 203.0.113.1',
                         peer='ext')),
        connect('srv', _SRV, _NO_FORWARD_PORT,
                expect_connect('srv', _SRV, _NO_FORWARD_PORT, to_srv)),
        connect('srv', _PUBLIC, _FORWARD_PORT,
                explicit('ECONNREFUSED', 'the forward applies only to traffic arriving on '
                         'the WAN side (iifname r1-eth1): from the LAN the SYN is for r1 '
                         'itself, where nothing listens')),
    ]


scenarios = [
    Scenario(
        name='home-router-nat',
        title='a server behind NAT binds the public address; the port forward',
        topo=HomeRouterNatTopo,
        setup=_setup(),
        faults=_faults(),
        servers=_servers(),
        ready=(('srv', _LAN_GW), ('r1', _SRV), ('ext', _PUBLIC), ('r1', _EXT)),
        cases=tuple(_bind_cases() + _connect_cases()),
        order=5,
    ),
]
