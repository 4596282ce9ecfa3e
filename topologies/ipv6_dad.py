"""ipv6-dad: binding an IPv6 address that is still tentative (DAD running) or dadfailed.

h1..h3 on one switch s1 at 10.0.0.1..3/24 (IPv4 only carries the readiness check).
Setup: h1 gets fd00::1/64 with `nodad`; each host's link-local address is re-added
with `nodad` (the kernel's own would run DAD for up to 2 s).  Faults, in this order:
  - h2's DAD is made slow and deterministic (net.ipv6.conf.h2-eth0.dad_transmits=20,
    net.ipv6.neigh.h2-eth0.retrans_time_ms=1000: about 20 s), then h2 gets fd00::2/64:
    it stays *tentative* for the whole probe phase;
  - h2 also gets fd00::22/64 with `nodad`: usable at once, beside the tentative one;
  - h3 gets fd00::3/64 with normal DAD (OK after DAD) and, at the same time (each
    address has its own DAD: one wait instead of two), fd00::1/64, the address h1
    holds: h1 answers h3's DAD probe, so that address ends `dadfailed` on h3 and stays
    unusable; the run waits until both DADs are over.
Expected, as the kernel answers: a bind on the tentative or the dadfailed address is
EADDRNOTAVAIL (exactly like an address that is not there), IP_FREEBIND binds either;
a link-local address without a scope id is EINVAL, with %hN-eth0 it binds.  Connects:
nobody reaches a tentative address (the owner does not answer neighbour solicitations
for it: ETIMEDOUT), a tentative or dadfailed address cannot be a source (EADDRNOTAVAIL
in bind), and the duplicate cuts h3 off from fd00::1: h3 takes every neighbour
advertisement for fd00::1 as one more DAD conflict and drops it, so its connect to h1's
fd00::1 waits (ETIMEDOUT); h3's answers to anybody using fd00::1 as source are stuck
the same way, which is why no case here has h1 talk to h3 (whether that works depends
on who sends a neighbour solicitation first, a race, not a matrix cell).
Run it with `sudo make mininet-test SCENARIO=ipv6-dad`.
"""

import os
import sys

from mininet.topo import Topo

# `mn --custom` execs this file without __file__ and without the repo on sys.path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.scenario import (Scenario, Server, addr_add, bind, connect, expect_bind,
                              explicit, run, sysctl, wait_dad)

_NAMES = ('h1', 'h2', 'h3')
_BIND_PORT = 6677
_PORT = 7001               # every host serves here on [::]
_SLOW_DAD_PROBES = 20      # x 1000 ms: fd00::2 stays tentative ~20 s, the probes take ~3 s
_TENTATIVE = 'fd00::2'     # h2, DAD still running
_NODAD = 'fd00::22'        # h2, added with nodad
_AFTER_DAD = 'fd00::3'     # h3, DAD completed before the probes
_DUPLICATE = 'fd00::1'     # h1 holds it (nodad); h3 adds it too -> dadfailed on h3
# Usable addresses and their holders after the faults (tentative/dadfailed ones are not).
_OWNERS = {_DUPLICATE: 'h1', _NODAD: 'h2', _AFTER_DAD: 'h3'}


def _mac(n):
    """00:00:00:00:00:0n: fixed, so the link-local address is known in advance."""
    return f'00:00:00:00:00:{n:02x}'


def _link_local(n):
    """The EUI-64 link-local address of hN (from its fixed MAC)."""
    return f'fe80::200:ff:fe00:{n:x}'


class Ipv6DadTopo(Topo):
    """h1..h3 on one switch s1, at 10.0.0.1..3/24 with MACs 00:..:0n."""

    def build(self):
        s1 = self.addSwitch('s1')
        for n in (1, 2, 3):
            self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24', mac=_mac(n)), s1)


topos = {'ipv6dad': Ipv6DadTopo}


def _setup():
    """h1 holds fd00::1 without DAD; every link-local address is usable at once.

    The kernel's link-local address starts its DAD when the link comes up, after a
    random delay of up to a second: a fast readiness check can end before it, and
    h2's would then still be running (or only begin, with 20 probes) when the
    slow-DAD fault is applied.  Waiting for it cost each run up to 2 s; instead each
    host's link-local address is put back at once without DAD (the same address, from
    the fixed MAC: the link-local cells are unchanged), so no DAD but the faults' own
    runs on the hosts.
    """
    steps = [addr_add('h1', f'{_DUPLICATE}/64', 'h1-eth0', nodad=True,
                      why='h1 holds fd00::1, usable at once')]
    for n, h in enumerate(_NAMES, 1):
        steps += [run(h, ['ip', '-6', 'addr', 'flush', 'dev', f'{h}-eth0', 'scope', 'link'],
                      why=f'{h}\'s link-local address, its DAD maybe still running, goes'),
                  addr_add(h, f'{_link_local(n)}/64', f'{h}-eth0', nodad=True,
                           why='... and comes back without DAD: usable at once')]
    return tuple(steps) + tuple(
        wait_dad(h, f'{h}-eth0', why=f'no address of {h} is tentative') for h in _NAMES)


def _faults():
    """Slow DAD on h2, a tentative and a nodad address there; h3: DAD done, then a duplicate."""
    return (
        sysctl('h2', 'net.ipv6.conf.h2-eth0.dad_transmits', _SLOW_DAD_PROBES,
               why='DAD on h2 sends 20 probes before an address is usable'),
        sysctl('h2', 'net.ipv6.neigh.h2-eth0.retrans_time_ms', 1000,
               why='one second between DAD probes: DAD on h2 lasts ~20 s'),
        addr_add('h2', f'{_TENTATIVE}/64', 'h2-eth0',
                 why='fd00::2 stays tentative while the probes run'),
        addr_add('h2', f'{_NODAD}/64', 'h2-eth0', nodad=True,
                 why='fd00::22 skips DAD: usable at once'),
        sysctl('h3', 'net.ipv6.conf.h3-eth0.router_solicitation_delay', 0,
               why='DAD on h3 starts at once, not after a random delay of up to 1 s: '
                   'the wait below is one probe interval'),
        addr_add('h3', f'{_AFTER_DAD}/64', 'h3-eth0',
                 why='fd00::3 with normal DAD (one probe, ~1 s)'),
        addr_add('h3', f'{_DUPLICATE}/64', 'h3-eth0',
                 why='fd00::1 is h1\'s: h1 answers the DAD probe (both DADs at once: '
                     'each address has its own)'),
        run('h3', ['ip', '-6', 'addr', 'show', 'dev', 'h3-eth0', 'tentative', '-dadfailed'],
            why='wait until DAD is over on h3: fd00::3 usable, fd00::1 dadfailed',
            until='empty-stdout'),
    )


def _own_bind_expect(host, addr):
    """The outcome for host binding addr, with the DAD states spelled out."""
    if (host, addr) == ('h2', _TENTATIVE):
        return explicit('EADDRNOTAVAIL', 'fd00::2 is tentative on h2 (DAD still running): '
                        'not usable, bind refuses it like an absent address')
    if (host, addr) == ('h3', _DUPLICATE):
        return explicit('EADDRNOTAVAIL', 'fd00::1 is dadfailed on h3 (h1 answered its DAD '
                        'probe): never usable')
    if (host, addr) == ('h1', _DUPLICATE):
        return explicit('OK', 'h1 added fd00::1 with nodad: usable at once')
    if (host, addr) == ('h2', _NODAD):
        return explicit('OK', 'fd00::22 was added with nodad: usable at once, beside the '
                        'tentative fd00::2')
    if (host, addr) == ('h3', _AFTER_DAD):
        return explicit('OK', 'DAD of fd00::3 completed before the probes: usable')
    return expect_bind(host, addr, _OWNERS)


def _bind_cases():
    """Each host binds every fd00:: address, its own link-local with and without scope."""
    cases = []
    for proto in ('tcp', 'udp'):
        for addr in (_DUPLICATE, _TENTATIVE, _NODAD, _AFTER_DAD):
            for h in _NAMES:
                cases.append(bind(h, addr, _BIND_PORT, _own_bind_expect(h, addr), proto))
        for n, h in enumerate(_NAMES, 1):
            cases.append(bind(h, _link_local(n), _BIND_PORT, explicit(
                'EINVAL', f'{_link_local(n)} is link-local: without a scope id the kernel '
                'cannot tell which link is meant'), proto))
            cases.append(bind(h, f'{_link_local(n)}%{h}-eth0', _BIND_PORT, explicit(
                'OK', f'{h}\'s own link-local address with its interface as scope'), proto))
    cases.append(bind('h2', _link_local(1) + '%h2-eth0', _BIND_PORT, explicit(
        'EADDRNOTAVAIL', 'h1\'s link-local address, scoped to h2-eth0: not h2\'s')))
    cases.append(bind('h2', _TENTATIVE, _BIND_PORT, explicit(
        'OK', 'IP_FREEBIND skips the "usable local address" check, so even a tentative '
        'address binds'), options=('freebind',)))
    cases.append(bind('h3', _DUPLICATE, _BIND_PORT, explicit(
        'OK', 'IP_FREEBIND binds the dadfailed address too (it receives nothing: the '
        'traffic goes to h1)'), options=('freebind',)))
    return cases


def _connect_cases():
    """Who reaches which address, and tentative/dadfailed addresses as sources."""
    short = ('timeout=300',)
    return [
        connect('h1', _TENTATIVE, _PORT, explicit(
            'ETIMEDOUT', 'h2 does not answer neighbour solicitations for its tentative '
            'fd00::2: the connect never leaves h1'), options=short),
        connect('h3', _TENTATIVE, _PORT, explicit(
            'ETIMEDOUT', 'fd00::2 is tentative on h2: nobody answers for it'), options=short),
        connect('h2', _TENTATIVE, _PORT, explicit(
            'ETIMEDOUT', 'a tentative address is not local yet, not even on h2: the SYN '
            'is sent to the link, where nobody answers for it'), options=short),
        connect('h1', _TENTATIVE, _PORT, explicit(
            'EHOSTUNREACH', 'the kernel\'s own verdict, for a program that waits (5 s): '
            'neighbour discovery for the tentative fd00::2 gave up after its solicitations '
            'went unanswered'), options=('timeout=5000',)),
        connect('h3', _TENTATIVE, _PORT, explicit(
            'EHOSTUNREACH', 'the kernel\'s own verdict, for a program that waits (5 s): '
            'nobody answers the solicitations for fd00::2'), options=('timeout=5000',)),
        connect('h2', _TENTATIVE, _PORT, explicit(
            'EHOSTUNREACH', 'the kernel\'s own verdict, for a program that waits (5 s): '
            'not even h2 answers for its own tentative fd00::2'), options=('timeout=5000',)),
        connect('h1', _NODAD, _PORT, explicit('OK', 'fd00::22 (nodad) answers at once',
                                              peer='h2')),
        connect('h2', _AFTER_DAD, _PORT, explicit('OK', 'fd00::3 finished DAD', peer='h3')),
        connect('h1', _DUPLICATE, _PORT, explicit('OK', 'h1 reaches its own fd00::1',
                                                  peer='h1')),
        connect('h2', _DUPLICATE, _PORT, explicit('OK', 'h1 holds fd00::1', peer='h1')),
        connect('h3', _NODAD, _PORT, explicit('OK', 'h3 reaches h2 as usual', peer='h2')),
        connect('h3', _DUPLICATE, _PORT, explicit(
            'ETIMEDOUT', 'h3\'s copy of fd00::1 is dadfailed, so the connect goes to the '
            'link, but h3 drops h1\'s neighbour advertisements for fd00::1 (an NA for an '
            'address of its own counts as one more DAD conflict): h3 never learns h1\'s '
            'MAC'), options=short),
        connect('h3', _DUPLICATE, _PORT, explicit(
            'EHOSTUNREACH', 'the kernel\'s own verdict, for a program that waits (5 s): '
            'neighbour discovery for fd00::1 gave up (h3 dropped every answer)'),
            options=('timeout=5000',)),
        connect('h2', _DUPLICATE, _PORT, explicit(
            'EADDRNOTAVAIL', 'source fd00::2 is tentative on h2: its bind() refuses it'),
            options=(f'src={_TENTATIVE}',)),
        connect('h3', _AFTER_DAD, _PORT, explicit(
            'EADDRNOTAVAIL', 'source fd00::1 is dadfailed on h3: its bind() refuses it'),
            options=(f'src={_DUPLICATE}',)),
        connect('h1', _link_local(2), _PORT, explicit(
            'EINVAL', 'a link-local destination without a scope id: which link?')),
        connect('h1', f'{_link_local(2)}%h1-eth0', _PORT, explicit(
            'OK', 'h2\'s link-local address over h1-eth0 (its DAD ended at start)',
            peer='h2')),
    ]


scenarios = [
    Scenario(
        name='ipv6-dad',
        title='IPv6 DAD: tentative and dadfailed addresses refuse bind(), nodad does not',
        topo=Ipv6DadTopo,
        setup=_setup(),
        faults=_faults(),
        servers=tuple(Server(h, '::', _PORT, options=('v6only=1',)) for h in _NAMES),
        cases=tuple(_bind_cases() + _connect_cases()),
        switches=('lxbr', 'ovs', 'ovs-user'),   # green on lxbr and ovs-user here
        order=3,
    ),
]
