"""Docker's own description of a network as snapshots (`run --from-docker FILE...`).

Each FILE is what `docker network inspect NET...` or `docker inspect CONTAINER...`
prints (a JSON list; both kinds may be in one file).  Read as hostile input: every
field used is checked, a bad one is BadInput naming the file and the field.

    the docker host   one host, `docker-host`, holding each bridge network's gateway
                      addresses on an interface named as Docker names the bridge
                      (docker0, br-<id>), forwarding
    a container       one host, named after the container, with eth0, eth1, ... on
                      its networks (address, prefix, MAC, IPv6 when the network has
                      it), its default route via its first network's gateway (none on
                      an internal network), IPv6 disabled when no network has it
    published ports   (host address, host port, proto, container, its address, its
                      port): harness/scenarios/replicadocker.py makes them Docker's
                      DNAT rules and userland proxy

The result is a list of snapshots (schema.py, each checked as if read from a file)
plus the published ports and what could not be described (other drivers, a container
on the host's network, listeners: docker inspect does not say what listens).
"""

import ipaddress
import json
import re

from .. import __version__
from ..errors import BadInput
from ..files import read_bytes
from .checks import check_snapshot
from .schema import Check, FORMAT, MAC, MAX_SNAPSHOT_BYTES, VERSION

LOOPBACK = {'name': 'lo', 'index': 1, 'kind': 'loopback', 'mac': '00:00:00:00:00:00',
            'mtu': 65536, 'up': True, 'carrier': True, 'operstate': 'UNKNOWN',
            'master': None, 'sysctls': {},
            'addresses': [{'family': 'inet', 'address': '127.0.0.1', 'prefixlen': 8,
                           'scope': 'host', 'flags': [], 'label': None, 'peer': None},
                          {'family': 'inet6', 'address': '::1', 'prefixlen': 128,
                           'scope': 'host', 'flags': [], 'label': None, 'peer': None}]}


def read_docker(paths):
    """(snapshots [(label, snapshot)], published [dict], not described [{what, why}])."""
    networks, containers = [], []
    for path in paths:
        data = read_bytes(path, 'docker inspect output', cap=MAX_SNAPSHOT_BYTES)
        try:
            items = json.loads(data.decode('utf-8'))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise BadInput(f'{path}: not docker inspect JSON: {exc}') from None
        c = Check(path)
        for field, item in c.items(items, 'the list'):
            c.obj(item, field, (), tuple(item) if isinstance(item, dict) else ())
            if 'IPAM' in item:
                networks.append(network(c, item, field))
            elif 'NetworkSettings' in item:
                containers.append(container(c, item, field))
            else:
                c.fail(field, 'neither a network (IPAM) nor a container (NetworkSettings)')
    return describe(networks, containers)


def _get(c, obj, field, key, kind, none=False):
    value = obj.get(key)
    if value is None and none:
        return None
    if not isinstance(value, kind):
        c.fail(f'{field}.{key}', f'missing or not {kind.__name__}')
    return value


def network(c, item, field):
    """The fields of one `docker network inspect` entry that a replica uses."""
    name = c.text(_get(c, item, field, 'Name', str), f'{field}.Name', limit=128)
    net = {'name': name, 'id': c.text(_get(c, item, field, 'Id', str), f'{field}.Id',
                                      limit=128),
           'driver': c.text(_get(c, item, field, 'Driver', str), f'{field}.Driver',
                            limit=64),
           'ipv6': bool(item.get('EnableIPv6')), 'internal': bool(item.get('Internal')),
           'subnets': []}
    opts = _get(c, item, field, 'Options', dict, none=True) or {}
    bridge = opts.get('com.docker.network.bridge.name') or f'br-{net["id"][:12]}'
    net['bridge'] = c.iface(bridge, f'{field}.Options.com.docker.network.bridge.name')
    ipam = _get(c, item, field, 'IPAM', dict)
    for f, conf in c.items(_get(c, ipam, f'{field}.IPAM', 'Config', list, none=True)
                           or [], f'{field}.IPAM.Config'):
        subnet = c.prefix(_get(c, conf, f, 'Subnet', str), f'{f}.Subnet')
        gateway = c.address(conf.get('Gateway'), f'{f}.Gateway', none=True)
        net['subnets'].append((ipaddress.ip_network(subnet, strict=False), gateway))
    return net


def container(c, item, field):
    """The fields of one `docker inspect` entry that a replica uses."""
    name = c.text(_get(c, item, field, 'Name', str), f'{field}.Name', limit=128)
    settings = _get(c, item, field, 'NetworkSettings', dict)
    host = _get(c, item, field, 'HostConfig', dict, none=True) or {}
    out = {'name': name.lstrip('/'), 'mode': str(host.get('NetworkMode') or ''),
           'networks': [], 'ports': []}
    for net_name, n in (_get(c, settings, f'{field}.NetworkSettings', 'Networks', dict,
                             none=True) or {}).items():
        f = f'{field}.NetworkSettings.Networks.{net_name}'
        c.obj(n, f, (), tuple(n) if isinstance(n, dict) else ())
        entry = {'network': net_name, 'mac': n.get('MacAddress') or None}
        for key, plen, gw in (('IPAddress', 'IPPrefixLen', 'Gateway'),
                              ('GlobalIPv6Address', 'GlobalIPv6PrefixLen', 'IPv6Gateway')):
            addr = c.address(n.get(key) or None, f'{f}.{key}', none=True)
            entry[key] = None if addr is None else (
                addr, c.integer(n.get(plen), f'{f}.{plen}', high=128))
            entry[gw] = c.address(n.get(gw) or None, f'{f}.{gw}', none=True)
        if entry['mac'] is not None:
            c.text(entry['mac'], f'{f}.MacAddress', limit=17)
        out['networks'].append(entry)
    ports = _get(c, settings, f'{field}.NetworkSettings', 'Ports', dict, none=True) or {}
    for key, binds in ports.items():
        f = f'{field}.NetworkSettings.Ports.{key}'
        port, _, proto = str(key).partition('/')
        if proto not in ('tcp', 'udp') or not port.isdigit() or not 0 < int(port) < 65536:
            c.fail(f, 'not PORT/tcp or PORT/udp')
        for g, b in c.items(binds or [], f):
            host_ip = c.address(b.get('HostIp') or '0.0.0.0', f'{g}.HostIp')
            host_port = str(b.get('HostPort'))
            if not host_port.isdigit() or not 0 < int(host_port) < 65536:
                c.fail(f'{g}.HostPort', f'{host_port!r} is not a port')
            out['ports'].append((proto, int(port), host_ip, int(host_port)))
    return out


def _addr(address, prefixlen, flags=()):
    family = 'inet6' if ':' in address else 'inet'
    return {'family': family, 'address': address, 'prefixlen': prefixlen,
            'scope': 'global', 'flags': list(flags), 'label': None, 'peer': None}


def _iface(name, index, mac, addresses, kind='veth'):
    return {'name': name, 'index': index, 'kind': kind, 'mac': mac, 'mtu': 1500,
            'up': True, 'carrier': True, 'operstate': 'UP', 'master': None,
            'addresses': addresses, 'sysctls': {}}


def _route(dst, gateway, dev):
    return {'family': 'inet6' if ':' in dst else 'inet', 'table': 'main',
            'type': 'unicast', 'dst': dst, 'gateway': gateway, 'dev': dev, 'src': None,
            'metric': None, 'protocol': 'boot', 'scope': 'global', 'flags': []}


def _snapshot(hostname, interfaces, routes, sysctls, unreadable):
    snap = {'format': FORMAT, 'version': VERSION, 'taken': 'docker-inspect',
            'bindlab': __version__, 'redacted': False,
            'host': {'hostname': hostname, 'kernel': 'docker'},
            'interfaces': [LOOPBACK] + interfaces, 'routes': routes, 'rules': [],
            'neighbours': [], 'listeners': [], 'sysctls': sysctls, 'hosts': [],
            'resolv': {'nameservers': [], 'search': [], 'options': []},
            'unreadable': unreadable}
    check_snapshot(snap, f'the description of {hostname}')
    return snap


def docker_host(bridges):
    """The docker host's snapshot: each bridge network's gateways, forwarding."""
    ifaces = []
    for n, net in enumerate(bridges, 2):
        addrs = [_addr(gw, sub.prefixlen, ['nodad'] if sub.version == 6 else [])
                 for sub, gw in net['subnets'] if gw]
        ifaces.append(_iface(net['bridge'], n, None, addrs, 'bridge'))
    sysctls = {'net.ipv4.ip_forward': '1'}
    if any(net['ipv6'] for net in bridges):
        sysctls['net.ipv6.conf.all.forwarding'] = '1'
    return _snapshot('docker-host', ifaces, [], sysctls, [])


def container_snapshot(ctr, bridges):
    """A container's snapshot on the bridge networks it is attached to."""
    ifaces, routes = [], []
    for entry in ctr['networks']:
        net = bridges[entry['network']]
        dev = f'eth{len(ifaces)}'
        addrs = [_addr(*entry['IPAddress'])] if entry['IPAddress'] else []
        if entry['GlobalIPv6Address'] and net['ipv6']:
            addrs.append(_addr(*entry['GlobalIPv6Address'], ['nodad']))
        mac = entry['mac'] if entry['mac'] and MAC.match(entry['mac']) else None
        ifaces.append(_iface(dev, len(ifaces) + 2, mac, addrs))
        for gw, dst in ((entry['Gateway'], '0.0.0.0/0'), (entry['IPv6Gateway'], '::/0')):
            if gw and not net['internal'] and not any(r['dst'] == dst for r in routes):
                routes.append(_route(dst, gw, dev))
    sysctls = {}
    if not any(bridges[e['network']]['ipv6'] for e in ctr['networks']):
        sysctls = {'net.ipv6.conf.all.disable_ipv6': '1',
                   'net.ipv6.conf.default.disable_ipv6': '1'}
    hostname = re.sub(r'[^A-Za-z0-9.-]', '-', ctr['name'])[:63] or 'container'
    return _snapshot(hostname, ifaces, routes, sysctls, [{
        'what': 'listeners', 'why': 'docker inspect does not say what listens in a '
                                    'container'}])


def gateways(bridges, containers):
    """Each bridge subnet's gateway: IPAM's, else what its containers say theirs is
    (`docker network inspect` leaves it out of a network made with --subnet alone),
    else Docker's default, the subnet's first address."""
    said = {}
    for ctr in containers:
        for e in ctr['networks']:
            for gw in (e['Gateway'], e['IPv6Gateway']):
                if gw:
                    said.setdefault(e['network'], []).append(ipaddress.ip_address(gw))
    for net in bridges.values():
        subnets = []
        for sub, gw in net['subnets']:
            if not gw:
                gw = next((str(a) for a in said.get(net['name'], ()) if a in sub),
                          str(next(sub.hosts(), sub.network_address)))
            subnets.append((sub, gw))
        net['subnets'] = subnets


def describe(networks, containers):
    """(snapshots, published ports, not described) of Docker's description."""
    missing = []
    bridges = {n['name']: n for n in networks if n['driver'] == 'bridge'}
    gateways(bridges, containers)
    for n in networks:
        if n['driver'] != 'bridge':
            missing.append({'what': f'network {n["name"]}', 'why': f'driver {n["driver"]}: '
                            'only bridge networks are replicated'})
    snaps = [('docker-host', docker_host(list(bridges.values())))]
    published = []
    for ctr in containers:
        if ctr['mode'] in ('host', 'none') or ctr['mode'].startswith('container:'):
            missing.append({'what': f'container {ctr["name"]}', 'why': f'network mode '
                            f'{ctr["mode"]}: no network of its own to replicate'})
            continue
        unknown = [e['network'] for e in ctr['networks'] if e['network'] not in bridges]
        for name in unknown:
            missing.append({'what': f'container {ctr["name"]} on {name}',
                            'why': 'not a bridge network given in the files'})
        ctr = dict(ctr, networks=[e for e in ctr['networks'] if e['network'] in bridges])
        if not ctr['networks']:
            continue
        snaps.append((ctr['name'], container_snapshot(ctr, bridges)))
        first = ctr['networks'][0]
        for proto, port, host_ip, host_port in ctr['ports']:
            published.append({'container': len(snaps) - 1, 'proto': proto, 'port': port,
                              'host_ip': host_ip, 'host_port': host_port,
                              'addr': (first['IPAddress'] or (None,))[0],
                              'bridge': bridges[first['network']]['bridge']})
    return snaps, published, missing
