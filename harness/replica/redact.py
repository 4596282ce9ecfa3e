"""`snapshot --redact`: a snapshot fit for a bug report.  Addresses relabelled by
addrmap.py; interface names by kind (eth0, eth1, veth0, br0, wg0, ...; `lo` kept);
host and domain names as host1, host2 and domain1.example (localhost and its kin
kept; letters in any case one name, as to a resolver, so that the hostname and the
/etc/hosts lines naming it keep their link); MACs as locally administered
02:00:00:00:00:01, ...  Each table is one per snapshot, so the same input always
gives the same label everywhere in the file."""

import copy
import ipaddress
import re

from .addrmap import AddressMap

KIND_PREFIX = {'ether': 'eth', 'veth': 'veth', 'bridge': 'br', 'vlan': 'vlan',
               'bond': 'bond', 'wireguard': 'wg', 'tun': 'tun', 'none': 'tun',
               'macvlan': 'macvlan', 'ipvlan': 'ipvlan', 'vxlan': 'vxlan',
               'dummy': 'dummy', 'openvswitch': 'ovs', 'gre': 'gre', 'ipip': 'ipip',
               'sit': 'sit', 'vrf': 'vrf'}
KEPT_NAMES = {'localhost', 'localhost.localdomain', 'localdomain', 'ip6-localhost',
              'ip6-loopback', 'ip6-localnet', 'ip6-mcastprefix', 'ip6-allnodes',
              'ip6-allrouters', 'ip6-allhosts', 'broadcasthost'}
MAC_WORD = re.compile(r'[0-9a-f]{2}(:[0-9a-f]{2}){5,31}\Z')
KEPT_MACS = {'00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff'}


class Labels:
    """The tables of one redaction: interface names, host names, domains, MACs."""

    def __init__(self):
        self.ifaces, self.hosts, self.domains, self.macs = {'lo': 'lo'}, {}, {}, {}
        self.tails = {}
        self.counts = {}

    def iface(self, name, kind=None):
        if name is None:
            return None
        if name not in self.ifaces:
            prefix = KIND_PREFIX.get(kind, 'if')
            n = self.counts.get(prefix, 0)
            self.counts[prefix] = n + 1
            self.ifaces[name] = f'{prefix}{n}'
        return self.ifaces[name]

    def label(self, label):
        """An IPv4 address label (eth0:vip): its interface's name, the rest numbered."""
        if label is None:
            return None
        head, _, tail = label.partition(':')
        return self.iface(head) + (':' + self._table(self.tails, tail, 'a')
                                   if tail else '')

    def name(self, name):
        """A host name's label: its first label a host's (one a kept name stays) and
        its domain a domain's; letters in any case are one name, as to a resolver
        (so `Web1` and `web1.example.com` keep their first label in common)."""
        if name in KEPT_NAMES or name.lower() in KEPT_NAMES:
            return name
        first, dot, rest = name.partition('.')
        head = first if first.lower() in KEPT_NAMES else \
            self._table(self.hosts, first.lower(), 'host')
        return head + ('.' + self.domain(rest) if dot else '')

    def domain(self, domain):
        if domain in KEPT_NAMES:
            return domain
        return self._table(self.domains, domain.rstrip('.').lower(), 'domain') + '.example'

    def mac(self, mac):
        if mac is None or mac in KEPT_MACS or ':' not in mac:
            return mac
        if mac not in self.macs:
            width = len(mac.split(':'))
            n = len(self.macs) + 1
            self.macs[mac] = ':'.join(['02'] + [f'{(n >> (8 * k)) & 255:02x}'
                                                for k in reversed(range(width - 1))])
        return self.macs[mac]

    @staticmethod
    def _table(table, key, stem):
        if key not in table:
            table[key] = f'{stem}{len(table) + 1}'
        return table[key]


def redact_snapshot(snap):
    """A redacted copy of a snapshot (checked: schema.py), snap itself untouched."""
    out, labels, addrs = copy.deepcopy(snap), Labels(), AddressMap()
    subnets = []
    for iface in out['interfaces']:
        labels.iface(iface['name'], iface['kind'])
        for a in iface['addresses']:
            subnets.append(addrmap_net(a['address'], a['prefixlen']))
    for net in sorted(subnets, key=lambda n: (n.version, n.prefixlen, n)):
        addrs.add_subnet(net)
    _interfaces(out['interfaces'], labels, addrs)
    _routing(out, labels, addrs)
    for x in out['listeners']:
        x['address'] = addrs.address(x['address'])
        x['device'] = labels.iface(x['device'])
    for h in out['hosts']:
        h['address'] = _scoped(h['address'], labels, addrs)
        h['names'] = [labels.name(n) for n in h['names']]
    resolv = out['resolv']
    resolv['nameservers'] = [_scoped(s, labels, addrs) for s in resolv['nameservers']]
    resolv['search'] = [labels.domain(d) for d in resolv['search']]
    out['host']['hostname'] = labels.name(out['host']['hostname'])
    _unreadable(out['unreadable'], labels, addrs)
    out['redacted'] = True
    return out


def addrmap_net(address, prefixlen):
    return ipaddress.ip_network(f'{address}/{prefixlen}', strict=False)


def _scoped(text, labels, addrs):
    addr, pct, scope = text.partition('%')
    return addrs.address(addr) + (pct + labels.iface(scope) if pct else '')


def _interfaces(interfaces, labels, addrs):
    for iface in interfaces:
        iface['name'] = labels.iface(iface['name'])
        iface['master'] = labels.iface(iface['master'])
        if iface['mac'] and ':' in iface['mac']:
            iface['mac'] = labels.mac(iface['mac'])
        elif iface['mac']:
            iface['mac'] = addrs.address(iface['mac'])
        for a in iface['addresses']:
            a['address'] = addrs.address(a['address'])
            a['peer'] = a['peer'] and addrs.address(a['peer'])
            a['label'] = labels.label(a["label"])


def _routing(out, labels, addrs):
    for r in out['routes']:
        r['dst'] = addrs.network(r['dst'])
        r['gateway'] = r['gateway'] and addrs.address(r['gateway'])
        r['src'] = r['src'] and addrs.address(r['src'])
        r['dev'] = labels.iface(r['dev'])
        for hop in r.get('nexthops', []):
            hop['gateway'] = hop['gateway'] and addrs.address(hop['gateway'])
            hop['dev'] = labels.iface(hop['dev'])
    for r in out['rules']:
        r['src'] = r['src'] and addrs.network(r['src'])
        r['dst'] = r['dst'] and addrs.network(r['dst'])
        r['iif'] = labels.iface(r['iif'])
        r['oif'] = labels.iface(r['oif'])
    for n in out['neighbours']:
        n['address'] = addrs.address(n['address'])
        n['dev'] = labels.iface(n['dev'])
        n['mac'] = labels.mac(n['mac'])


_ADDRESS_OR_MAC = re.compile(r'(?<![\w:.])[0-9A-Fa-f:.]*[:.][0-9A-Fa-f:.]*(?![\w:.])')


def _unreadable(entries, labels, addrs):
    """The words of what could not be read may name interfaces, addresses and MACs
    (a route ip printed that could not be kept): their labels instead."""
    names = sorted((n for n in labels.ifaces if n != 'lo'), key=len, reverse=True)
    pattern = re.compile(r'(?<![\w.-])(' + '|'.join(map(re.escape, names)) +
                         r')(?![\w.-])') if names else None
    for u in entries:
        for key in ('what', 'why'):
            text = _ADDRESS_OR_MAC.sub(lambda m: _relabel(m.group(0), labels, addrs),
                                       u[key])
            u[key] = pattern.sub(lambda m: labels.ifaces[m.group(1)], text) \
                if pattern else text


def _relabel(word, labels, addrs):
    if MAC_WORD.match(word.lower()):
        return labels.mac(word.lower())
    try:
        return addrs.address(word)
    except ValueError:
        return word
