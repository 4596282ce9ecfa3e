"""Published ports of a Docker replica (`run --from-docker`): the replica of Docker's
description (harness/replica/docker.py: the docker host and its containers as
snapshots, replica.py makes them a scenario) with what `docker run -p` adds, made as
the docker-bridge scenario makes it:

    DNAT        on the docker host, one rule a published port: in `prerouting` for
                what comes to one of its addresses from elsewhere than the
                container's bridge, in `output` for its own connects to its
                non-loopback addresses (Docker's rules)
    proxy       a userland proxy (netprobe serve --proxy-to, docker-proxy's
                behaviour) on the published address and port: it gets the rest (the
                host's loopback, containers on the bridge)
    service     a netprobe server in the container on its port (docker inspect does
                not say what listens there: assumed, and listed)
    cases       the host to 127.0.0.1 and to the bridge's gateway, every container
                on that bridge to the gateway: each answered by the container (a port
                published on 127.0.0.1 only: ECONNREFUSED from the containers)
"""

import ipaddress
from dataclasses import replace

from .builders import connect, explicit, nft
from .model import Server
from .replica import from_snapshots
from .replicasteps import OWN_PORTS


def from_docker(snaps, published, missing):
    """The Scenario replicating Docker's description (harness/replica/docker.py:
    snapshots, the first the docker host's; published ports; what it does not
    describe, listed)."""
    scenario = from_snapshots(snaps)
    gateways, peers = {}, {}
    for iface in snaps[0][1]['interfaces'][1:]:
        v4 = [a for a in iface['addresses'] if a['family'] == 'inet']
        if not v4:
            continue
        gateways[iface['name']] = v4[0]['address']
        net = ipaddress.ip_interface(f'{v4[0]["address"]}/{v4[0]["prefixlen"]}').network
        peers[iface['name']] = [n for n, (_l, snap) in enumerate(snaps[1:], 1) if any(
            ipaddress.ip_address(a['address']) in net for i in snap['interfaces']
            for a in i['addresses'] if a['family'] == 'inet')]
    plan = replace(scenario.replica, not_reproduced=tuple(missing) +
                   scenario.replica.not_reproduced)
    source = '--from-docker: ' + ', '.join(label for label, _s in snaps)
    scenario = replace(scenario, replica=plan, source=source,
                       title=f'replica of a Docker host ({source})')
    return published_ports(scenario, published, gateways, peers)


def _rules(ports, addrs):
    """The docker host's nat table (text for nft -f -); addrs: its own addresses."""
    pre, out = [], []
    for (_c, proto, port, host_port), (ips, addr, bridge) in ports.items():
        daddr = sorted(addrs) if '0.0.0.0' in ips else sorted(ips - {'127.0.0.1'})
        if not daddr:
            continue
        to = f'ip daddr {{ {", ".join(daddr)} }} {proto} dport {host_port} dnat to ' \
             f'{addr}:{port}'
        pre.append(f'        iifname != "{bridge}" {to}')
        out.append(f'        {to}')
    return ('table ip bindlab_docker {\n    chain prerouting {\n        type nat hook '
            'prerouting priority dstnat; policy accept;\n' + '\n'.join(pre) +
            '\n    }\n    chain output {\n        type nat hook output priority -100; '
            'policy accept;\n' + '\n'.join(out) + '\n    }\n}\n')


def _cases(key, ips, names, gateway, peers):
    """The connects that show one published TCP port: the docker host to 127.0.0.1
    and to the bridge's gateway, the containers on that bridge to the gateway."""
    container, _proto, port, host_port = key
    ctr = names[container]

    def expect(target):
        if '0.0.0.0' in ips or target in ips:
            return explicit('OK', f'{target}:{host_port} is published to {ctr}:{port}',
                            peer=ctr)
        return explicit('ECONNREFUSED', f'published on {", ".join(sorted(ips))} only')
    cases = [connect(names[0], '127.0.0.1', host_port, expect('127.0.0.1'))]
    if gateway:
        cases += [connect(names[i], gateway, host_port, expect(gateway))
                  for i in [0] + list(peers)]
    return cases


def _kept(published, names, held, missing):
    """{(container, proto, port, host port): (host addresses, container address,
    bridge)} of the published ports the replica makes; the others listed."""
    ports = {}
    for p in published:
        what = (f'published {p["host_ip"]}:{p["host_port"]}/{p["proto"]} -> '
                f'{names[p["container"]]}:{p["port"]}')
        if p['addr'] is None or p['host_ip'] not in held or \
                p['port'] in OWN_PORTS or p['host_port'] in OWN_PORTS:
            missing.append({'what': what, 'why': 'an IPv6 address, one the docker host '
                            'does not hold here, a container without IPv4, or a port '
                            'the matrices use'})
            continue
        key = (p['container'], p['proto'], p['port'], p['host_port'])
        ports.setdefault(key, (set(), p['addr'], p['bridge']))[0].add(p['host_ip'])
    return ports


def published_ports(scenario, published, gateways, peers):
    """scenario (a replica whose first host is the docker host) with its published
    ports: gateways {bridge: its IPv4 gateway}, peers {bridge: [host index]}."""
    names, missing = scenario.replica.hosts, list(scenario.replica.not_reproduced)
    held = {'0.0.0.0', '127.0.0.1'} | set(gateways.values())
    ports = _kept(published, names, held, missing)
    servers, cases, stand_ins = list(scenario.servers), [], set()
    for key, (ips, addr, bridge) in ports.items():
        container, proto, port, host_port = key
        if (container, proto, port) not in stand_ins:
            stand_ins.add((container, proto, port))
            servers.append(Server(names[container], '0.0.0.0', port, proto))
            missing.append({'what': f'{names[container]} {proto} listener 0.0.0.0:{port}',
                            'why': 'assumed: docker inspect does not say what listens '
                                   'in a container'})
        if proto != 'tcp':
            missing.append({'what': f'published {host_port}/udp', 'why': 'DNAT only, no '
                            'userland proxy'})
            continue
        for ip in ({'0.0.0.0'} if '0.0.0.0' in ips else ips):
            servers.append(Server(names[0], ip, host_port, proxy_to=f'{addr}:{port}'))
        cases += _cases(key, ips, names, gateways.get(bridge), peers.get(bridge, ()))
    setup = scenario.setup
    if ports and gateways:
        setup += (nft(names[0], _rules(ports, set(gateways.values())),
                      why='publish the ports with DNAT, as Docker does'),)
    plan = replace(scenario.replica, extra=scenario.replica.extra + tuple(cases),
                   not_reproduced=tuple(missing))
    return replace(scenario, setup=setup, servers=tuple(servers), replica=plan)
