"""docker-bridge: published ports, containers, and the real Docker Errno 99.

A Docker-style network without Docker.  "Containers" c1..c5 (172.17.0.2..6/16) sit on
an internal bridge s1 behind dh, the "docker host": its bridge address is 172.17.0.1/16
(dh-eth0, the containers' gateway, like docker0) and its outer address 198.51.100.1/24
(dh-eth1, switch s2), where the outside client ext (198.51.100.10/24) connects.  dh
forwards, masquerades the containers, and publishes ports with DNAT, as
`docker run -p 8080:80` does:

    198.51.100.1:8080 -> c1 172.17.0.2:80   c1's service listens on 127.0.0.1 only
    198.51.100.1:8081 -> c2 172.17.0.3:80   c2's service is not started
    198.51.100.1:8082 -> c3 172.17.0.4:81   wrong mapping: c3 listens on 80
    198.51.100.1:8083 -> c4 172.17.0.5:80   right mapping (the working reference)

Like Docker with its default userland proxy, dh also runs a proxy on every published
port (netprobe serve --proxy-to, docker-proxy's behaviour: accept, connect to the
container, close the client when that fails).  The DNAT rules catch what comes from
outside (prerouting, from dh-eth1) and dh's own connects to its non-loopback addresses
(output); the proxy gets the rest: dh's loopback and the other containers (traffic in
from the bridge is not DNATed, as Docker's `! -i docker0`).

c5 runs with IPv6 disabled (net.ipv6.conf.all and .default disable_ipv6=1, the usual
container setting) and connects to `localhost` as ::1.

What the kernel answers (measured, identical over repeated runs):
  - every failed mapping is ECONNREFUSED from the client's view (the container's kernel
    answers the DNATed SYN with a reset), never Errno 99;
  - through the proxy (dh's 127.0.0.1, a container to 172.17.0.1) the same failed
    mappings connect and are then closed without a byte (after "eof": curl's "Empty
    reply from server"); the right mapping is answered by c4 through it too;
  - the right mapping is answered by c4;
  - c5 connecting to ::1 is EADDRNOTAVAIL, the real Docker Errno 99: with IPv6 disabled
    the namespace has no IPv6 address at all, so no source address can be chosen; the
    same connect to 127.0.0.1 with nothing listening is ECONNREFUSED;
  - a container binding the host's published address 198.51.100.1 is EADDRNOTAVAIL.
Run it with `sudo make mininet-test SCENARIO=docker-bridge`; the topology alone with
`sudo mn --custom topologies/docker_bridge.py --topo dockerbridge --switch lxbr`.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, bind, connect, expect_bind,
                              expect_connect, explicit, nft, sysctl)

_GW, _OUTER, _EXT = '172.17.0.1', '198.51.100.1', '198.51.100.10'
_CONTAINERS = ('c1', 'c2', 'c3', 'c4', 'c5')
_SERVICE_PORT = 80        # the port the services listen on inside the containers
_WRONG_PORT = 81          # what c3's mapping names instead
_LOCALHOST_PORT = 5000    # c5's client connects to localhost here; nothing listens
_LOCAL_SERVICE_PORT = 5001  # c5 has a service on 127.0.0.1 here
_BIND_PORT = 6600         # the bind matrix (no server holds it)
# published port -> (container, container port, what is wrong)
_MAPPINGS = {
    8080: ('c1', _SERVICE_PORT, 'the service in c1 listens on 127.0.0.1 only'),
    8081: ('c2', _SERVICE_PORT, 'the service in c2 is not started'),
    8082: ('c3', _WRONG_PORT, 'the mapping names port 81; c3 listens on 80'),
    8083: ('c4', _SERVICE_PORT, None),
}


def _ip(container):
    """c1 -> 172.17.0.2, ..., c5 -> 172.17.0.6."""
    return f'172.17.0.{int(container[1:]) + 1}'


_OWNERS = {_GW: 'dh', _OUTER: 'dh', _EXT: 'ext'} | {_ip(c): c for c in _CONTAINERS}


class DockerBridgeTopo(Topo):
    """c1..c5 on s1 (the internal bridge) behind dh; ext on s2 outside."""

    def build(self):
        bridge, outside = self.addSwitch('s1'), self.addSwitch('s2')
        dh = self.addHost('dh', ip=f'{_GW}/16')
        self.addLink(dh, bridge, intfName1='dh-eth0', params1={'ip': f'{_GW}/16'})
        self.addLink(dh, outside, intfName1='dh-eth1', params1={'ip': f'{_OUTER}/24'})
        for name in _CONTAINERS:
            self.addLink(self.addHost(name, ip=f'{_ip(name)}/16', defaultRoute=f'via {_GW}'),
                         bridge)
        self.addLink(self.addHost('ext', ip=f'{_EXT}/24'), outside)


topos = {'dockerbridge': DockerBridgeTopo}


def _nat_rules():
    """dh's nat table: one DNAT per published port for what comes from outside and
    for dh's own connects to its non-loopback addresses (Docker's OUTPUT rule),
    masquerade of the bridge."""
    dnat = '\n'.join(f'        iifname "dh-eth1" tcp dport {port} counter dnat to {_ip(c)}:{cport}'
                     for port, (c, cport, _w) in _MAPPINGS.items())
    local = '\n'.join(f'        ip daddr {{ {_GW}, {_OUTER} }} tcp dport {port} dnat to '
                      f'{_ip(c)}:{cport}' for port, (c, cport, _w) in _MAPPINGS.items())
    return f"""
table ip nat {{
    chain prerouting {{
        type nat hook prerouting priority dstnat; policy accept;
{dnat}
    }}
    chain output {{
        type nat hook output priority -100; policy accept;
{local}
    }}
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        oifname "dh-eth1" ip saddr 172.17.0.0/16 masquerade
    }}
}}
"""


def _setup():
    """dh forwards and publishes the ports (the mappings as the user wrote them)."""
    return (sysctl('dh', 'net.ipv4.ip_forward', 1, why='dh routes for its containers'),
            nft('dh', _nat_rules(), why='publish 8080-8083 with DNAT (docker run -p), '
                'masquerade the bridge'))


def _faults():
    """c5 runs with IPv6 disabled, as many container images and runtimes set it."""
    return tuple(sysctl('c5', f'net.ipv6.conf.{which}.disable_ipv6', 1,
                        why=f'IPv6 disabled in container c5 ({which})')
                 for which in ('all', 'default'))


def _servers():
    """c1 on loopback only, c3 and c4 on the wildcard, c5 on loopback; c2 none; dh's
    userland proxy on every published port (docker-proxy)."""
    return (Server('c1', '127.0.0.1', _SERVICE_PORT),
            Server('c3', '0.0.0.0', _SERVICE_PORT),
            Server('c4', '0.0.0.0', _SERVICE_PORT),
            Server('c5', '127.0.0.1', _LOCAL_SERVICE_PORT)) + tuple(
        Server('dh', '0.0.0.0', port, proxy_to=f'{_ip(c)}:{cport}')
        for port, (c, cport, _w) in _MAPPINGS.items())


def _bind_cases():
    """Each host binds its own address, the gateway, the published address, wildcard, lo."""
    cases = []
    for h in _CONTAINERS:
        cases.append(bind(h, _ip(h), _BIND_PORT, expect_bind(h, _ip(h), _OWNERS),
                          column='tcp own address'))
    for h in _CONTAINERS + ('dh',):
        for addr in (_GW, _OUTER, '0.0.0.0', '127.0.0.1'):
            cases.append(bind(h, addr, _BIND_PORT, expect_bind(h, addr, _OWNERS)))
    for h in ('c4', 'c5'):
        for addr in ('::', '::1'):
            cases.append(bind(h, addr, _BIND_PORT, _v6_bind_expect(h, addr)))
    return cases


def _v6_bind_expect(host, addr):
    """IPv6 binds: normal in c4, IPv6 disabled in c5."""
    if host != 'c5':
        return expect_bind(host, addr, _OWNERS)
    if addr == '::':
        return explicit('OK', 'the IPv6 wildcard binds even with IPv6 disabled: it is '
                        'no address of any interface, the kernel has nothing to check')
    return explicit('EADDRNOTAVAIL', 'IPv6 disabled: lo has no ::1, so ::1 is not an '
                    'address of c5')


def _published_cases():
    """ext to every published port, and straight to a container (not routed)."""
    cases = []
    for port, (c, cport, wrong) in _MAPPINGS.items():
        if wrong:
            exp = explicit('ECONNREFUSED', f'{wrong}: the DNATed SYN reaches '
                           f'{_ip(c)}:{cport}, where nothing listens, and {c} answers RST')
        else:
            exp = explicit('OK', f'dh maps {port} to {c}:{cport}, where {c} listens',
                           peer=c)
        cases.append(connect('ext', _OUTER, port, exp))
    cases.append(connect('ext', _ip('c4'), _SERVICE_PORT,
                         explicit('ENETUNREACH', 'ext has no route to 172.17.0.0/16: '
                                  'containers are reached only through published ports')))
    return cases


def _proxy_cases():
    """The published ports from dh's loopback and from another container: through
    the proxy, which accepts before it knows whether the container will."""
    cases = []
    for port, (c, cport, wrong) in _MAPPINGS.items():
        cases.append(connect('dh', '127.0.0.1', port, _proxied(port, c, cport, wrong)))
    cases.append(connect('dh', _OUTER, 8080, explicit(
        'ECONNREFUSED', 'dh\'s own connect to its outer address is DNATed in output '
        '(Docker\'s OUTPUT rule), so it meets c1 directly: refused, as from outside')))
    for port in (8080, 8083):
        c, cport, wrong = _MAPPINGS[port]
        cases.append(connect('c2', _GW, port, _proxied(port, c, cport, wrong)))
    return cases


def _proxied(port, c, cport, wrong):
    """The expectation of a connect to published port through the proxy."""
    if not wrong:
        return explicit('OK', f'the proxy on {port} connects to {c}:{cport}, where {c} '
                        'listens, and relays its answer', peer=c, after='greeting')
    return explicit('OK', f'{wrong}: the proxy accepts, its connect to {_ip(c)}:{cport} '
                    'is refused, and it closes the client without a byte (curl: Empty '
                    'reply from server)', after='eof')


def _container_cases():
    """Inside the containers: loopback, neighbours, and c5's localhost."""
    listeners = {('127.0.0.1', _SERVICE_PORT): 'c1',
                 (_ip('c3'), _SERVICE_PORT): 'c3', (_ip('c4'), _SERVICE_PORT): 'c4'}
    return [
        connect('c1', '127.0.0.1', _SERVICE_PORT,
                explicit('OK', 'inside c1 the service works: it listens on 127.0.0.1',
                         peer='c1')),
        connect('c1', _ip('c1'), _SERVICE_PORT,
                explicit('ECONNREFUSED', 'c1 listens on 127.0.0.1 only, not on its bridge '
                         'address: the DNATed traffic is refused the same way')),
        connect('c2', _ip('c4'), _SERVICE_PORT,
                expect_connect('c2', _ip('c4'), _SERVICE_PORT, listeners)),
        connect('c2', _ip('c3'), _WRONG_PORT,
                expect_connect('c2', _ip('c3'), _WRONG_PORT, listeners)),
        connect('c5', '::1', _LOCALHOST_PORT,
                explicit('EADDRNOTAVAIL', 'IPv6 disabled: no IPv6 address in c5, so '
                         'connect() finds no source for ::1 -- the real Docker Errno 99')),
        connect('c5', '127.0.0.1', _LOCALHOST_PORT,
                explicit('ECONNREFUSED', 'IPv4 loopback works; nothing listens on '
                         f'{_LOCALHOST_PORT}: refused, not Errno 99')),
        connect('c5', '::1', _LOCALHOST_PORT,
                explicit('EADDRNOTAVAIL', 'the same for UDP: no IPv6 source address'),
                proto='udp'),
        connect('c5', '127.0.0.1', _LOCAL_SERVICE_PORT,
                explicit('OK', 'c5\'s service on 127.0.0.1 answers over IPv4', peer='c5')),
        connect('c5', '::1', _LOCAL_SERVICE_PORT,
                explicit('EADDRNOTAVAIL', 'a listener on 127.0.0.1 does not help ::1: '
                         'the connect fails before any packet, at the source address')),
        connect('c4', '::1', _LOCALHOST_PORT,
                explicit('ECONNREFUSED', 'c4 has IPv6: ::1 exists, nothing listens, '
                         'refused -- the error c5 would get with IPv6 enabled')),
        connect('c5', _EXT, _SERVICE_PORT,
                explicit('ECONNREFUSED', 'c5 goes out through dh (masqueraded); ext has '
                         'nothing on 80 and answers RST')),
    ]


scenarios = [
    Scenario(
        name='docker-bridge',
        title='published ports on a Docker-style bridge, and the ::1 Errno 99',
        topo=DockerBridgeTopo,
        setup=_setup(),
        faults=_faults(),
        servers=_servers(),
        ready=tuple((c, _GW) for c in _CONTAINERS) + (('dh', _EXT), ('ext', _OUTER)),
        cases=tuple(_bind_cases() + _published_cases() + _proxy_cases() +
                    _container_cases()),
        order=6,
    ),
]
