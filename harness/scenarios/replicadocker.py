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


def _rules(published, addrs):
    """The docker host's nat table (text for nft -f -); addrs: its own addresses."""
    pre, out = [], []
    mine = '{ ' + ', '.join(sorted(addrs)) + ' }'
    for p in published:
        if p['host_ip'] != '0.0.0.0':
            continue
        to = f'{p["proto"]} dport {p["host_port"]} dnat to {p["addr"]}:{p["port"]}'
        pre.append(f'        iifname != "{p["bridge"]}" ip daddr {mine} {to}')
        out.append(f'        ip daddr {mine} {to}')
    return ('table ip bindlab_docker {\n    chain prerouting {\n        type nat hook '
            'prerouting priority dstnat; policy accept;\n' + '\n'.join(pre) +
            '\n    }\n    chain output {\n        type nat hook output priority -100; '
            'policy accept;\n' + '\n'.join(out) + '\n    }\n}\n')


def _cases(p, names, gateways, peers):
    """The connects that show one published TCP port."""
    host, ctr = names[0], names[p['container']]
    everywhere = p['host_ip'] == '0.0.0.0'
    ok = explicit('OK', f'{p["host_ip"]}:{p["host_port"]} is published to {ctr} '
                        f'{p["addr"]}:{p["port"]}', peer=ctr)
    refused = explicit('ECONNREFUSED', f'published on {p["host_ip"]} only')
    cases = [connect(host, '127.0.0.1', p['host_port'], ok)]
    gw = gateways.get(p['bridge'])
    if gw:
        cases.append(connect(host, gw, p['host_port'], ok if everywhere else refused))
        cases += [connect(names[i], gw, p['host_port'], ok if everywhere else refused)
                  for i in peers.get(p['bridge'], ())]
    return cases


def published_ports(scenario, published, gateways, peers):
    """scenario (a replica whose first host is the docker host) with its published
    ports: gateways {bridge: its IPv4 gateway}, peers {bridge: [host index]}."""
    names, missing = scenario.replica.hosts, list(scenario.replica.not_reproduced)
    servers, cases, stand_ins, kept = list(scenario.servers), [], set(), []
    for p in published:
        what = (f'published {p["host_ip"]}:{p["host_port"]}/{p["proto"]} -> '
                f'{names[p["container"]]}:{p["port"]}')
        if p['addr'] is None or p['host_ip'] not in ('0.0.0.0', '127.0.0.1') or \
                p['port'] in OWN_PORTS or p['host_port'] in OWN_PORTS:
            missing.append({'what': what, 'why': 'an IPv6 or other host address, a '
                            'container without IPv4, or a port the matrices use'})
            continue
        kept.append(p)
        key = (p['container'], p['proto'], p['port'])
        if key not in stand_ins:
            stand_ins.add(key)
            servers.append(Server(names[p['container']], '0.0.0.0', p['port'], p['proto']))
            missing.append({'what': f'{names[p["container"]]} {p["proto"]} listener '
                            f'0.0.0.0:{p["port"]}', 'why': 'assumed: docker inspect does '
                            'not say what listens in a container'})
        if p['proto'] == 'tcp':
            servers.append(Server(names[0], p['host_ip'], p['host_port'],
                                  proxy_to=f'{p["addr"]}:{p["port"]}'))
            cases += _cases(p, names, gateways, peers)
        else:
            missing.append({'what': what, 'why': 'UDP: DNAT only, no userland proxy'})
    setup = scenario.setup
    if any(p['host_ip'] == '0.0.0.0' for p in kept) and gateways:
        setup += (nft(names[0], _rules(kept, set(gateways.values())), why='publish the ports with '
                      'DNAT, as Docker does'),)
    plan = replace(scenario.replica, extra=tuple(cases), not_reproduced=tuple(missing))
    return replace(scenario, setup=setup, servers=tuple(servers), replica=plan)
