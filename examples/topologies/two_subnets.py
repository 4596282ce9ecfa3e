"""Two subnets joined by a Linux router, the way Mininet's examples/linuxrouter.py
builds one: a Node class that turns IPv4 forwarding on, hosts with a default route.

    sudo mn --custom examples/topologies/two_subnets.py --topo twosubnets \
        --switch lxbr --controller none
    sudo /usr/bin/python3 -m harness run \
        --custom examples/topologies/two_subnets.py --topo twosubnets

h1, h2 (10.0.1.11-12/24) on s1; h3, h4 (10.0.2.13-14/24) on s2; r1 routes between
them (10.0.1.1 and 10.0.2.1).  Nothing here is bindlab's: any mn topology file works.
"""

from mininet.node import Node
from mininet.topo import Topo


class LinuxRouter(Node):
    """A node with IPv4 forwarding on."""

    def config(self, **params):
        super().config(**params)
        self.cmd('sysctl -q -w net.ipv4.ip_forward=1')


class TwoSubnets(Topo):
    """h1, h2 -- s1 -- r1 -- s2 -- h3, h4."""

    def build(self):
        router = self.addNode('r1', cls=LinuxRouter, ip='10.0.1.1/24')
        left, right = self.addSwitch('s1'), self.addSwitch('s2')
        self.addLink(left, router, intfName2='r1-eth1', params2={'ip': '10.0.1.1/24'})
        self.addLink(right, router, intfName2='r1-eth2', params2={'ip': '10.0.2.1/24'})
        for n, (switch, net) in enumerate(((left, 1), (left, 1), (right, 2),
                                           (right, 2)), 1):
            host = self.addHost(f'h{n}', ip=f'10.0.{net}.1{n}/24',
                                defaultRoute=f'via 10.0.{net}.1')
            self.addLink(host, switch)


topos = {'twosubnets': TwoSubnets}
