"""netdump: build one scenario's network with one builder and print what it is, as JSON.

    /usr/bin/python3 tests/netdump.py --builder fast|mininet
        (--scenario NAME | --topo SPEC | --scale N)

The network is built, set up and made ready as a run does it (runner.LiveNetwork:
build, setup steps, ping and TCP readiness, faults), then every host's links,
addresses, routes (all tables) and neighbours are read with `ip -j`, and the root
namespace's part of the network (the switch-side veth ends and the bridges, with
what each is enslaved to), then it is torn down.  tests/test_builder.py compares the
output of the two builders.

What differs between two builds of the same network by design is normalised away:
ifindexes and namespace ids, counters, timers, lifetimes, the run's id in the marks,
and the MACs that Mininet draws at random (every link end whose MAC the topology does
not name: Mininet.addLink's randMac), each replaced by a label naming its interface,
with the IPv6 link-local address derived from it.  A neighbour's state (REACHABLE,
STALE, DELAY) depends on timing; whether it is PERMANENT does not, and is kept.  A
dynamic neighbour at an IPv6 link-local address is left out: it is learnt from the
kernel's own unsolicited traffic (a root-namespace veth end's router solicitation
reaching a router host), which arrives a second or more after the link went up,
however fast that was.  Likewise a link-local address's DAD is waited out (it ends a
second or so after its link went up) before anything is read.
Needs root; takes the run lock like a harness run (run it under the Mininet flock).
"""

import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from harness.scenarios import derive  # noqa: E402
from harness import probe  # noqa: E402
from harness.report import results  # noqa: E402
from harness.scenarios import suite  # noqa: E402
from harness.ledger.ifaces import interface_attr  # noqa: E402
from harness.runner import LiveNetwork  # noqa: E402
from harness.net.session import Session  # noqa: E402
from topologies.scale import scale_scenario  # noqa: E402

DROP = {'ifindex', 'link_index', 'link_netnsid', 'stats', 'stats64', 'valid_life_time',
        'preferred_life_time', 'num_tx_queues', 'num_rx_queues', 'bridge_id', 'root_id',
        'designated_root', 'designated_bridge', 'id', 'no', 'root_port', 'used',
        'probes', 'router', 'linkinfo', 'info_slave_data'}
IDENTITY = ('ifname', 'family', 'local', 'table', 'type', 'dst', 'dev', 'protocol',
            'scope', 'prefsrc')
BRIDGE_UP_S = 3.0
DAD_S = 5.0
HOST_DUMPS = {'links': ['ip', '-j', '-d', 'link', 'show'],
              'addrs': ['ip', '-j', 'addr', 'show'],
              'routes4': ['ip', '-j', '-4', 'route', 'show', 'table', 'all'],
              'routes6': ['ip', '-j', '-6', 'route', 'show', 'table', 'all'],
              'neighbours': ['ip', '-j', 'neigh', 'show']}


def scenario_of(args):
    if args.scenario:
        return suite.find(args.scenario)
    if args.topo:
        return derive.derived(args.topo, ())
    return scale_scenario(args.scale, name=f'scale-{args.scale}')


def eui64(mac):
    """The IPv6 link-local address the kernel derives from mac (EUI-64)."""
    b = [int(x, 16) for x in mac.split(':')]
    b[0] ^= 2
    words = [b[0] << 8 | b[1], b[2] << 8 | 0xff, 0xfe << 8 | b[3], b[4] << 8 | b[5]]
    return 'fe80::' + ':'.join(f'{w:x}' for w in words)


def random_macs(net):
    """{MAC: label} of every link end whose MAC the topology did not name."""
    named = {h.params.get('mac') for h in net.hosts}
    for link in net.links:
        for intf in (link.intf1, link.intf2):
            named.add((getattr(intf, 'params', None) or {}).get('mac'))
    out = {}
    for link in net.links:
        for intf in (link.intf1, link.intf2):
            mac = intf.MAC() if intf.node.inNamespace else interface_attr(intf.name, 'address')
            if mac and mac not in named:
                out[mac] = f'random-mac-of-{intf.name}'
    return out


def clean(value, run_id):
    """value without the fields that differ between builds by design (see module)."""
    if isinstance(value, dict):
        out = {k: clean(v, run_id) for k, v in value.items()
               if k not in DROP and not k.endswith('_timer')}
        if 'linkinfo' in value:                 # the kind (veth, bridge) only
            out['kind'] = value['linkinfo'].get('info_kind')
        if out.get('state') and out.get('dst') is not None:      # a neighbour
            out['state'] = ['PERMANENT'] if 'PERMANENT' in out['state'] else ['dynamic']
        return out
    if isinstance(value, list):
        return sorted((clean(v, run_id) for v in value), key=identity)
    if isinstance(value, str):
        return value.replace(run_id, 'RUN')
    return value


def identity(item):
    """What an entry of an `ip -j` list is (its name, destination, address), as a
    sort key that no random MAC reaches."""
    if not isinstance(item, dict):
        return json.dumps(item, sort_keys=True)
    return json.dumps([item.get(k) for k in IDENTITY], sort_keys=True)


def relabel(text, labels):
    """text with each random MAC (and its EUI-64 link-local address) named by label."""
    for mac, label in labels.items():
        text = text.replace(mac, label).replace(eui64(mac), 'fe80::' + label)
    return text


def await_bridges_up(net, seconds=BRIDGE_UP_S):
    """Wait until no bridge's operstate is UNKNOWN: the kernel's linkwatch reports a
    new bridge's carrier up to a second late, however it was built."""
    deadline = time.monotonic() + seconds
    for switch in net.switches:
        path = f'/sys/class/net/{switch.name}/operstate'
        while os.path.exists(path) and time.monotonic() < deadline:
            with open(path) as f:
                if f.read().strip() != 'unknown':
                    break
            time.sleep(0.05)


def await_link_local_dad(net, seconds=DAD_S):
    """Wait until no host's link-local address is still tentative: its DAD ends a
    second or so after the link went up, so when it is over depends on how long the
    build took, not on what was built (an address the scenario keeps tentative on
    purpose is global and is compared as it is)."""
    deadline = time.monotonic() + seconds
    for host in net.hosts:
        while time.monotonic() < deadline and \
                host.cmd('ip', '-6', 'addr', 'show', 'scope', 'link', 'tentative').strip():
            time.sleep(0.05)


def dump(net, run_id, labels):
    """{host: {links, addrs, routes4, routes6, neighbours}, 'root': [...]}, cleaned.
    Random MACs are relabelled (labels: random_macs) before anything is sorted: an
    entry sorted by its random link-local address landed in a random place."""
    out = {}
    for host in net.hosts:
        out[host.name] = {what: clean(json.loads(relabel(host.cmd(*argv), labels) or '[]'),
                                      run_id)
                          for what, argv in HOST_DUMPS.items()}
        out[host.name]['neighbours'] = [
            n for n in out[host.name]['neighbours']
            if not (str(n.get('dst')).startswith('fe80:') and n['state'] == ['dynamic'])]
    ours = {i.name for link in net.links for i in (link.intf1, link.intf2)
            if not i.node.inNamespace} | {s.name for s in net.switches}
    res = subprocess.run(['ip', '-j', 'link', 'show'], capture_output=True, text=True,
                         check=True)
    root = [link for link in json.loads(relabel(res.stdout, labels))
            if link.get('ifname') in ours]
    for link in root:
        if link['ifname'] in {s.name for s in net.switches}:
            link['address'] = 'bridge'      # the lowest port's MAC: random in both
    out['root'] = clean(root, run_id)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--builder', required=True, choices=('fast', 'mininet'))
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument('--scenario')
    what.add_argument('--topo')
    what.add_argument('--scale', type=int)
    args = parser.parse_args()
    scenario = scenario_of(args)
    run_id = results.new_run_id()
    log = lambda msg: print(f'netdump: {msg}', file=sys.stderr)  # noqa: E731
    with Session('lxbr', log, run_id) as session:
        with LiveNetwork(scenario, session.switch, session.state, probe.netprobe_path(),
                         log, args.builder) as live:
            if live.problem:
                print(f'netdump: {live.problem}', file=sys.stderr)
                return 1
            await_bridges_up(live.net)
            await_link_local_dad(live.net)
            text = json.dumps({'builder': live.built_by,
                               'dump': dump(live.net, run_id, random_macs(live.net))},
                              indent=1, sort_keys=True)
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
