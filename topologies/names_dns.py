"""names-dns: a DNS server in the network (dnsmasq on h3), its records from the scenario.

h1..h3 sit on one switch at 10.0.0.1..3/24; h3 runs a DNS server at 10.0.0.3 that
knows api.example.test as 10.0.0.2 (where h2's app listens) and nothing else of
example.test; h1's and h2's resolv.conf name it.  h1 reaches the app by name; h2 binds
the name (its own address); h1 binding the same name gets EADDRNOTAVAIL (DNS gives
it another host's address); a name of example.test without a record is EAI_NONAME
(NXDOMAIN); a name elsewhere, which this server does not forward, is EAI_AGAIN.
Not in the default suite: it needs dnsmasq (scripts/install-debs dnsmasq-base).
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import DnsServer, Expect, HostFiles, Scenario, Server, bind, connect

_APP_PORT = 7001
_BIND_PORT = 6380
_RESOLV = 'nameserver 10.0.0.3\noptions timeout:1 attempts:1\n'
_HOSTS = '127.0.0.1 localhost\n'


class NamesDnsTopo(Topo):
    """h1..h3 on one switch s1, at 10.0.0.1..3/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2, 3):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)


topos = {'namesdns': NamesDnsTopo}


def _cases():
    rule = 'dns-record'
    return (
        connect('h1', 'api.example.test', _APP_PORT, Expect(
            '10.0.0.2 OK', 'the DNS server answers api.example.test with 10.0.0.2, '
            "where h2's app listens", rule)),
        bind('h2', 'api.example.test', _BIND_PORT, Expect(
            '10.0.0.2 OK', "the name's address is h2's own", rule)),
        bind('h1', 'api.example.test', _BIND_PORT, Expect(
            '10.0.0.2 EADDRNOTAVAIL', "DNS gives the name h2's address, which h1 does "
            'not hold', rule)),
        connect('h1', 'nosuch.example.test', _APP_PORT, Expect(
            'EAI_NONAME', 'example.test is the server\'s own domain and has no such '
            'record: NXDOMAIN', rule)),
        connect('h1', 'api.other.test', _APP_PORT, Expect(
            'EAI_AGAIN', 'the server forwards nothing: a name outside its domain is '
            'refused, and no other server is asked', 'dns-down')),
    )


scenarios = [
    Scenario(
        name='names-dns',
        title='a DNS server in the network: names answered, unknown, refused',
        topo=NamesDnsTopo,
        servers=(Server('h2', '10.0.0.2', _APP_PORT),),
        host_files=tuple(HostFiles(h, hosts=_HOSTS, resolv_conf=_RESOLV) for h in ('h1', 'h2')),
        dns_servers=(DnsServer('h3', '10.0.0.3', records=(('api.example.test', '10.0.0.2'),),
                               local=('example.test',)),),
        cases=_cases(),
        default=False,
        order=24,
    ),
]
