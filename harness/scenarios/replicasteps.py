"""One snapshot's host in a replica: the setup steps that give it the snapshot's
sysctls, addresses (with their flags), routes, policy rules and permanent neighbours,
and the netprobe servers standing in for its listeners (replica.py puts the hosts
together).  Every value comes from a checked snapshot (harness/replica/checks.py):
each is one argv word, never a shell's.

How a flag is made:
    secondary        by order: IPv4 addresses added as the snapshot lists them
    (IPv6 order)     the kernel lists the newest first: added in reverse order
    deprecated       `preferred_lft 0`
    nodad, home, mngtmpaddr, noprefixroute, autojoin: the same `ip addr add` flag
    tentative        DAD running: added with accept_dad >= 1 on an interface whose
                     dad_transmits is raised (listed) when the snapshot's is too small
                     for the address to stay tentative through the run
    not tentative    added with accept_dad=0 for that moment (no DAD, no flag), then
                     the snapshot's accept_dad set again
    dadfailed, optimistic, dynamic: made as tentative / plain / forever, and listed
"""

import ipaddress
import re
from dataclasses import dataclass, field
from typing import List

from .builders import run, sysctl
from .model import Server

MAC6 = re.compile(r'[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z')
# The ports the derived matrices use themselves (derive.py BIND_PORT, SERVE_PORT and
# SERVE_PORT + 1; probe/servers.py READY_PORT): a listener there is not reproduced.
OWN_PORTS = (6677, 7001, 7002, 65432)
CONF_FLAGS = ('nodad', 'home', 'mngtmpaddr', 'noprefixroute', 'autojoin')
LONG_DAD = 3600             # DAD probes, one a second: tentative for the whole run
SHORT_DAD = 600             # less than this is raised to LONG_DAD (and listed)
DEFAULT_RULES = {('inet', 0, 'local'), ('inet', 32766, 'main'), ('inet', 32767, 'default'),
                 ('inet6', 0, 'local'), ('inet6', 32766, 'main')}


@dataclass
class HostPlan:
    """What a snapshot gives its replica host."""
    host: str
    steps: List = field(default_factory=list)
    servers: List = field(default_factory=list)
    tentative: tuple = ()
    loopback: tuple = ()
    nonlocal4: bool = False
    nonlocal6: bool = False
    v6_off: bool = False
    held: tuple = ()         # the global addresses it binds (not tentative), lo's too


def listed(missing, what, why):
    missing.append({'what': what, 'why': why})


def iface_sysctl(plan, dev, key, value, why):
    """A step setting an interface's sysctl (the /-form: a name may hold a dot)."""
    ipv, leaf = key.split('.')
    plan.steps.append(run(plan.host, ['sysctl', '-q', '-w',
                                      f'net/{ipv}/conf/{dev}/{leaf}={value}'], why))


def host_plan(host, snap, devs, missing):
    """The HostPlan of snapshot snap as host, whose interfaces devs are made."""
    plan = HostPlan(host)
    for key, value in snap['sysctls'].items():
        if value != '':
            plan.steps.append(sysctl(host, key, value, f'{key} as on the real host'))
    plan.nonlocal4 = snap['sysctls'].get('net.ipv4.ip_nonlocal_bind') == '1'
    plan.nonlocal6 = snap['sysctls'].get('net.ipv6.ip_nonlocal_bind') == '1'
    plan.v6_off = snap['sysctls'].get('net.ipv6.conf.all.disable_ipv6') == '1'
    by_name = {i['name']: i for i in snap['interfaces']}
    tentative, loopback = [], []
    for dev in devs:
        tentative += interface_steps(plan, by_name[dev], missing)
    lo = by_name.get('lo')
    if lo is not None:
        loopback = loopback_steps(plan, lo, missing)
    route_steps(plan, snap['routes'], set(devs) | {'lo'}, missing)
    rule_steps(plan, snap['rules'], missing)
    neighbour_steps(plan, snap['neighbours'], set(devs), missing)
    for dev in devs:
        if not by_name[dev]['up']:
            plan.steps.append(run(host, ['ip', 'link', 'set', 'dev', dev, 'down'],
                                  f'{dev} is down on the real host'))
    plan.servers = listener_servers(host, snap, set(devs), missing)
    plan.tentative, plan.loopback = tuple(tentative), tuple(loopback)
    plan.held = tuple(a['address'] for i in snap['interfaces'] if i['name'] in devs
                      for a in i['addresses'] if a['scope'] == 'global' and not
                      {'tentative', 'dadfailed'} & set(a['flags'])) + \
        tuple(a for a, _len in loopback)
    return plan


def interface_steps(plan, iface, missing):
    """MTU, the interface's sysctls and its addresses; the addresses made tentative."""
    host, dev = plan.host, iface['name']
    if iface['mtu'] and iface['mtu'] != 1500:
        plan.steps.append(run(host, ['ip', 'link', 'set', 'dev', dev, 'mtu',
                                     str(iface['mtu'])], f'{dev}\'s MTU'))
    if iface['up'] and not iface['carrier']:
        listed(missing, f'{host} {dev}', 'no carrier on the real host: the replica\'s '
               'link has one')
    sysctls = dict(iface['sysctls'])
    v6 = [a for a in iface['addresses'] if a['family'] == 'inet6']
    tentative = [a['address'] for a in v6 if {'tentative', 'dadfailed'} &
                 set(a['flags']) and 'nodad' not in a['flags']]
    if tentative and int(sysctls.get('ipv6.dad_transmits', '1')) < SHORT_DAD:
        real = sysctls.get('ipv6.dad_transmits', '1')
        listed(missing, f'{host} {dev} ipv6.dad_transmits', f'{real} on the real host; '
               f'{LONG_DAD} here so that {", ".join(tentative)} stay tentative through '
               'the run, as the snapshot caught them')
        sysctls['ipv6.dad_transmits'] = str(LONG_DAD)
    for key, value in sysctls.items():
        iface_sysctl(plan, dev, key, value, f'{dev}\'s {key} as on the real host')
    for a in [a for a in iface['addresses'] if a['family'] == 'inet']:
        add_address(plan, dev, a, missing)
    accept = sysctls.get('ipv6.accept_dad', '1')
    if v6:       # the kernel's link-local address, in DAD since the link came up
        plan.steps.append(run(host, ['ip', '-6', 'addr', 'flush', 'dev', dev, 'scope',
                                     'link'], f'{dev}\'s link-local addresses as on the '
                                              'real host, not in DAD'))
    for a in reversed(v6):       # the kernel lists IPv6 addresses newest first
        dad = '1' if accept in ('0', '-1') else accept
        iface_sysctl(plan, dev, 'ipv6.accept_dad', dad if a['address'] in tentative
                     else '0', f'{a["address"]}: DAD '
                     f'{"runs" if a["address"] in tentative else "is not run"}')
        add_address(plan, dev, a, missing)
    if v6:
        iface_sysctl(plan, dev, 'ipv6.accept_dad', accept, f'{dev}\'s ipv6.accept_dad '
                     'as on the real host')
    return tentative


def add_address(plan, dev, a, missing):
    """The `ip addr add` of one snapshot address, with what its flags need."""
    cidr = f'{a["address"]}/{a["prefixlen"]}'
    argv = ['ip', '-4' if a['family'] == 'inet' else '-6', 'addr', 'add', cidr]
    if a['peer']:
        argv[-1] = a['address']
        argv += ['peer', f'{a["peer"]}/{a["prefixlen"]}']
    argv += ['dev', dev]
    if a['scope'] not in ('global', 'link' if a['family'] == 'inet6' else 'global'):
        argv += ['scope', a['scope']]
    if a['label']:
        argv += ['label', a['label']]
    argv += [f for f in CONF_FLAGS if f in a['flags']]
    if 'deprecated' in a['flags']:
        argv += ['valid_lft', 'forever', 'preferred_lft', '0']
    for flag, how in (('dadfailed', 'made tentative (DAD running): a bind fails the '
                       'same way'), ('optimistic', 'made without optimistic DAD'),
                      ('dynamic', 'made with a lifetime of forever')):
        if flag in a['flags']:
            listed(missing, f'{plan.host} {dev} {a["address"]}', f'{flag} on the real '
                   f'host: {how}')
    plan.steps.append(run(plan.host, argv, f'{cidr} on {dev} as on the real host'))


def loopback_steps(plan, lo, missing):
    """Addresses the real host holds on lo besides 127.0.0.1/8 and ::1 (a VIP):
    [(address, prefixlen)] of the global ones."""
    held = []
    for a in lo['addresses']:
        if a['address'] in ('127.0.0.1', '::1'):
            continue
        add_address(plan, 'lo', a, missing)
        if a['scope'] == 'global':
            held.append((a['address'], a['prefixlen']))
    return held


def route_steps(plan, routes, devs, missing):
    """The routes the kernel does not make by itself (not table local, not proto
    kernel), those without a gateway first (a gateway needs its route)."""
    chosen = [r for r in routes if r['table'] != 'local' and r['protocol'] != 'kernel']
    for r in sorted(chosen, key=lambda r: r['gateway'] is not None or
                    bool(r.get('nexthops'))):
        used = {r['dev']} | {h['dev'] for h in r.get('nexthops', [])}
        if used - devs - {None}:
            listed(missing, f'{plan.host} route {r["dst"]} table {r["table"]}',
                   f'through {", ".join(sorted(used - devs - {None}))}, which the '
                   'replica does not have')
            continue
        argv = ['ip', '-4' if r['family'] == 'inet' else '-6', 'route', 'add']
        argv += [] if r['type'] == 'unicast' else [r['type']]
        argv.append(r['dst'])
        for hop in r.get('nexthops', []):
            argv += ['nexthop'] + (['via', hop['gateway']] if hop['gateway'] else []) + \
                (['dev', hop['dev']] if hop['dev'] else []) + ['weight', str(hop['weight'])]
        argv += ['via', r['gateway']] if r['gateway'] else []
        argv += ['dev', r['dev']] if r['dev'] else []
        argv += ['src', r['src']] if r['src'] else []
        argv += ['metric', str(r['metric'])] if r['metric'] else []
        argv += ['proto', r['protocol']] if r['protocol'] != 'boot' else []
        if r['family'] == 'inet' and r['scope'] not in ('global', 'universe'):
            argv += ['scope', r['scope']]
        argv += ['table', r['table']] if r['table'] != 'main' else []
        argv += ['onlink'] if 'onlink' in r['flags'] else []
        plan.steps.append(run(plan.host, argv, f'route {r["dst"]} table {r["table"]} as '
                                               'on the real host'))


def rule_steps(plan, rules, missing):
    """The policy rules other than the kernel's own (local, main, default)."""
    actions = {'to_tbl': None, 'blackhole': 'blackhole', 'unreachable': 'unreachable',
               'prohibit': 'prohibit', 'nop': 'nop'}
    for r in rules:
        if (r['family'], r['priority'], r['table']) in DEFAULT_RULES and not any(
                r[k] for k in ('not', 'src', 'dst', 'iif', 'oif', 'fwmark')):
            continue
        what = f'{plan.host} {r["family"]} rule {r["priority"]}'
        if r.get('unsupported') or r['action'] not in actions:
            listed(missing, what, 'selectors or an action the snapshot does not keep: '
                   f'{", ".join(r.get("unsupported") or [r["action"]])}')
            continue
        argv = ['ip', '-4' if r['family'] == 'inet' else '-6', 'rule', 'add']
        argv += ['not'] if r['not'] else []
        argv += ['pref', str(r['priority'])]
        for key, word in (('src', 'from'), ('dst', 'to'), ('iif', 'iif'), ('oif', 'oif')):
            argv += [word, r[key]] if r[key] else []
        if r['fwmark']:
            argv += ['fwmark', r['fwmark'] + (f'/{r["fwmask"]}' if r['fwmask'] else '')]
        action = actions[r['action']]
        argv += [action] if action else ['table', r['table'] or 'main']
        plan.steps.append(run(plan.host, argv, f'policy rule {r["priority"]} as on the '
                                               'real host'))


def neighbour_steps(plan, neighbours, devs, missing):
    """Permanent neighbours; the learned ones the replica learns by itself."""
    learned = 0
    for n in neighbours:
        if 'PERMANENT' in n['state'] and n['mac'] and n['dev'] in devs:
            plan.steps.append(run(plan.host, ['ip', 'neigh', 'replace', n['address'],
                                              'lladdr', n['mac'], 'dev', n['dev'], 'nud',
                                              'permanent'], 'a permanent neighbour'))
        elif 'PERMANENT' in n['state']:
            listed(missing, f'{plan.host} neighbour {n["address"]}', f'on {n["dev"]}, '
                   'which the replica does not have')
        else:
            learned += 1
    if learned:
        listed(missing, f'{plan.host} {learned} learned neighbours', 'the replica '
               'learns its own')


def listener_servers(host, snap, devs, missing):
    """A netprobe server for each listener (same address, port, protocol, device,
    v6only), once each; freebind where the address is not one the host holds for
    binding (tentative, or on an interface left out)."""
    held = {a['address'] for i in snap['interfaces'] if i['name'] in devs | {'lo'}
            for a in i['addresses'] if not {'tentative', 'dadfailed'} & set(a['flags'])}
    out, seen = [], set()
    for x in snap['listeners']:
        key = (x['proto'], x['address'], x['port'], x['device'], x['v6only'])
        what = f'{host} {x["proto"]} listener {x["address"]}:{x["port"]}'
        if key in seen:
            continue
        seen.add(key)
        if x['port'] in OWN_PORTS:
            listed(missing, what, 'a port the derived matrices use themselves')
            continue
        if x['device'] and x['device'] not in devs | {'lo'}:
            listed(missing, what, f'bound to {x["device"]}, which the replica does not '
                   'have')
            continue
        addr = ipaddress.ip_address(x['address'])
        opts = [f'dev={x["device"]}'] if x['device'] else []
        if addr.version == 6 and x['v6only'] is not None:
            opts.append(f'v6only={int(x["v6only"])}')
        if not addr.is_unspecified and x['address'] not in held and \
                not addr.is_loopback:
            opts.append('freebind')
        out.append(Server(host, x['address'], x['port'], x['proto'], tuple(opts)))
    return out
