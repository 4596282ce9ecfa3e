"""nonlocal-bind: ip_nonlocal_bind and IP_FREEBIND make the seed's bind succeed.

h1..h3 on one switch s1 at 10.0.0.1..3/24 and fd00::1..3/64 (added with nodad).
Fault: h3 sets net.ipv4.ip_nonlocal_bind=1 and net.ipv6.ip_nonlocal_bind=1 (every
socket of its namespace may bind any address).  h2 keeps the defaults and uses the
socket option IP_FREEBIND (option `freebind`) instead.
What the kernel really does:
  - binds: h2 binding 10.0.0.1:6677 (the seed's case) is EADDRNOTAVAIL, with freebind
    it is OK; h3 binds every address, its own, the others' and one nobody holds; with
    freebind every host binds every address;
  - a listener on a foreign address receives nothing: h2 listens on 10.0.0.1:7002 and
    [fd00::1]:7002 with freebind, and every connect to them, h2's own included, goes to
    h1, the address's real owner, where nothing listens: ECONNREFUSED;
  - a foreign address as the SOURCE of a connect: without freebind the source bind()
    is EADDRNOTAVAIL; with it (or on h3) IPv4 refuses at the route lookup (connect()
    is ENETUNREACH, no packet leaves); IPv6 does not check: the SYN leaves with the
    forged source fd00::1, the server answers fd00::1, i.e. h1, which resets the
    connection it never opened, and the client waits: ETIMEDOUT.
Run it with `sudo make mininet-test SCENARIO=nonlocal-bind`.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, addr_add, bind, connect, expect_bind,
                              expect_connect, explicit, sysctl)

_NAMES = ('h1', 'h2', 'h3')
_BIND_PORT = 6677          # the seed's port
_PORT = 7001               # every host serves here, TCP and UDP, IPv4 and IPv6
_FOREIGN_PORT = 7002       # h2 listens on h1's addresses here, with freebind
_NONLOCAL_HOST = 'h3'      # ip_nonlocal_bind=1 (both families)
_SHORT = 'timeout=300'


def _v4(n):
    """10.0.0.n."""
    return f'10.0.0.{n}'


def _v6(n):
    """fd00::n."""
    return f'fd00::{n}'


_OWNERS = {_v4(n): f'h{n}' for n in (1, 2, 3)} | {_v6(n): f'h{n}' for n in (1, 2, 3)}
_BIND_ADDRS = (_v4(1), _v4(2), _v4(3), '10.0.0.99', _v6(1), _v6(2), _v6(3), 'fd00::99')


class NonlocalBindTopo(Topo):
    """h1..h3 on one switch s1, at 10.0.0.1..3/24."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2, 3):
            self.addLink(self.addHost(f'h{n}', ip=f'{_v4(n)}/24'), s1)


topos = {'nonlocalbind': NonlocalBindTopo}


def _setup():
    """Each host gets fd00::n/64 without DAD (DAD is ipv6-dad's subject)."""
    return tuple(addr_add(f'h{n}', f'{_v6(n)}/64', f'h{n}-eth0', nodad=True,
                          why=f'give h{n} an IPv6 address, usable at once')
                 for n in (1, 2, 3))


def _faults():
    """h3 may bind any address, IPv4 and IPv6."""
    return (sysctl(_NONLOCAL_HOST, 'net.ipv4.ip_nonlocal_bind', 1,
                   why='h3 binds IPv4 addresses it does not hold'),
            sysctl(_NONLOCAL_HOST, 'net.ipv6.ip_nonlocal_bind', 1,
                   why='h3 binds IPv6 addresses it does not hold'))


def _servers():
    """A dual-stack TCP and UDP server on every host; h2 on h1's addresses (freebind)."""
    both = ('v6only=0',)
    servers = [Server(h, '::', _PORT, proto, both)
               for h in _NAMES for proto in ('tcp', 'udp')]
    servers += [Server('h2', addr, _FOREIGN_PORT, options=('freebind',))
                for addr in (_v4(1), _v6(1))]
    return tuple(servers)


def _bind_expect(host, addr, options):
    """Owner rule, unless ip_nonlocal_bind (h3) or IP_FREEBIND lifts the check."""
    base = expect_bind(host, addr, _OWNERS)
    if base.outcome == 'OK':
        return base
    if 'freebind' in options:
        holder = _OWNERS.get(addr)
        return explicit('OK', f'IP_FREEBIND: {host} binds {addr} although '
                        + (f'{holder} holds it' if holder else 'no host holds it'))
    if host == _NONLOCAL_HOST:
        return explicit('OK', f'ip_nonlocal_bind=1 on {host}: any address binds, '
                        f'{addr} too')
    return base


def _bind_cases():
    """Every host binds every address, plain and with freebind; UDP for the seed's bind."""
    cases = []
    for options in ((), ('freebind',)):
        for addr in _BIND_ADDRS:
            for h in _NAMES:
                cases.append(bind(h, addr, _BIND_PORT, _bind_expect(h, addr, options),
                                  options=options))
        for h in _NAMES:
            cases.append(bind(h, _v4(1), _BIND_PORT, _bind_expect(h, _v4(1), options),
                              'udp', options))
    return cases


def _foreign_source_cases():
    """Connects whose source is h1's address: refused at bind, at routing, or unanswered."""
    src4, src6 = f'src={_v4(1)}', f'src={_v6(1)}'
    route = ('IPv4 refuses a source address that is not local when it looks up the '
             'route: connect() fails before any packet leaves')
    lost = ('IPv6 sends the SYN with the foreign source fd00::1; the answer goes to '
            'fd00::1\'s owner h1, which resets it, and the client waits in vain')
    return [
        connect('h2', _v4(3), _PORT, expect_connect('h2', _v4(3), _PORT, {}, _v4(1), _OWNERS),
                options=(src4,)),
        connect('h2', _v4(3), _PORT, explicit('ENETUNREACH', f'freebind lets the source '
                                              f'bind(); {route}'), options=(src4, 'freebind')),
        connect('h2', _v4(3), _PORT, explicit('ENETUNREACH', f'UDP too: {route}'), 'udp',
                options=(src4, 'freebind')),
        connect('h3', _v4(2), _PORT, explicit('ENETUNREACH', f'ip_nonlocal_bind lets the '
                                              f'source bind(); {route}'), options=(src4,)),
        connect('h2', _v6(3), _PORT, expect_connect('h2', _v6(3), _PORT, {}, _v6(1), _OWNERS),
                options=(src6,)),
        connect('h2', _v6(3), _PORT, explicit('ETIMEDOUT', lost),
                options=(src6, 'freebind', _SHORT)),
        connect('h2', _v6(3), _PORT, explicit(
            'ETIMEDOUT', 'the datagram leaves with source fd00::1; h3\'s answer goes to h1'),
            'udp', options=(src6, 'freebind', _SHORT)),
        connect('h3', _v6(2), _PORT, explicit('ETIMEDOUT', f'ip_nonlocal_bind on h3: {lost}'),
                options=(src6, _SHORT)),
    ]


def _owner_cases():
    """Traffic follows the address: h2's freebind listeners are never reached."""
    cases = []
    for h in _NAMES:
        for addr in (_v4(1), _v6(1)):
            why = (f'{addr} belongs to h1, where nothing listens on {_FOREIGN_PORT}; '
                   f'h2\'s freebind listener on it receives nothing')
            if h == 'h2':
                why = (f'{addr} is not local to h2 even though h2 listens on it: the '
                       f'connect goes to h1, which refuses')
            cases.append(connect(h, addr, _FOREIGN_PORT, explicit('ECONNREFUSED', why)))
    for h in ('h1', 'h3'):
        cases.append(connect(h, _v4(1), _BIND_PORT, explicit(
            'ECONNREFUSED', 'nothing listens on 10.0.0.1:6677 until a service really '
            'holds the address')))
    for n in (1, 2, 3):
        cases.append(connect('h3', _v4(n), _PORT, explicit(
            'OK', f'ip_nonlocal_bind does not change ordinary connects: h{n} answers',
            peer=f'h{n}')))
    return cases


scenarios = [
    Scenario(
        name='nonlocal-bind',
        title=('ip_nonlocal_bind and IP_FREEBIND: the seed\'s bind succeeds, traffic '
               'does not follow'),
        topo=NonlocalBindTopo,
        setup=_setup(),
        faults=_faults(),
        servers=_servers(),
        cases=tuple(_bind_cases() + _foreign_source_cases() + _owner_cases()),
        switches=('lxbr', 'ovs', 'ovs-user'),   # green on lxbr and ovs-user here
        order=4,
    ),
]
