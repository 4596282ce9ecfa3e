"""A mutation undone on the live network, and the undo proved (--mutate on one network).

state(net, hosts) reads what a mutation may change in each host: its links (up or
down, MTU, MAC), its addresses (with the flags that decide a bind: tentative,
dadfailed, deprecated, secondary, nodad), its main routes of both families, its
permanent neighbours, its nftables tables, the sysctls that decide binds and DAD, and
the mounts of its shell's mount namespace (a name mutation's resolver files).
settled() waits for the link-local addresses of a network just built to finish DAD,
so that what is read first is the state every mutation then meets.
restore(net, before) brings each host back to that state by the difference (the
mounts the mutation added, newest first; sysctls, links, addresses, routes, nft tables
the mutation added), with DAD off while it does
(dad_transmits 0: an address it re-adds, or a link-local address that comes back with
its link or with IPv6, is usable at once, as it was), then flushes every host's
neighbour caches (an entry learnt under the mutation, such as a moved address's new
MAC, would outlive it), destroys the TCP sockets the probes left (a TIME_WAIT would
hold a port a fresh network has free) and looks for any socket still there.  The proof is the state read
again: equal to `before`, or the differences in words, and the caller builds a fresh
network instead.  Only the hosts a mutation touched (its steps', port holders' and
resolver files') are read and restored; every host is flushed and looked at for TIME_WAIT.

Dynamic state is no part of the comparison: address lifetimes, the neighbour cache
(flushed), conntrack entries, the routes' cache.
"""

import json
import re
import shlex
import time

from .hosts import run_on
from .retry import attempts

# The sysctls read and restored: the host's own, and each interface's.
_HOST_FILES = ('/proc/sys/net/ipv4/ip_local_port_range', '/proc/sys/net/ipv4/ip_nonlocal_bind',
               '/proc/sys/net/ipv6/ip_nonlocal_bind', '/proc/sys/net/ipv4/ip_forward',
               '/proc/sys/net/ipv4/ip_local_reserved_ports')
_INTF_GLOBS = ('/proc/sys/net/ipv6/conf/*/disable_ipv6', '/proc/sys/net/ipv6/conf/*/accept_dad',
               '/proc/sys/net/ipv6/conf/*/dad_transmits',
               '/proc/sys/net/ipv6/conf/*/router_solicitation_delay',
               '/proc/sys/net/ipv6/conf/*/keep_addr_on_down',
               '/proc/sys/net/ipv6/conf/*/forwarding', '/proc/sys/net/ipv6/neigh/*/retrans_time_ms',
               '/proc/sys/net/ipv4/conf/*/arp_ignore', '/proc/sys/net/ipv4/conf/*/rp_filter',
               '/proc/sys/net/ipv4/neigh/*/mcast_solicit',
               '/proc/sys/net/ipv4/neigh/*/retrans_time_ms')
_SEP = '==bindlab-state=='
_READ = '; '.join([
    'ip -j addr show', f'echo {_SEP}', 'ip -j link show', f'echo {_SEP}',
    'ip -j -4 route show table main', f'echo {_SEP}', 'ip -j -6 route show table main',
    f'echo {_SEP}', 'ip -j neigh show nud permanent', f'echo {_SEP}',
    'nft -j list tables 2>/dev/null || echo "{}"', f'echo {_SEP}',
    'grep -H . ' + ' '.join(_HOST_FILES + _INTF_GLOBS) + ' 2>/dev/null; true',
    f'echo {_SEP}', 'cat /proc/self/mountinfo'])
ADDR_FLAGS = ('tentative', 'dadfailed', 'deprecated', 'secondary', 'nodad')
_ROUTE_KEYS = ('dst', 'gateway', 'dev', 'protocol', 'scope', 'prefsrc', 'metric', 'type')
TIMEOUT_S = 10
# Every host after a mutation's probes (its servers and programs ended): the
# neighbour caches flushed, the TCP sockets the probes left (TIME_WAIT, FIN_WAIT)
# destroyed (ss -K), and what is still there printed: nothing, or a leftover.
_FLUSH = 'ip neigh flush all; ss -HtaK >/dev/null 2>&1; ss -Htuan'
SETTLE_S = 5.0


class HostState:
    """One host's state as compared: links, addrs, routes, neigh, tables, sysctls,
    and mounts ([(mount point, root)] of its shell's mount namespace, in mount order)."""

    def __init__(self, links, addrs, routes, neigh, tables, sysctls, mounts=()):
        self.links, self.addrs, self.routes = links, addrs, routes
        self.neigh, self.tables, self.sysctls = neigh, tables, sysctls
        self.mounts = list(mounts)

    def parts(self):
        return {'links': self.links, 'addresses': self.addrs, 'routes': self.routes,
                'permanent neighbours': self.neigh, 'nft tables': self.tables,
                'sysctls': self.sysctls, 'mounts': self.mounts}

    def forwards(self):
        """True when the host forwards IPv4 or IPv6 (a router)."""
        return self.sysctls.get('/proc/sys/net/ipv4/ip_forward') == '1' or \
            self.sysctls.get('/proc/sys/net/ipv6/conf/all/forwarding') == '1'

    def relinks(self, other):
        """True when other differs in what makes the kernel renew addresses and
        routes by itself: a link up or down, IPv6 on or off."""
        return self.links != other.links or any(
            other.sysctls.get(p) != v for p, v in self.sysctls.items()
            if p.endswith('/disable_ipv6'))


def state(net, hosts):
    """{host name: HostState} of hosts (names), read at once; ValueError when a
    host's state cannot be read (its shell gone)."""
    hosts = sorted(set(hosts))
    done = run_on([(net.get(h), ['sh', '-c', _READ], None, TIMEOUT_S) for h in hosts])
    out = {}
    for host, (rc, text, err) in zip(hosts, done):
        parts = text.split(_SEP + '\n')
        if rc != 0 or len(parts) != 8:
            raise ValueError(f'could not read the state of {host}: {err.strip()[:200]}')
        out[host] = _parsed(parts)
    return out


def _parsed(parts):
    addrs_j, links_j, r4, r6, neigh_j = (json.loads(p or '[]') for p in parts[:5])
    links = {ln['ifname']: ('UP' in ln.get('flags', ()), ln.get('mtu'), ln.get('address'))
             for ln in links_j}
    addrs = {}
    for entry in addrs_j:
        for a in entry.get('addr_info', ()):
            flags = tuple(f for f in ADDR_FLAGS if a.get(f))
            key = (entry['ifname'], a.get('family'), a.get('local'), a.get('prefixlen'))
            addrs[key] = (a.get('scope'), a.get('broadcast'), flags)
    routes = sorted(tuple(str(r.get(k, '')) for k in _ROUTE_KEYS) + (fam,)
                    for fam, rs in (('4', r4), ('6', r6)) for r in rs)
    neigh = sorted((n.get('dst'), n.get('dev'), n.get('lladdr')) for n in neigh_j)
    tables = sorted((t['table']['family'], t['table']['name'])
                    for t in json.loads(parts[5] or '{}').get('nftables', ())
                    if 'table' in t)
    sysctls = {}
    for line in parts[6].splitlines():
        path, _, value = line.partition(':')
        sysctls[path] = value.strip()
    return HostState(links, addrs, routes, neigh, tables, sysctls, _mounts(parts[7]))


def _mounts(text):
    """[(mount point, root)] of a mountinfo text, in its order (octal escapes such as
    \\040 decoded): what a bind mount over /etc/hosts adds."""
    out = []
    for line in text.splitlines():
        words = line.split()
        if len(words) > 4:
            out.append(tuple(_unescaped(w) for w in (words[4], words[3])))
    return out


def _unescaped(word):
    return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), word)


def differences(before, after):
    """Words for what differs between two {host: HostState}, [] when nothing does."""
    out = []
    for host in sorted(set(before) | set(after)):
        was, now = before.get(host), after.get(host)
        if was is None or now is None:
            out.append(f'{host}: not read both times')
            continue
        for name, value in was.parts().items():
            other = now.parts()[name]
            if value != other:
                out.append(f'{host}: {name} differ ({_diff_text(value, other)})')
    return out


def _diff_text(was, now):
    if isinstance(was, dict):
        keys = sorted(k for k in set(was) | set(now) if was.get(k) != now.get(k))
        return '; '.join(f'{k}: {was.get(k)} -> {now.get(k)}' for k in keys[:3])
    gone, new = [x for x in was if x not in now], [x for x in now if x not in was]
    return f'gone {gone[:2]}, new {new[:2]}'


def settled(net, hosts, seconds=SETTLE_S):
    """Wait until no host of hosts has a tentative address (the link-local addresses
    of a network just built are in DAD for a second or so), at most seconds; True
    when none is left."""
    deadline = time.monotonic() + seconds
    for _ in attempts(deadline=deadline, pause=0.1):
        done = run_on([(net.get(h), ['ip', '-6', 'addr', 'show', 'tentative'], None,
                        TIMEOUT_S) for h in hosts])
        if not any(out.strip() for _rc, out, _err in done):
            return True
    return False


def restore(net, before, hosts_all):
    """Bring each host of before ({host: HostState}: the hosts the mutation touched)
    back to it; then, on hosts_all (every host of the network), flush the neighbour
    caches, destroy the TCP sockets the probes left (a TIME_WAIT holds a port a fresh
    network has free) and look for any socket left.  Returns what failed or was
    left, as text ([]: nothing).

    Each step is planned from the state as it is then: DAD off (dad_transmits and
    router_solicitation_delay 0: an address re-added is usable at once, as it was), the sysctls, nft tables and links
    (bringing a link or IPv6 back makes the kernel's own addresses and routes come
    back: those hosts are read again); the addresses; the routes, once the addresses
    are there; then the DAD sysctls as they were."""
    failed = []
    now = state(net, before)
    relinked = {h for h in before if before[h].relinks(now[h])}
    failed += _run(net, {h: _first(before[h], now[h]) for h in before})
    if relinked:
        now.update(state(net, relinked))
    failed += _run(net, {h: _address_commands(before[h], now[h]) for h in before})
    again = {h for h in before if before[h].addrs != now[h].addrs or h in relinked}
    if again:
        now.update(state(net, again))
    failed += _run(net, {h: _route_commands(before[h], now[h]) for h in before})
    if relinked:
        settled(net, relinked, seconds=1.0)  # a link-local address back: DAD off, at once
    failed += _run(net, {h: [_write(p, v) for p, v in before[h].sysctls.items()
                             if _dad(p)] for h in before})
    hosts_all = sorted(hosts_all)
    flushed = run_on([(net.get(h), ['sh', '-c', _FLUSH], None, TIMEOUT_S)
                      for h in hosts_all])
    failed += [f'{h}: a socket is left ({out.split(chr(10))[0].strip()})'
               for h, (_rc, out, _err) in zip(hosts_all, flushed) if out.strip()]
    return failed


def _run(net, plans):
    """Each host's commands ({host: [argv]}) in one shell a host, all hosts at once;
    what failed, as text."""
    commands = [(net.get(h), ['sh', '-c', '; '.join(map(_joined, plan))], None, TIMEOUT_S)
                for h, plan in sorted(plans.items()) if plan]
    return [f'{node.name}: {err.strip()[:200] or f"exit {rc}"}'
            for (node, *_r), (rc, _out, err) in zip(commands, run_on(commands)) if rc]


def _joined(argv):
    return ' '.join(map(shlex.quote, argv))


def _write(path, value):
    return ['sh', '-c', 'echo "$2" > "$1"', '-', path, value]


def _dad(path):
    """True for the sysctls that delay or make DAD (off while restoring)."""
    return path.endswith(('/dad_transmits', '/router_solicitation_delay'))


def _first(was, now):
    """The mounts the mutation added (newest first), DAD off, the sysctls, the nft
    tables the mutation added, the links."""
    dad = [p for p in was.sysctls if _dad(p)]
    added = now.mounts[len(was.mounts):] if now.mounts[:len(was.mounts)] == was.mounts \
        else []             # anything else stays, and the proof names it
    out = [['umount', point] for point, _root in reversed(added)]
    out += [_write(p, '0') for p in dad]
    out += [_write(p, v) for p, v in was.sysctls.items()
            if p not in dad and now.sysctls.get(p) != v]
    out += [['nft', 'delete', 'table', fam, name] for fam, name in now.tables
            if (fam, name) not in was.tables]
    out += [['ip', 'link', 'set', 'dev', name, 'up' if up else 'down']
            for name, (up, _mtu, _mac) in was.links.items()
            if name in now.links and now.links[name][0] != up]
    return out


def _address_commands(was, now):
    """ip addr del/add for the addresses that differ (flags included): with DAD off,
    an address re-added is usable at once; `nodad` only where it had that flag."""
    out = []
    for key, facts in now.addrs.items():
        if was.addrs.get(key) != facts and key[0] != 'lo':
            dev, _fam, local, plen = key
            out.append(['ip', 'addr', 'del', f'{local}/{plen}', 'dev', dev])
    for key, (scope, brd, flags) in was.addrs.items():
        if now.addrs.get(key) != was.addrs[key] and key[0] != 'lo':
            dev, _fam, local, plen = key
            out.append(['ip', 'addr', 'add', f'{local}/{plen}', 'dev', dev] +
                       (['broadcast', brd] if brd else []) +
                       (['scope', scope] if scope and scope != 'global' else []) +
                       (['nodad'] if 'nodad' in flags else []))
    return out


def _route_commands(was, now):
    """ip route del/add for the routes that differ (the kernel's own too: a connected
    route deleted by hand does not come back by itself)."""
    return [_route_argv('del', r) for r in now.routes if r not in was.routes] + \
        [_route_argv('add', r) for r in was.routes if r not in now.routes]


def _route_argv(verb, route):
    dst, gateway, dev, protocol, scope, prefsrc, metric, rtype, family = route
    argv = ['ip', f'-{family}', 'route', verb]
    argv += ([rtype] if rtype and rtype != 'unicast' else []) + [dst]
    for word, value in (('via', gateway), ('dev', dev), ('proto', protocol),
                        ('scope', scope), ('src', prefsrc), ('metric', metric)):
        if value:
            argv += [word, value]
    return argv
