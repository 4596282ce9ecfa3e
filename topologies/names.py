"""names: Errno 99 reached through a name, each host with its own resolver files.

h1..h3 sit on one switch at 10.0.0.1..3/24, and each has its own /etc/hosts (h2 also
its own /etc/resolv.conf), bind-mounted in that host alone (Scenario.host_files):

- h1 is a container with IPv6 off whose hosts file knows `localhost` only as ::1
  (an image's `::1 localhost ip6-localhost` line, its IPv4 line gone): a server
  binding `localhost`, a client connecting to it, gets EADDRNOTAVAIL at ::1 -- the
  Docker Errno 99, by name, although redis listens on 127.0.0.1.  The same bind to
  127.0.0.1 works.  (Where both lines
  are there, glibc sorts the unusable ::1 after 127.0.0.1, so only a program asking
  for IPv6, or binding every address as nginx and asyncio do, still meets it.)
- h2 has the Debian installer's `127.0.1.1 app.example.test app` line: binding its
  own hostname works but listens on loopback, so a client on h2 connecting to `app`
  is refused while the server listens on 10.0.0.2; and its resolver is h3, where no
  DNS server runs: a name in no hosts file does not resolve (EAI_AGAIN, no socket
  call at all).
- h3's hosts file still maps `db.test` to 10.0.0.30, the address h3 had before it
  moved to 10.0.0.3: the database binding `db.test` gets EADDRNOTAVAIL.
- web (192.168.1.50/24) sits behind nat, a home NAT router (LAN side 192.168.1.1 on
  switch s2, public side 203.0.113.1 on switch s3, masquerade and a port forward of
  its public address to web, the recipe of home_router_nat.py; nothing of it touches
  a real interface): web's hosts file maps the service's public name
  `www.example.test` to 203.0.113.1, as the public DNS does, so the server binding
  its own public name gets EADDRNOTAVAIL: NAT translates for web, it never gives web
  that address.  Binding 192.168.1.50, where the port forward delivers, works.
- Hostnames of their own (HostFiles.hostname: a UTS namespace each): h2 is `app`,
  and its second server, started as `--bind $(hostname)`, listens on 127.0.1.1, so
  h1 connecting to h2's address is refused; h3 is `db1`, a hostname its hosts file
  lacks: binding it goes to DNS, and with none reachable getaddrinfo() says
  EAI_AGAIN (where a DNS server answers NXDOMAIN: EAI_NONAME).

The lab sheet is labs/names.md.  Run it alone with `sudo make mininet-test
SCENARIO=names`; the topology alone with `sudo mn --custom topologies/names.py --topo
names --switch lxbr` (the hosts files are the harness's: mn shows the machine's).
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Expect, HostFiles, Scenario, Server, bind, connect,
                              explicit, nft, sysctl)

_PORT = 6379               # h1's redis, on 127.0.0.1: what its clients connect to
_BIND_PORT = 6380          # a second server starting on each host: what binds try
_APP_PORT = 7001           # h2's app server, on its LAN address
_HOSTNAME_PORT = 6381      # h2's server started on its own hostname (127.0.1.1)

_H1_HOSTS = '::1 localhost ip6-localhost ip6-loopback\n10.0.0.1 h1\n'
_H2_HOSTS = '127.0.0.1 localhost\n127.0.1.1 app.example.test app\n'
_H2_RESOLV = 'nameserver 10.0.0.3\noptions timeout:1 attempts:1\n'
_H3_HOSTS = '127.0.0.1 localhost\n10.0.0.30 db.test\n'
# The home NAT router's LAN behind nat (home_router_nat.py's recipe, in small).
_WEB, _NAT_LAN, _NAT_PUBLIC = '192.168.1.50', '192.168.1.1', '203.0.113.1'
_WEB_HOSTS = f'127.0.0.1 localhost\n{_NAT_PUBLIC} www.example.test\n'
_NAT_RULES = f"""
table ip nat {{
    chain prerouting {{
        type nat hook prerouting priority dstnat; policy accept;
        iifname "nat-eth1" tcp dport {_BIND_PORT} dnat to {_WEB}:{_BIND_PORT}
    }}
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        oifname "nat-eth1" ip saddr 192.168.1.0/24 masquerade
    }}
}}
"""
_H2_HOSTNAME, _H3_HOSTNAME = 'app', 'db1'   # h3's is in no hosts file


class NamesTopo(Topo):
    """h1..h3 on one switch s1, at 10.0.0.1..3/24; web behind the NAT router nat
    (s2: its LAN, s3: its public side)."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2, 3):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)
        lan, public = self.addSwitch('s2'), self.addSwitch('s3')
        nat = self.addHost('nat', ip=f'{_NAT_LAN}/24')
        web = self.addHost('web', ip=f'{_WEB}/24', defaultRoute=f'via {_NAT_LAN}')
        self.addLink(nat, lan, intfName1='nat-eth0', params1={'ip': f'{_NAT_LAN}/24'})
        self.addLink(nat, public, intfName1='nat-eth1', params1={'ip': f'{_NAT_PUBLIC}/24'})
        self.addLink(web, lan)


topos = {'names': NamesTopo}


def _ipv6_off():
    """h1 is a container started with IPv6 disabled (lo too: no ::1 at all)."""
    return tuple(sysctl('h1', f'net.ipv6.conf.{dev}.disable_ipv6', 1,
                        why='h1 is a container with IPv6 disabled')
                 for dev in ('all', 'default', 'lo'))


def _nat():
    """nat forwards, port-forwards its public address to web and masquerades the LAN."""
    return (sysctl('nat', 'net.ipv4.ip_forward', 1, why='nat routes between LAN and '
                   'its public side'),
            nft('nat', _NAT_RULES, why=f'port forward {_NAT_PUBLIC}:{_BIND_PORT} to web, '
                f'masquerade the LAN behind {_NAT_PUBLIC}'))


def _cases():
    v6_first = 'localhost-v6-first'
    return (
        bind('h1', 'localhost', _BIND_PORT, Expect(
            '::1 EADDRNOTAVAIL', "h1's hosts file gives localhost only as ::1, and "
            'h1 has no IPv6 at all: the bind to ::1 is Errno 99', v6_first)),
        connect('h1', 'localhost', _PORT, Expect(
            '::1 EADDRNOTAVAIL', 'redis listens on 127.0.0.1, but the client tries '
            'the addresses of localhost: the only one is ::1, which h1 does not have',
            v6_first)),
        bind('h1', '127.0.0.1', _BIND_PORT, explicit(
            'OK', 'the same server given 127.0.0.1 binds: the name was the problem')),
        bind('h2', 'app', _BIND_PORT, Expect(
            '127.0.1.1 OK', "h2's hosts file puts its hostname on 127.0.1.1, which lo "
            'holds (all of 127/8): the bind works, on loopback', 'hosts-file')),
        connect('h2', 'app', _APP_PORT, Expect(
            '127.0.1.1 ECONNREFUSED', 'the app listens on 10.0.0.2; its name leads to '
            '127.0.1.1, where nothing listens', 'hosts-file')),
        connect('h2', 'api.example.test', _PORT, Expect(
            'EAI_AGAIN', "api.example.test is in no hosts file and h2's resolver, h3, "
            'runs no DNS server: the name does not resolve, no connect is made',
            'dns-down')),
        bind('h3', 'db.test', _BIND_PORT, Expect(
            '10.0.0.30 EADDRNOTAVAIL', "h3's hosts file still says db.test is "
            '10.0.0.30, the address h3 had before it moved to 10.0.0.3', 'hosts-file')),
        bind('h3', '10.0.0.3', _BIND_PORT, explicit(
            'OK', "h3's address now: the database binds it")),
        bind('web', 'www.example.test', _BIND_PORT, Expect(
            f'{_NAT_PUBLIC} EADDRNOTAVAIL', "web's hosts file, like the public DNS, says "
            f'www.example.test is {_NAT_PUBLIC}: the NAT router\'s public address, which '
            'NAT translates for web but never gives it', 'hosts-file')),
        bind('web', _WEB, _BIND_PORT, explicit(
            'OK', "web's own address, where the port forward delivers: it binds")),
    ) + _hostname_cases()


def _hostname_cases():
    """A program binding its own hostname (gethostname(), then getaddrinfo())."""
    return (
        connect('h1', '10.0.0.2', _HOSTNAME_PORT, Expect(
            'ECONNREFUSED', "h2's server bound its own hostname, app, which h2's hosts "
            'file puts on 127.0.1.1: it listens on loopback only, and a peer reaching '
            "h2's address finds nothing there", 'hosts-file')),
        bind('h3', _H3_HOSTNAME, _BIND_PORT, Expect(
            'EAI_AGAIN', "h3's hostname, db1, is in no hosts file: the resolver asks "
            'DNS, none is reachable, and no bind is made', 'dns-down')),
    )


scenarios = [
    Scenario(
        name='names',
        title='Errno 99 through a name: localhost on ::1 with IPv6 off, a hostname on '
              '127.0.1.1 or in no hosts file, a stale hosts entry, a NAT\'s public name, '
              'DNS down',
        topo=NamesTopo,
        setup=_ipv6_off() + _nat(),
        servers=(Server('h1', '127.0.0.1', _PORT), Server('h2', '10.0.0.2', _APP_PORT),
                 Server('h2', '127.0.1.1', _HOSTNAME_PORT)),     # `app`, resolved
        host_files=(HostFiles('h1', hosts=_H1_HOSTS),
                    HostFiles('h2', hosts=_H2_HOSTS, resolv_conf=_H2_RESOLV,
                              hostname=_H2_HOSTNAME),
                    HostFiles('h3', hosts=_H3_HOSTS, hostname=_H3_HOSTNAME),
                    HostFiles('web', hosts=_WEB_HOSTS)),
        cases=_cases(),
        order=24,
    ),
]
