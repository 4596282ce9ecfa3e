"""A containerlab topology file (`run --from-clab FILE.clab.yml`) as snapshots.

Read as hostile input (yaml.safe_load, every field used checked; BadInput naming
the file and the field):

    linux nodes     one host each, with the interfaces its links name (eth1, ...)
                    and what the `exec` lines give it: `ip [-4|-6] addr|address add
                    CIDR dev IF [nodad]`, `ip [-6] route add DST via GW [dev IF]`,
                    `sysctl -w KEY=VALUE` of the bind sysctls, `ip link set IF up`
    bridge nodes    (kind bridge or ovs-bridge) no host: the links to one bridge are
                    one segment
    links           a link between two linux nodes is a segment of its own; so the
                    replica's switches follow the file's links, not the subnets

Listed as not reproducible: nodes of other kinds (a router image, a NOS: their links
are left with the linux end alone on its segment), containerlab's management
network (eth0), and every exec line that is not one of the above.
The result: [(node, snapshot)], the segments [[(snapshot index, interface)]], and
what is not reproduced.
"""

import ipaddress
import re

from ..errors import BadInput, UsageError
from ..files import read_bytes
from .docker import _addr, _iface, _route, _snapshot
from .schema import Check, GLOBAL_SYSCTLS, MAX_SNAPSHOT_BYTES

BRIDGES = ('bridge', 'ovs-bridge')
NODE = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z')
ADDR_ADD = re.compile(r'ip (?:-(4|6) )?addr(?:ess)? add (\S+) dev (\S+)( nodad)?\Z')
ROUTE_ADD = re.compile(r'ip (?:-(4|6) )?route add (\S+) via (\S+)(?: dev (\S+))?\Z')
SYSCTL = re.compile(r'sysctl (?:-q )?-w ([a-z0-9_.]+)=(\S+)\Z')
LINK_UP = re.compile(r'ip link set (?:dev )?(\S+) up\Z')


def _load(path):
    data = read_bytes(path, 'containerlab topology', cap=MAX_SNAPSHOT_BYTES)
    try:
        import yaml
    except ImportError:
        raise UsageError('--from-clab needs PyYAML: apt-get install python3-yaml') from None
    try:
        return yaml.safe_load(data.decode('utf-8'))
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        raise BadInput(f'{path}: not a YAML topology: {exc}') from None


def read_clab(path):
    """(snapshots [(node, snapshot)], segments, not reproduced [{what, why}])."""
    c = Check(path)
    doc = _load(path)
    if not isinstance(doc, dict) or not isinstance(doc.get('topology'), dict):
        c.fail('topology', 'missing or not a mapping')
    topo = doc['topology']
    default = (topo.get('defaults') or {}).get('kind') if isinstance(
        topo.get('defaults'), dict) else None
    nodes = topo.get('nodes')
    if not isinstance(nodes, dict) or not nodes:
        c.fail('topology.nodes', 'missing or empty')
    missing, kinds = [], {}
    for name, node in nodes.items():
        field = f'topology.nodes.{name}'
        if not isinstance(name, str) or not NODE.match(name):
            c.fail(field, 'not a node name')
        node = node or {}
        c.obj(node, field, (), tuple(node) if isinstance(node, dict) else ())
        kinds[name] = c.text(node.get('kind') or default or 'linux', f'{field}.kind',
                             limit=64)
        if kinds[name] not in ('linux',) + BRIDGES:
            missing.append({'what': f'node {name}', 'why': f'kind {kinds[name]}: not '
                            'reproducible here (only linux and bridge nodes)'})
    ends = links(c, topo.get('links') or [], kinds)
    hosts = [n for n in nodes if kinds[n] == 'linux']
    snaps = [(n, node_snapshot(c, n, nodes[n] or {}, ends, missing)) for n in hosts]
    return snaps, segments(ends, kinds, hosts), missing


def links(c, value, kinds):
    """[(node, iface), (node, iface)] of each link between known nodes."""
    out = []
    for field, link in c.items(value, 'topology.links'):
        c.obj(link, field, ('endpoints',), tuple(link) if isinstance(link, dict) else ())
        ends = []
        for f, end in c.items(link['endpoints'], f'{field}.endpoints'):
            node, _, iface = str(end).partition(':')
            if node not in kinds:
                c.fail(f, f'{str(end)[:60]!r}: no such node')
            ends.append((node, c.iface(iface, f)))
        if len(ends) != 2:
            c.fail(f'{field}.endpoints', 'a link has two endpoints')
        out.append(tuple(ends))
    return out


def segments(ends, kinds, hosts):
    """[[(host index, iface)]]: a bridge's links one segment, any other link its own."""
    index = {h: n for n, h in enumerate(hosts)}
    by_bridge, out = {}, []
    for a, b in ends:
        linux = [(index[n], i) for n, i in (a, b) if kinds[n] == 'linux']
        bridge = [n for n, _i in (a, b) if kinds[n] in BRIDGES]
        if bridge:
            by_bridge.setdefault(bridge[0], []).extend(linux)
        else:
            out += [linux] if len(linux) == 2 else [[x] for x in linux]
    return out + [group for group in by_bridge.values() if group]


def node_snapshot(c, name, node, ends, missing):
    """A linux node's snapshot: its links' interfaces, with its exec lines' effect."""
    devs = [i for a, b in ends for n, i in (a, b) if n == name]
    addrs, routes, sysctls = {d: [] for d in devs}, [], {}
    for f, line in c.items(node.get('exec') or [], f'topology.nodes.{name}.exec'):
        text = ' '.join(c.text(line, f, limit=512).split())
        done = _exec(c, f, text, addrs, routes, sysctls)
        if not done:
            missing.append({'what': f'{name} exec {text[:80]!r}', 'why': 'not an address, '
                            'route or bind sysctl bindlab replicates'})
    missing.append({'what': f'{name} eth0', 'why': 'containerlab\'s management network: '
                    'not replicated'})
    ifaces = [_iface(d, n, None, addrs[d]) for n, d in enumerate(devs, 2)]
    return _snapshot(name, ifaces, routes, sysctls, [])


def _exec(c, f, text, addrs, routes, sysctls):
    """Apply one exec line to the node's data; False when it is none bindlab keeps."""
    m = ADDR_ADD.match(text)
    if m and m.group(3) in addrs:
        try:
            iface = ipaddress.ip_interface(m.group(2))
        except ValueError:
            c.fail(f, f'{m.group(2)[:60]!r} is not an address with its prefix length')
        addrs[m.group(3)].append(_addr(str(iface.ip), iface.network.prefixlen,
                                       ['nodad'] if m.group(4) else []))
        return True
    m = ROUTE_ADD.match(text)
    if m:
        dst = '0.0.0.0/0' if m.group(2) == 'default' and m.group(1) != '6' else \
            '::/0' if m.group(2) == 'default' else m.group(2)
        try:
            ipaddress.ip_network(dst, strict=False)
        except ValueError:
            c.fail(f, f'{dst[:60]!r} is not a prefix')
        dst = str(ipaddress.ip_network(dst, strict=False))
        if m.group(4) is not None and m.group(4) not in addrs:
            return False
        routes.append(_route(dst, c.address(m.group(3), f), m.group(4)))
        return True
    m = SYSCTL.match(text)
    if m and m.group(1) in GLOBAL_SYSCTLS:
        sysctls[m.group(1)] = m.group(2)
        return True
    return bool(LINK_UP.match(text))
