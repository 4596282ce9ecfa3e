"""What `ip -j`, `ss`, /etc/hosts and /etc/resolv.conf print, turned into the
snapshot's own fields (schema.py): only what a replica or a reader needs, with one
spelling (a route's dst is always a prefix, `default` is 0.0.0.0/0 or ::/0).
Anything odd raises ValueError; take.py lists it as unreadable."""

import ipaddress
import json
import re

# The address flags `ip -j addr` prints as `"tentative": true` and so on.
MAC = re.compile(r'[0-9a-f]{2}(:[0-9a-f]{2}){0,31}\Z')
ADDR_FLAGS = ('secondary', 'tentative', 'dadfailed', 'deprecated', 'optimistic',
              'nodad', 'home', 'mngtmpaddr', 'noprefixroute', 'autojoin',
              'stable-privacy', 'permanent', 'dynamic')
RULE_KEYS = {'priority', 'src', 'srclen', 'dst', 'dstlen', 'table', 'iif', 'oif',
             'fwmark', 'fwmask', 'not', 'action', 'flags'}


def ip_json(text):
    data = json.loads(text or '[]')
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise ValueError('not a list of objects')
    return data


def interface(link):
    """One `ip -j -d addr` entry -> an interface with its addresses."""
    name = link.get('ifname')
    if not isinstance(name, str):
        raise ValueError('no name')
    name = name.split('@')[0]
    info = link.get('linkinfo') or {}
    flags = [f for f in link.get('flags') or [] if isinstance(f, str)]
    out = {'name': name, 'index': int(link.get('ifindex', 0)),
           'kind': str(info.get('info_kind') or link.get('link_type') or 'unknown'),
           'mac': link.get('address') if link.get('link_type') != 'none' else None,
           'mtu': int(link.get('mtu', 0)), 'up': 'UP' in flags,
           'carrier': 'LOWER_UP' in flags,
           'operstate': str(link.get('operstate', 'UNKNOWN')),
           'master': link.get('master'), 'addresses': []}
    for info in link.get('addr_info') or []:
        if 'local' not in info:
            continue
        addr = {'family': info.get('family'), 'address': info['local'],
                'prefixlen': int(info.get('prefixlen', 0)),
                'scope': str(info.get('scope', 'global')),
                'flags': [f for f in ADDR_FLAGS if info.get(f) is True],
                'label': info.get('label') if info.get('label') != name else None,
                'peer': info.get('address') if info.get('address') != info['local']
                else None}
        if addr['family'] == 'inet6':
            addr['label'] = None
        out['addresses'].append(addr)
    return out


def prefix(dst, family):
    """ip -j's dst ('default', '10.0.0.1', '10.0.0.0/24') as a prefix string."""
    if dst in (None, 'default'):
        return '0.0.0.0/0' if family == 'inet' else '::/0'
    return str(ipaddress.ip_network(dst if '/' in dst else
                                    f'{dst}/{32 if family == "inet" else 128}',
                                    strict=False))


def route(entry, family):
    via = entry.get('via') if isinstance(entry.get('via'), dict) else {}
    out = {'family': family, 'table': str(entry.get('table', 'main')),
           'type': str(entry.get('type', 'unicast')),
           'dst': prefix(entry.get('dst'), family),
           'gateway': entry.get('gateway') or via.get('host'),
           'dev': entry.get('dev'), 'src': entry.get('prefsrc'),
           'metric': entry.get('metric'), 'protocol': str(entry.get('protocol', 'boot')),
           'scope': str(entry.get('scope', 'global')),
           'flags': [f for f in entry.get('flags') or [] if isinstance(f, str)]}
    hops = entry.get('nexthops')
    if isinstance(hops, list):
        out['nexthops'] = [{'gateway': h.get('gateway'), 'dev': h.get('dev'),
                            'weight': h.get('weight', 1)}
                           for h in hops if isinstance(h, dict)]
    return out


def _selector(entry, key, family):
    value = entry.get(key)
    if value in (None, 'all'):
        return None
    length = entry.get(f'{key}len')
    return prefix(f'{value}/{length}' if length is not None else value, family)


def rule(entry, family):
    out = {'family': family, 'priority': int(entry.get('priority', 0)),
           'not': bool(entry.get('not')), 'src': _selector(entry, 'src', family),
           'dst': _selector(entry, 'dst', family), 'iif': entry.get('iif'),
           'oif': entry.get('oif'), 'fwmark': entry.get('fwmark'),
           'fwmask': entry.get('fwmask'), 'table': entry.get('table'),
           'action': str(entry.get('action', 'to_tbl'))}
    if out['table'] is not None:
        out['table'] = str(out['table'])
    other = sorted(k for k in entry if k not in RULE_KEYS)
    if other:
        out['unsupported'] = other
    return out


def neighbour(entry):
    if 'dst' not in entry or 'dev' not in entry:
        return None
    mac = entry.get('lladdr')
    return {'address': entry['dst'], 'dev': entry['dev'],
            'mac': mac if isinstance(mac, str) and MAC.match(mac) else None,
            'state': [s for s in entry.get('state') or [] if isinstance(s, str)]}


# ss -H -ltnpe: [Netid] State Recv-Q Send-Q Local Peer [users:((...))] [extras]
_USER = re.compile(r'\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=\d+\)')


def split_endpoint(text):
    """'10.0.0.1%eth0:80', '[::1]:80', '*:80' -> (address, device, port)."""
    host, _, port = text.rpartition(':')
    if host.startswith('[') and host.endswith(']'):
        host = host[1:-1]
    host, _, device = host.partition('%')
    if host == '*':
        host = '::'
    return host, device or None, int(port)


def listener(line, proto):
    """One line of ss's listeners -> a listener (None for one it cannot place)."""
    words = line.split()
    if words and words[0] in ('tcp', 'udp'):
        words = words[1:]
    if len(words) < 5 or words[0] not in ('LISTEN', 'UNCONN'):
        return None
    address, device, port = split_endpoint(words[3])
    ipaddress.ip_address(address)
    rest = ' '.join(words[5:])
    v6only = re.search(r'\bv6only:([01])\b', rest)
    return {'proto': proto, 'address': address, 'port': port, 'device': device,
            'v6only': None if not v6only else v6only.group(1) == '1',
            'processes': [{'name': ''.join(c if c.isprintable() else '?'
                                           for c in m.group(1))[:64],
                           'pid': int(m.group(2))}
                          for m in _USER.finditer(rest)]}


NAME = re.compile(r'[A-Za-z0-9_.*-]{1,253}\Z')    # schema.NAME: a host or domain name
TOKEN = re.compile(r'[A-Za-z0-9_.:-]{1,64}\Z')     # schema.TOKEN


def hosts_file(text):
    """(entries, the names dropped because they are not host names)."""
    out, dropped = [], []
    for line in text.splitlines():
        words = line.split('#')[0].split()
        if len(words) >= 2:
            try:
                ipaddress.ip_address(words[0].split('%')[0])
            except ValueError:
                continue
            names = [n for n in words[1:] if NAME.match(n)]
            dropped += [n for n in words[1:] if not NAME.match(n)]
            if names:
                out.append({'address': words[0], 'names': names})
    return out, dropped


def _is_address(text):
    try:
        ipaddress.ip_address(text.split('%')[0])
    except ValueError:
        return False
    return True


def resolv_conf(text):
    out = {'nameservers': [], 'search': [], 'options': []}
    for line in text.splitlines():
        words = line.split('#')[0].split(';')[0].split()
        if len(words) < 2:
            continue
        if words[0] == 'nameserver' and _is_address(words[1]):
            out['nameservers'].append(words[1])
        elif words[0] in ('search', 'domain'):
            out['search'] += [w for w in words[1:] if NAME.match(w)]
        elif words[0] == 'options':
            out['options'] += [w for w in words[1:] if TOKEN.match(w)]
    return out
