"""The rules a cell's expectation can name, one registry: the rules of written
scenarios, then those of derived ones (derive.py) and of mutations (mutate.py).

scenario.validate() rejects a rule not here; docs/scenarios.md explains them.
"""

RULES = {
    'explicit': 'written by hand in the scenario, with its own reason',
    'owner-binds': 'only the host holding a unicast address binds it; every other '
                   'host gets EADDRNOTAVAIL (no ip_nonlocal_bind, no IP_FREEBIND)',
    'wildcard-binds': '0.0.0.0 and :: are not an address of any interface: binding '
                      'them succeeds on every host',
    'loopback-binds': 'every network namespace has its own lo with 127.0.0.1 and ::1, '
                      'so binding them succeeds on every host',
    'listener-answers': 'a connect to an address and port where a server listens, on a '
                        'working path, succeeds and is answered by that server\'s host',
    'no-listener-refuses': 'a TCP connect to a reachable host where nothing listens on '
                           'the port is refused (RST): ECONNREFUSED, never EADDRNOTAVAIL',
    'foreign-source': 'a connect whose source address belongs to another host fails in '
                      'its bind() with EADDRNOTAVAIL before any packet is sent',
    'program-starts': 'a server program that chooses its own address is expected to '
                      'start (bind and listen) on every host',
    'program-connects': 'a client program that chooses its own destination is '
                        'expected to connect from every host',
    'localhost-v6-first': 'a name whose first (or only) address is ::1, on a host with '
                          'IPv6 off: the bind or connect to ::1 is EADDRNOTAVAIL (the '
                          'Docker-container Errno 99, by name)',
    'hosts-file': 'a name resolves to what the host\'s own /etc/hosts says: a hostname '
                  'on 127.0.1.1 is loopback; an entry at an address the host does not '
                  'hold (left after the address moved, or a NAT router\'s public '
                  'address) binds EADDRNOTAVAIL, and a connect to it fails as the '
                  'numeric one would (nobody there: EHOSTUNREACH once ARP gives up)',
    'dns-down': 'a name in no hosts file, with no DNS server answering: getaddrinfo '
                'fails (EAI_AGAIN) and no socket call is made',
    'dns-record': 'a name resolves to what the network\'s DNS server answers: binding '
                  'a name another host\'s address answers for is EADDRNOTAVAIL; a name '
                  'the server has no record of is EAI_NONAME (NXDOMAIN)',
    # derived scenarios (derive.py) and mutations (mutate.py)

    'control': 'no documented rule predicts this cell on this topology (another '
               'subnet, a path through a router): its expectation is what netprobe '
               'measured on the same network in the same run',
    'observed': 'under a mutation, no rule predicts this cell: it is reported as '
                'observed, with `changed` against the unmutated network',
    'nonlocal-bind': 'net.ipv4.ip_nonlocal_bind=1: binding an IPv4 address no '
                     'interface holds succeeds (and receives nothing)',
    'ipv6-off': 'with IPv6 disabled a namespace holds no IPv6 address, ::1 included: '
                'binding or connecting to one is EADDRNOTAVAIL; :: still binds',
    'tentative-binds': 'an IPv6 address still in DAD (tentative), or whose DAD failed, '
                       'cannot be bound: EADDRNOTAVAIL',
    'port-taken': 'a listener on [::]:PORT with v6only=0 holds the port on every '
                  'address of the host: a bind that could succeed is EADDRINUSE',
    'no-route': 'a connect to an address no route of the host leads to fails at once: '
                'ENETUNREACH',
    'fw-drop': 'nft drops the server port on the destination: no answer, the connect '
               'runs into its timeout: ETIMEDOUT',
    'fw-reject': 'nft rejects the server port on the destination (TCP reset, ICMP port '
                 'unreachable): ECONNREFUSED',
    'ports-exhausted': 'every ephemeral port of the host is held: a TCP connect gets '
                       'no source port (EADDRNOTAVAIL), a UDP connect EAGAIN',
    'udp-reply-source': 'a UDP server bound to the wildcard answers from the primary '
                        'address of its subnet; a client connected to a secondary '
                        'address drops that answer: ETIMEDOUT',
    # the calls besides bind and connect (udpcalls.py)
    'join-if-owner': 'a multicast join (IP_ADD_MEMBERSHIP) on an interface named by '
                     'an address succeeds only on the host holding that address; '
                     'elsewhere ENODEV (BSD and macOS: EADDRNOTAVAIL), as for an '
                     'unknown interface index or name',
    'mcast-if-owner': 'IP_MULTICAST_IF with an address succeeds only on the host '
                      'holding it; elsewhere EADDRNOTAVAIL (IPV6_MULTICAST_IF with an '
                      'unknown index: ENODEV)',
    'send-source-owner': 'a UDP send from a source the host holds succeeds; an '
                         'IP_PKTINFO source it does not hold (never, or removed since) '
                         'is ENETUNREACH, an IPV6_PKTINFO one EINVAL',
}
