"""Building a scenario's parts: cases (bind, connect), expectations (explicit, or by
the documented rules: expect_bind, expect_connect) and steps (run, addr_add,
addr_del, link_down, sysctl, port_range, nft, wait_dad; at_once).  Each returns one
of model.py's frozen data classes; none runs anything.
"""

import functools
import ipaddress
from dataclasses import replace

from .model import bare, Case, endpoint, Expect, OK, ScenarioError, Step


def bind(host, addr, port, expect, proto='tcp', options=(), column=''):
    """A bind case: host binds addr:port (TCP binds also listen, as a server would)."""
    return Case('bind', host, addr, int(port), expect, proto, tuple(options), column)


def connect(host, addr, port, expect, proto='tcp', options=(), column=''):
    """A connect case: host connects to addr:port (options: src=, sport=, timeout=...)."""
    return Case('connect', host, addr, int(port), expect, proto, tuple(options), column)


def explicit(outcome, reason, peer=None, after=None, within=None, before=None):
    """An expectation written by hand: outcome is 'OK' or an errno name; within and
    before say it in time (Expect): explicit('OK', ..., within=2,
    before='EADDRNOTAVAIL') is "EADDRNOTAVAIL, then OK within 2 s"."""
    return Expect(outcome, reason, 'explicit', peer, after, within, before)


def expect_bind(host, addr, owners):
    """The expectation for host binding addr, by the owner/wildcard/loopback rules.

    owners maps each unicast address (text, as in the case) to the host holding it
    after the faults; an address nobody holds is EADDRNOTAVAIL everywhere.
    """
    special = _special(addr)
    if special == 'wildcard':
        return Expect(OK, f'{addr} is the wildcard: binds on every host', 'wildcard-binds')
    if special == 'loopback':
        return Expect(OK, f'{host} has its own lo with {addr}', 'loopback-binds')
    owner = owners.get(addr)
    if owner == host:
        return Expect(OK, f'{host} holds {addr}', 'owner-binds')
    holder = f'{owner} holds it' if owner else 'no host holds it'
    return Expect('EADDRNOTAVAIL', f'{addr} is not on {host} ({holder})', 'owner-binds')


def expect_connect(host, addr, port, listeners, src=None, owners=None, proto='tcp'):
    """The expectation for host connecting to addr:port by the listener rules.

    listeners maps (addr, port) to the host whose server accepts there; src, with
    owners, applies the foreign-source rule first.
    """
    if src is not None and owners is not None and owners.get(src) != host:
        return Expect('EADDRNOTAVAIL', f'source {src} is not on {host}', 'foreign-source')
    server = listeners.get((addr, int(port)))
    if server:
        return Expect(OK, f'{server} listens on {endpoint(addr, port)}',
                      'listener-answers', peer=server)
    if proto != 'tcp':
        raise ScenarioError(f'no rule for a {proto} connect to {addr}:{port} without a '
                            'listener; write explicit(...)')
    return Expect('ECONNREFUSED', f'nothing listens on {endpoint(addr, port)}',
                  'no-listener-refuses')


# -- building steps ----------------------------------------------------------------

def run(host, argv, why, **kw):
    """Any command inside host, as an argument list."""
    return Step(host, tuple(str(a) for a in argv), why, **kw)


def at_once(steps):
    """steps to run at the same time (Step.together): for independent steps on many
    hosts, such as filling every host's ARP table, which one after the other would
    wait for a process start each."""
    return tuple(replace(step, together=True) for step in steps)


def at(seconds, step):
    """step fired at that second of the probe phase (Step.at), while the probes run,
    instead of before them: an address arriving late, a link coming back."""
    return replace(step, at=seconds)


def addr_add(host, cidr, dev, why, nodad=False):
    """ip addr add CIDR dev DEV (IPv6: with nodad when asked)."""
    argv = ['ip', 'addr', 'add', cidr, 'dev', dev] + (['nodad'] if nodad else [])
    return run(host, argv, why)


def addr_del(host, cidr, dev, why):
    """ip addr del CIDR dev DEV: the address disappears from the host."""
    return run(host, ['ip', 'addr', 'del', cidr, 'dev', dev], why)


def link_down(host, dev, why):
    """ip link set DEV down: the interface is down, its addresses stay."""
    return run(host, ['ip', 'link', 'set', 'dev', dev, 'down'], why)


def sysctl(host, key, value, why):
    """sysctl -w KEY=VALUE inside host (net.* keys are per namespace)."""
    return run(host, ['sysctl', '-q', '-w', f'{key}={value}'], why)


def port_range(host, low, high, why):
    """Narrow the ephemeral port range (net.ipv4.ip_local_port_range)."""
    return sysctl(host, 'net.ipv4.ip_local_port_range', f'{low} {high}', why)


def nft(host, ruleset, why):
    """Load an nft ruleset (text) inside host with `nft -f -`."""
    return run(host, ['nft', '-f', '-'], why, stdin=ruleset)


def wait_dad(host, dev, why, timeout_s=10.0):
    """Wait until no IPv6 address on dev is tentative (DAD finished).

    A dadfailed address keeps the tentative flag for good, so it is left out:
    DAD is over for it too.
    """
    return run(host, ['ip', '-6', 'addr', 'show', 'dev', dev, 'tentative', '-dadfailed'],
               why, until='empty-stdout', timeout_s=timeout_s)


@functools.lru_cache(maxsize=8192)       # parsed once per address, not once per cell
def _special(addr):
    """'wildcard', 'loopback' or None: what kind of address addr is for a bind."""
    ip = ipaddress.ip_address(bare(addr))
    if ip.is_unspecified:
        return 'wildcard'
    return 'loopback' if ip.is_loopback else None
