"""The catalogue's name mutations (mutate.py lists them): Errno 99 reached through a
name, the target given resolver files of its own (a hostfiles.HostFiles among what the
mutation gives the target besides its steps, which the runner mounts in the target
alone as a scenario's) and its own name cases (World.udp_cases), each predicted by a
rule of the rule table:

    localhost-v6  IPv6 off on the target (as ipv6-off) and a hosts file that knows
                  `localhost` only as ::1 (a Docker image's line, its IPv4 line gone):
                  bind and connect by `localhost`  ::1 EADDRNOTAVAIL
                  (localhost-v6-first)
    hosts-stale   the target's hosts file maps the service name STALE_NAME to an
                  address of its subnet that nobody holds (the peer's old address,
                  before it moved): connect by the name  ADDR EHOSTUNREACH, as the
                  numeric connect beside it (ARP gives up after one probe of 100 ms,
                  not three of 1 s, so a program with its own timeout sees the same);
                  bind by it  ADDR EADDRNOTAVAIL (hosts-file)
    name-public   the target's hosts file maps PUBLIC_NAME to an address of
                  203.0.113.0/24 (TEST-NET-3, documentation) that no host holds: a
                  NAT router's public address as the service's public name gives it;
                  bind by the name  ADDR EADDRNOTAVAIL (hosts-file); with IP_FREEBIND
                  ADDR OK.  No connect: nothing is sent towards that address.
    dns-down      the target's resolv.conf names 127.0.0.53 (systemd-resolved's stub,
                  copied into a namespace where it does not run; lo answers ICMP port
                  unreachable at once) with timeout:1 attempts:1: bind and connect by
                  DOWN_NAME, a name in no hosts file  EAI_AGAIN, no socket call
                  (dns-down)

`{name}` of a --server/--client program, in a derived scenario, is the name of these
cases: a name mutation's run gives a `{name}` program its target's name cases (a
server template their plain binds, a client template their connects); the unmutated
network has no name case, so a `{name}` program has no cell there, and each added
cell is `changed` (no control).

The target resolves by `files dns` whatever the machine's nsswitch.conf says (a
pinned copy mounted beside its files, net/hostfiles.py): else Ubuntu's myhostname
or systemd-resolved's `resolve` would answer instead of the target's own files.
The mounts are undone like any other change (net/undo.py reads and restores each
touched host's mounts), so the mutations share a network.
"""

import ipaddress
import os

from .builders import bind, connect, explicit, sysctl
from .derive import BIND_PORT, CONNECT_TIMEOUT, NotApplicable, SERVE_PORT, unheld
from .hostfiles import HostFiles, nsswitch_unpinnable
from .mutate_world import free_address, own_ipv4
from .model import Expect

STALE_NAME = 'db.bindlab.test'
PUBLIC_NAME = 'www.bindlab.test'
DOWN_NAME = 'api.bindlab.test'
PUBLIC_NET = ipaddress.ip_network('203.0.113.0/24')    # TEST-NET-3, never routed
LOOPBACK_HOSTS = '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n'
V6_ONLY_HOSTS = '::1 localhost ip6-localhost ip6-loopback\n'
DOWN_RESOLV = 'nameserver 127.0.0.53\noptions timeout:1 attempts:1\n'
ARP_GIVE_UP_MS = 100    # hosts-stale: well inside the connects' 300 ms


def _machine_has(path):
    """NotApplicable unless this machine has path to mount the target's own over,
    and can make the target resolve by `files dns` whatever its own nsswitch.conf
    says (hostfiles.nsswitch_unpinnable: each mutation gives a hosts file or a
    resolv.conf, which net/hostfiles.py pins)."""
    if not os.path.isfile(path):
        raise NotApplicable(f'this machine has no {path} to mount the target\'s own over')
    why = nsswitch_unpinnable()
    if why is not None:
        raise NotApplicable(why)


def localhost_v6(world, t, ipv6_off):
    """ipv6_off: mutate.ipv6_off (its World changes and step), unless IPv6 is off
    on t already."""
    _machine_has('/etc/hosts')
    steps = []
    if world.v6.get(t) and t not in world.v6_off:
        steps, _ = ipv6_off(world, t)
    else:
        world.v6_off.add(t)
    files = [HostFiles(t, hosts=V6_ONLY_HOSTS)]
    rule = 'localhost-v6-first'
    world.udp_cases += [
        bind(t, 'localhost', BIND_PORT, Expect(
            '::1 EADDRNOTAVAIL', f"{t}'s hosts file gives localhost only as ::1, and {t} "
            'has IPv6 off: the bind to ::1 is Errno 99', rule)),
        connect(t, 'localhost', SERVE_PORT, Expect(
            '::1 EADDRNOTAVAIL', f'a server listens on {t}, but localhost leads only to '
            f'::1, which {t} does not hold (IPv6 off)', rule))]
    return steps, files


def hosts_stale(world, t):
    _machine_has('/etc/hosts')
    own = own_ipv4(world, t)
    old = free_address(world, own)
    files = [HostFiles(t, hosts=LOOPBACK_HOSTS + f'{old} {STALE_NAME}\n')]
    steps = [sysctl(t, f'net.ipv4.neigh.{own.intf}.{key}', value,
                    why=f'{t} gives up on an unanswered ARP after {ARP_GIVE_UP_MS} ms (1 '
                        'probe), not 3 s: any program sees it before its own timeout')
             for key, value in (('mcast_solicit', 1), ('retrans_time_ms', ARP_GIVE_UP_MS))]
    silent = f'nobody holds {old} any more: no ARP answer, and {t} gives up: no route ' \
             'to host'
    world.udp_cases += [
        connect(t, STALE_NAME, SERVE_PORT, Expect(
            f'{old} EHOSTUNREACH', f"{t}'s hosts file still says {STALE_NAME} is {old}, "
            f'the service\'s address before it moved: {silent}', 'hosts-file'),
            options=(CONNECT_TIMEOUT,)),
        connect(t, old, SERVE_PORT, explicit('EHOSTUNREACH', f'the same connect by '
                                             f'number: {silent}'), options=(CONNECT_TIMEOUT,)),
        bind(t, STALE_NAME, BIND_PORT, Expect(
            f'{old} EADDRNOTAVAIL', f'{STALE_NAME} leads {t} to {old}, which no interface '
            f'of {t} holds', 'hosts-file'))]
    return steps, files


def name_public(world, t):
    _machine_has('/etc/hosts')
    public = unheld(PUBLIC_NET, set(world.owners()))
    if public is None:
        raise NotApplicable(f'every address of {PUBLIC_NET} is held')
    files = [HostFiles(t, hosts=LOOPBACK_HOSTS + f'{public} {PUBLIC_NAME}\n')]
    world.udp_cases += [
        bind(t, PUBLIC_NAME, BIND_PORT, Expect(
            f'{public} EADDRNOTAVAIL', f'{PUBLIC_NAME} is the service\'s public name: it '
            f'leads {t} to {public}, a NAT router\'s public address, which NAT translates '
            f'for {t} but never gives it', 'hosts-file')),
        bind(t, PUBLIC_NAME, BIND_PORT, explicit(
            f'{public} OK', 'IP_FREEBIND binds an address no interface holds (and DNAT '
            f'would still deliver to {t}\'s own address, not to it)'), options=('freebind',))]
    return [], files


def dns_down(world, t):
    _machine_has('/etc/resolv.conf')
    files = [HostFiles(t, resolv_conf=DOWN_RESOLV)]
    why = f'{DOWN_NAME} is in no hosts file and {t}\'s nameserver, 127.0.0.53, is a ' \
          'stub resolver that does not run there (port unreachable): getaddrinfo fails, ' \
          'no socket call is made'
    world.udp_cases += [
        connect(t, DOWN_NAME, SERVE_PORT, Expect('EAI_AGAIN', why, 'dns-down'),
                options=(CONNECT_TIMEOUT,)),
        bind(t, DOWN_NAME, BIND_PORT, Expect('EAI_AGAIN', why, 'dns-down'))]
    return [], files
