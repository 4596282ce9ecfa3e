"""The catalogue's timed mutations (mutate.py lists them): a fault that happens while
the probes and programs run, fired by the scenario's timeline (Step.at, net/timeline.py).

    addr-late     the target's first IPv4 address is removed before anything runs and
                  comes back LATE_S seconds into the probe phase (DHCP, keepalived or a
                  slow network-online at boot; the service was started before it).
    vip-failover  a service address (VIP: the free address of the target's first IPv4
                  subnet, as mutate_udp's service address) is on the target at t=0 and
                  moves to a peer on its segment and subnet at LATE_S (keepalived, a
                  VRRP pair): deleted on the target, added on the peer, every host's
                  neighbour cache flushed as a gratuitous ARP would update it.
    link-flap     the target keeps its IPv6 addresses across a link down
                  (keep_addr_on_down=1), its link is down at t=0 and comes back at
                  LATE_S: its kept IPv6 address (a ULA, mutate_world.new_ula, with
                  DAD done) is tentative again until DAD, re-run after the link came
                  up, is over (one probe, FLAP_DAD_S).
    dad-slow      the target's IPv6 address is added at t=0 with a DAD that lasts
                  DAD_S (DAD_TRANSMITS probes DAD_RETRANS_MS apart, started at once):
                  tentative until then.
    renumber      the target's first IPv4 address is replaced at LATE_S by the free
                  address of its subnet (a new DHCP lease): the old one deleted, the
                  new one added.

What the target's own programs meet is a race in time: a plain bind of the address
at t=0 fails (or works) until the step, peers' connects to it find nobody, its own
connects no route.  No rule says when a derived cell ran, so those cells are rule
`observed` (World.in_time for its binds, World.unpredictable for the connects); each
mutation adds its own cells in time, whatever the topology: a bind that retries
(retry=, every 100 ms), OK once the address is usable, within a bound the steps set;
an IP_FREEBIND one, OK at once; and where the outcome is known on each side of the
step, a call made before it (delay=1: its record says when it ran, `within` the
step's second) or after it (delay=: half a second past the step).  A --server program
started at t=0 that binds the address and exits on the error meets Errno 99; one that
retries survives.

Each leaves the network as the undo (net/undo.py) can prove it: addresses, links and
the sysctls it sets (keep_addr_on_down, dad_transmits, retrans_time_ms,
router_solicitation_delay, accept_dad: undo.py's _INTF_GLOBS) are compared and put
back, so a shared network's undo proof holds after each.
"""

from .builders import at, bind, connect, explicit, run, sysctl
from .derive import Addr, BIND_PORT, NotApplicable, SERVE_PORT
from .mutate_world import first_intf, free_address, new_ula, own_ipv4

LATE_S = 1.5            # the address arrives (moves, the link comes back) this late
RETRY_S = LATE_S + 1.5  # the patient service's budget
TIMED_PORT = BIND_PORT + 1
AFTER_MS = int((LATE_S + 0.5) * 1000)  # a call made half a second after the step
CONNECT = ('timeout=300',)
# dad-slow: 3 probes 500 ms apart, so the address is tentative 1.5 s from t=0; a
# loaded machine only makes DAD end later (its timer), never sooner.
DAD_TRANSMITS, DAD_RETRANS_MS = 3, 500
DAD_S = DAD_TRANSMITS * DAD_RETRANS_MS / 1000
# link-flap: one probe, the kernel's default 1 s, after the link comes up
FLAP_DAD_S = 1.0


def _late_address(world, t):
    """The Addr addr-late removes: t's first IPv4 address, alone in its subnet on its
    interface (a primary would take its secondaries with it, and they would not come
    back); NotApplicable otherwise."""
    a = own_ipv4(world, t)
    if any(x is not a and not x.v6 and x.network == a.network and x.intf == a.intf
           for x in world.addrs[t]):
        raise NotApplicable(f'{a.addr} has secondaries on {a.intf}: they would not come back')
    return a


def _retrying(host, addr, budget, why):
    """A bind of addr that retries every 100 ms for budget seconds: OK within it."""
    return bind(host, addr, TIMED_PORT, explicit('OK', why, within=budget),
                options=(f'retry={budget:g}', 'every=100'))


def _freebind(host, addr, why):
    return bind(host, addr, TIMED_PORT, explicit(
        'OK', f'IP_FREEBIND (systemd FreeBind=): {why}'), options=('freebind',))


def addr_late(world, t):
    a = _late_address(world, t)
    cidr = f'{a.addr}/{a.prefixlen}'
    steps = [run(t, ['ip', 'addr', 'del', cidr, 'dev', a.intf],
                 why=f'{t} has not got {a.addr} yet (boot: DHCP, keepalived, network-online)'),
             at(LATE_S, run(t, ['ip', 'addr', 'add', cidr, 'dev', a.intf],
                            why=f'{a.addr} arrives on {t} while its services run'))]
    world.addrs[t] = [x for x in world.addrs[t] if x.addr != a.addr]
    world.in_time.add((t, a.addr))
    world.unpredictable.update({('*', a.addr), (t, '*4')})
    world.udp_cases += [
        bind(t, a.addr, TIMED_PORT, explicit(
            'OK', f'retries every 100 ms until {a.addr} arrives at t={LATE_S:g} s',
            within=RETRY_S), options=(f'retry={RETRY_S:g}', 'every=100')),
        bind(t, a.addr, TIMED_PORT, explicit(
            'OK', 'IP_FREEBIND (systemd FreeBind=): binds an address not there yet'),
            options=('freebind',))]
    return steps, []


# -- vip-failover -------------------------------------------------------------------------------

def _failover_pair(world, t):
    """(own IPv4 Addr of t, the VIP, (peer, its Addr in that subnet on t's segment)):
    the peer holds an address of the subnet on the same layer-2 segment, as a VRRP
    backup does; NotApplicable otherwise."""
    own = own_ipv4(world, t)
    vip = free_address(world, own, ' for a VIP')
    seg = world.segment.get((t, own.intf))
    peers = [(h, a) for h in world.hosts if h != t for a in world.addrs[h]
             if not a.v6 and a.network == own.network and
             world.segment.get((h, a.intf)) == seg]
    if not peers:
        raise NotApplicable(f'no other host holds an address of {own.network} on '
                            f'{t}\'s segment (no peer to fail over to)')
    return own, vip, peers[0]


def vip_failover(world, t):
    own, vip, (peer, pa) = _failover_pair(world, t)
    plen = own.prefixlen
    flush = [at(LATE_S + 0.1, run(h, ['ip', 'neigh', 'flush', 'all'],
                                  why=f'{h} forgets {t}\'s MAC for {vip} (a gratuitous '
                                      'ARP from the new owner updates it)'))
             for h in world.hosts]
    steps = [run(t, ['ip', 'addr', 'add', f'{vip}/{plen}', 'dev', own.intf],
                 why=f'{t} holds the service address {vip} (keepalived MASTER)'),
             at(LATE_S, run(t, ['ip', 'addr', 'del', f'{vip}/{plen}', 'dev', own.intf],
                            why=f'{vip} leaves {t} (its keepalived stops: failover)')),
             at(LATE_S, run(peer, ['ip', 'addr', 'add', f'{vip}/{plen}', 'dev', pa.intf],
                            why=f'{peer} takes {vip} over (keepalived BACKUP -> MASTER)'))
             ] + flush
    # the VIP is the subnet's free column of the bind matrix; after the step it is the
    # peer's: that is the world's (a third host's binds of it fail all along)
    world.addrs[peer].append(Addr(vip, plen, pa.intf))
    world.in_time.update({(t, vip), (peer, vip)})
    world.unpredictable.add(('*', vip))
    thirds = [h for h in world.hosts if h not in (t, peer) and any(
        not a.v6 and a.network == own.network and
        world.segment.get((h, a.intf)) == world.segment.get((t, own.intf))
        for a in world.addrs[h])]
    client = thirds[0] if thirds else t      # no retrying bind: its connects run at t=0
    world.udp_cases += [
        _retrying(peer, vip, RETRY_S, f'retries every 100 ms until {vip} fails over to '
                                      f'{peer} at t={LATE_S:g} s'),
        _freebind(peer, vip, f'{peer} binds {vip} before it holds it'),
        connect(client, vip, SERVE_PORT, explicit(
            'OK', f'{t} holds {vip} until t={LATE_S:g} s: it answers', peer=t,
            within=LATE_S), options=('delay=1',) + CONNECT),
        connect(client, vip, SERVE_PORT, explicit(
            'OK', f'{peer} holds {vip} after the failover: it answers', peer=peer,
            within=AFTER_MS / 1000 + 2),
            options=(f'delay={AFTER_MS}', 'retry=2', 'every=100') + CONNECT)]
    return steps, []


# -- IPv6 in time --------------------------------------------------------------------------------

def _v6_intf(world, t):
    """The interface of t's first address (else its first link), IPv6 on on t."""
    if not world.v6.get(t) or t in world.v6_off:
        raise NotApplicable(f'IPv6 is disabled on {t}')
    return first_intf(world, t)


def _dad_sysctls(t, intf, transmits, retrans_ms, why):
    return [sysctl(t, f'net.ipv6.conf.{intf}.accept_dad', 1, why='DAD runs on ' + intf),
            sysctl(t, f'net.ipv6.conf.{intf}.dad_transmits', transmits, why=why),
            sysctl(t, f'net.ipv6.neigh.{intf}.retrans_time_ms', retrans_ms, why=why),
            sysctl(t, f'net.ipv6.conf.{intf}.router_solicitation_delay', 0,
                   why='DAD starts at once (no random delay of up to 1 s)')]


def _racing_v6(world, t, intf):
    """t's IPv6 addresses on intf and its IPv6 connects race the step: observed."""
    for a in world.addrs[t]:
        if a.v6 and a.intf == intf:
            world.in_time.add((t, a.addr))
            world.unpredictable.add(('*', a.addr))
    world.unpredictable.add((t, '*6'))


def link_flap(world, t):
    intf = _v6_intf(world, t)
    a = new_ula(world, t, intf)
    steps = [sysctl(t, f'net.ipv6.conf.{intf}.dad_transmits', 0,
                    why='the address below is usable at once (its DAD long done)'),
             run(t, ['ip', 'addr', 'add', f'{a.addr}/64', 'dev', intf],
                 why=f'{t} holds {a.addr} (with DAD, not nodad: DAD runs again after '
                     'a flap)')]
    steps += _dad_sysctls(t, intf, 1, int(FLAP_DAD_S * 1000),
                          f'DAD after the flap: one probe, {FLAP_DAD_S:g} s')
    steps += [sysctl(t, f'net.ipv6.conf.{intf}.keep_addr_on_down', 1,
                     why=f'{t} keeps its IPv6 addresses while the link is down '
                         '(NetworkManager, systemd-networkd)'),
              run(t, ['ip', 'link', 'set', 'dev', intf, 'down'],
                  why=f'{t}\'s link goes down (cable, switch port, VM NIC): its kept '
                      'IPv6 addresses are tentative again'),
              at(LATE_S, run(t, ['ip', 'link', 'set', 'dev', intf, 'up'],
                             why=f'the link comes back: {a.addr} runs DAD again'))]
    _racing_v6(world, t, intf)
    for x in world.addrs[t]:      # peers reach it only once the link is back
        if x.intf == intf:
            world.unpredictable.add(('*', x.addr))
    world.unpredictable.add((t, '*4'))
    ready = LATE_S + FLAP_DAD_S
    world.udp_cases += [
        _retrying(t, a.addr, ready + 2.5, f'retries every 100 ms until {a.addr}\'s DAD '
                                          f'after the link came back (t={LATE_S:g} s) '
                                          'is over'),
        _freebind(t, a.addr, 'binds a tentative address at once')]
    return steps, []


def dad_slow(world, t):
    intf = _v6_intf(world, t)
    held = [x for x in world.addrs[t] if x.v6 and x.intf == intf]
    steps = _dad_sysctls(t, intf, DAD_TRANSMITS, DAD_RETRANS_MS,
                         f'DAD of {DAD_TRANSMITS} probes {DAD_RETRANS_MS} ms apart: '
                         f'{DAD_S:g} s')
    if held:
        a = held[0]
        steps.append(run(t, ['ip', 'addr', 'del', f'{a.addr}/{a.prefixlen}', 'dev', intf],
                         why=f'{t} has not got {a.addr} yet (it comes with the link)'))
    else:
        a = new_ula(world, t, intf)
    steps.append(at(0, run(t, ['ip', 'addr', 'add', f'{a.addr}/{a.prefixlen}', 'dev', intf],
                           why=f'{a.addr} is added as the probes start: tentative for '
                               f'{DAD_S:g} s (DAD)')))
    _racing_v6(world, t, intf)
    world.udp_cases += [
        _retrying(t, a.addr, DAD_S + 2.5, f'retries every 100 ms until {a.addr}\'s DAD '
                                          f'is over ({DAD_S:g} s after t=0)'),
        _freebind(t, a.addr, 'binds a tentative address at once')]
    return steps, []


# -- renumber -------------------------------------------------------------------------------------

def renumber(world, t):
    old = _late_address(world, t)
    new = free_address(world, old, ' to renumber to')
    steps = [at(LATE_S, run(t, ['ip', 'addr', 'del', f'{old.addr}/{old.prefixlen}',
                                'dev', old.intf],
                            why=f'{t}\'s lease of {old.addr} ends')),
             at(LATE_S, run(t, ['ip', 'addr', 'add', f'{new}/{old.prefixlen}', 'dev',
                                old.intf], why=f'{t} gets the new lease {new}'))]
    # the new address is the subnet's free column of the bind matrix
    world.addrs[t] = [x for x in world.addrs[t] if x.addr != old.addr] + \
        [Addr(new, old.prefixlen, old.intf)]
    world.in_time.update({(t, old.addr), (t, new)})
    world.unpredictable.update({('*', old.addr), ('*', new), (t, '*4')})
    world.udp_cases += [
        _retrying(t, new, RETRY_S, f'retries every 100 ms until the new lease {new} '
                                   f'comes at t={LATE_S:g} s'),
        _freebind(t, new, f'binds {new} before the lease gives it'),
        bind(t, old.addr, TIMED_PORT, explicit(
            'EADDRNOTAVAIL', f'{old.addr} is gone after t={LATE_S:g} s (the old lease)'),
            options=(f'delay={AFTER_MS}',))]
    return steps, []
