"""The bindlab builder: the network Mininet builds from a topology, made in batches.

BatchedMininet is a mininet.net.Mininet whose build(), start() and stop() end where
Mininet's own do -- the same host, interface and bridge names, MACs, addresses and
routes, the same Node, Intf and Link objects for the rest of the harness and for
Mininet's CLI -- but get there in batches instead of one command per interface:

    shells     every host and switch shell spawned at once (Mininet waits for each
               prompt before it spawns the next shell); the pty is set to no echo
               before the shell starts, which is what Mininet's `stty -echo` does.
    links      one `ip -batch` in the root namespace creates every veth pair, each
               end in its namespace with its final MAC; each root-namespace end is
               made under a temporary name, marked as this run's (harness/ledger/state.py)
               there, then renamed to its own name (see "Someone else's name").
    hosts      one `ip -batch` per host, sent to every host shell at once: lo and the
               interfaces up, the addresses, the default route.  A host class of the
               topology's own whose config() does more (a LinuxRouter) then gets
               Mininet's configDefault() as in Mininet's configHosts().
    switches   Linux bridges: one `ip -batch` (create under a temporary name, mark,
               enslave the ports, rename, up), then arp_ignore=8 on each (as the
               stock build does: ifaces.answer_no_arp);
               Open vSwitch: Mininet's own batch start (one ovs-vsctl transaction).
    teardown   every link and bridge deleted by one `ip -batch` that ends in one
               netlink request (nsbatch.delete_together; deleting veth
               by veth, as Mininet's Link.stop does, waits out an RCU grace period
               each; waiting for emptied namespaces to take their veths along can
               take seconds), then every shell hung up at once.
The primitives (shells spawned and awaited at once, ip batches, the teardown's
waits and deletions) are in nsbatch.py.

Mininet's semantics kept: an interface's address is the last one Mininet would set
(its link's params1/params2 ip=, then the host's ip= on its default interface, the
lowest port); a host's MAC goes on its default interface; `defaultRoute` is
`ip route add default <via ...>` or `dev <intf>`; a bridge enslaves the interfaces
whose name holds its own (LinuxBridge.start); a failed command is reported, not
fatal (Mininet ignores what its commands print).

Someone else's name: `ip -force -batch` runs a line also when the one before it
failed, so a mark set by name on the line after `link add NAME` would go on an
interface someone else created under NAME after the names check (and the teardown
would delete it).  So each root-namespace interface is created under a fresh
temporary name (recorded in the state file first, like every name), marked under it,
and then renamed and set up in one request (`link set dev TEMP name NAME up`): the
kernel refuses a rename onto a name that exists, so no line ever reaches another's
interface.  After each root batch the builder checks that every name is this run's;
one that is not fails the build with EnvError naming it, and the teardown removes the
stand-in left under its temporary name.

unsupported() names what a topology asks for that this builder does not implement;
network.build then uses Mininet's own build for that topology and says so in one line.
The state file keeps the stock build's guarantees: root-namespace names recorded
before anything is created (network.build), every shell recorded with its namespace
as soon as it answers (one write for all: State.batched).
"""

import itertools
import secrets

from mininet.link import Intf, Link
from mininet.net import Mininet
from mininet.node import Node, OVSSwitch
from mininet.nodelib import LinuxBridge

from ..errors import EnvError
from ..ledger import answer_no_arp, interface_alias, link_exists, run_mark
from .nsbatch import await_shells, delete_together, hang_up, run_batches
LINK_KEYS = {'node1', 'node2', 'port1', 'port2', 'key', 'intfName1', 'intfName2',
             'addr1', 'addr2', 'params1', 'params2'}
INTF_KEYS = {'ip', 'mac'}
OWN_METHODS = {'config', 'terminate'}       # what a topology's host class may override
DUNDER = {'__module__', '__qualname__', '__doc__', '__dict__', '__weakref__'}


# -- what this builder does not do ----------------------------------------------------

def unsupported(topo, host_cls, switch):
    """Why this builder cannot build topo exactly as Mininet would (text), or None.

    host_cls: the harness's host class (network.node_classes); a node class of the
    topology's own may add config() and terminate() to it, nothing else."""
    if switch not in ('lxbr', 'ovs', 'ovs-user'):
        return f'switch kind {switch}'
    for name in topo.hosts():
        why = _host_problem(topo.nodeInfo(name), host_cls)
        if why:
            return f'host {name}: {why}'
    for name in topo.switches():
        info = topo.nodeInfo(name)
        if info.get('inNamespace') or (switch == 'lxbr' and info.get('stp')):
            return f'switch {name}: {"inNamespace" if info.get("inNamespace") else "stp"}'
    for node1, node2, info in topo.links(sort=True, withInfo=True):
        why = _link_problem(info)
        if why:
            return f'link {node1}-{node2}: {why}'
    return None


def _host_problem(info, host_cls):
    cls = info.get('cls') or host_cls
    for klass in cls.__mro__:
        if klass in host_cls.__mro__:
            continue
        extra = set(vars(klass)) - DUNDER - OWN_METHODS
        if extra:
            return f'class {klass.__name__} defines {", ".join(sorted(extra))}'
    if info.get('inNamespace') is False or info.get('privateDirs'):
        return 'inNamespace=False' if info.get('inNamespace') is False else 'privateDirs'
    if info.get('lo', 'up') != 'up':
        return f'lo={info["lo"]}'
    for key in ('ip', 'mac', 'defaultRoute'):
        if not isinstance(info.get(key, ''), (str, type(None))):
            return f'{key}={info[key]!r} (not text)'
    if ':' in (info.get('ip') or ''):
        return f'IPv6 address {info["ip"]} in Mininet parameters'
    return None


def _link_problem(info):
    extra = set(info) - LINK_KEYS
    if extra:
        return f'link parameters {", ".join(sorted(extra))}'
    for side in ('params1', 'params2'):
        params = info.get(side) or {}
        extra = set(params) - INTF_KEYS
        if extra:
            return f'{side} {", ".join(sorted(extra))}'
        ip = params.get('ip')
        if ip is not None and ('/' not in ip or ':' in ip):
            return f'{side} ip={ip}'
    return None


# -- ip -batch lines ---------------------------------------------------------------------

def _end(intf, temp):
    """A veth end for `link add`: a root-namespace end under its temporary name."""
    name = intf.name if intf.node.inNamespace else temp[intf.name]
    words = ['name', name] + (['address', intf.mac] if intf.mac else [])
    return ' '.join(words + (['netns', str(intf.node.pid)] if intf.node.inNamespace else []))


def _mark_and_rename(temp, name, marked):
    """Mark temporary interface temp (when name is in marked), then rename it to name
    and set it up in one request: it fails, touching nothing, when name exists."""
    mark = [f'link set dev {temp} alias {marked[name]}'] if name in marked else []
    return mark + [f'link set dev {temp} name {name} up']


def veth_lines(links, marked, temp):
    """`ip -batch` lines creating every link's veth pair (a root-namespace end first,
    when there is one, under its temporary name in temp: {name: temporary name}),
    then marking, renaming and setting up its root-namespace ends: those in marked
    get the mark, every one is set up (as Mininet's Intf.config does)."""
    lines = []
    for link in links:
        a, b = sorted((link.intf1, link.intf2), key=lambda i: i.node.inNamespace)
        lines.append(f'link add {_end(a, temp)} type veth peer {_end(b, temp)}')
        for intf in (a, b):
            if not intf.node.inNamespace:
                lines += _mark_and_rename(temp[intf.name], intf.name, marked)
    return lines


def bridge_lines(bridges, marked, temp):
    """Lines that start Linux bridges as LinuxBridge.start does (brctl addbr, addif of
    each interface whose name holds the bridge's, up): each made under its temporary
    name in temp, marked, given its ports, then renamed and set up."""
    lines = []
    for bridge in bridges:
        lines.append(f'link add name {temp[bridge.name]} type bridge')
        lines += [f'link set dev {i.name} master {temp[bridge.name]}'
                  for i in bridge.intfList() if bridge.name in i.name and i.name != 'lo']
        lines += _mark_and_rename(temp[bridge.name], bridge.name, marked)
    return lines


def temporary_names(names):
    """{name: a fresh temporary name} (bl + random hex + a number, none existing now)."""
    while True:
        token = secrets.token_hex(4)
        temp = {name: f'bl{token}{n}' for n, name in enumerate(names)}
        if not any(link_exists(t) for t in temp.values()):
            return temp


def host_lines(host, plain):
    """The host's batch: its interfaces up with the addresses Mininet gives them; for
    a plain host (Node.config) also lo up and the default route."""
    lines = ['link set dev lo up'] if plain else []
    for intf in host.intfList():
        lines.append(f'link set dev {intf.name} up')
        if intf.ip:
            lines.append(f'addr add {intf.ip}/{intf.prefixLen} brd + dev {intf.name}')
    route = host.params.get('defaultRoute') if plain else None
    if route:
        lines.append(f'route add default {route if " " in route else "dev " + route}')
    return lines


# -- the network ------------------------------------------------------------------------

def intf_names(info):
    """(name1, name2) of a topo link's interfaces: intfName1/2, else node-ethPORT
    (Mininet's Link.intfName)."""
    return tuple(info.get(f'intfName{n}') or f'{info[f"node{n}"]}-eth{info[f"port{n}"]}'
                 for n in (1, 2))


def _ignore(*_args, **_kwargs):
    """A moveIntfFn that moves nothing: the veth end is made in its namespace."""


def own_config(host):
    """True if host's class has a config() of its own (a topology's LinuxRouter)."""
    return type(host).config is not Node.config


def by_class(switches):
    """[(class, switches of it)], as Mininet groups switches for batch start/stop."""
    ordered = sorted(switches, key=lambda s: str(type(s)))
    return [(cls, tuple(group)) for cls, group in itertools.groupby(ordered, type)]


class BatchedMininet(Mininet):
    """A Mininet built, started and stopped in batches (see the module docstring).

    state: the run's State (the marks; node.record_shell() writes to it, once for
    all shells); log: where a failed batch line is reported.  The node classes must
    have BatchedShell in their MRO (network.node_classes(batched=True): nsbatch.BatchedShell)."""

    def __init__(self, state, log, **kwargs):
        self.state, self.log = state, log
        self.temp = {}        # {root-namespace name: its temporary name}
        super().__init__(**kwargs)

    def buildFromTopo(self, topo=None):
        """Hosts and switches with their shells spawned at once, then every link."""
        for name in topo.hosts():
            self.addHost(name, **topo.nodeInfo(name))
        for name in topo.switches():
            self.addSwitch(name, **topo.nodeInfo(name))
        nodes = self.hosts + self.switches
        await_shells(nodes)
        with self.state.batched():
            for node in nodes:
                node.record_shell()
        for _src, _dst, info in topo.links(sort=True, withInfo=True):
            self.links.append(self._link(info))
        for host in self.hosts:
            if not own_config(host):
                self._settle(host)
        ends = [i.name for link in self.links for i in (link.intf1, link.intf2)
                if not i.node.inNamespace]
        self._make_root(ends, 'links',
                        lambda temp: veth_lines(self.links, self._marks(), temp))

    def _make_root(self, names, kind, lines_of):
        """Run the root batch lines_of(temporary names) that makes names (recorded
        under kind, 'links' or 'bridges', with their temporary names first); EnvError
        when one of names is not this run's afterwards (someone else made it)."""
        temp = temporary_names(names)
        self.temp.update(temp)
        self.state.add_names(**{kind: list(temp.values())})
        run_batches({None: lines_of(temp)}, self.log)
        mark = run_mark(self.state.data)
        taken = [name for name in names if interface_alias(name) != mark]
        if taken:
            raise EnvError(f'interfaces {", ".join(taken[:8])} were made by someone else '
                           'in the root namespace while this run built its network: left '
                           'alone (not marked, not set up, not deleted)')

    def _marks(self):
        """{recorded root-namespace name: this run's mark}."""
        mark = run_mark(self.state.data)
        return {name: mark for name in self.state.data['links'] + self.state.data['bridges']}

    def _link(self, info):
        """The Link and Intfs Mininet's Link() makes of one topo link (names, ports,
        MACs, params, an ip= of params1/params2 set), running no command."""
        link = Link.__new__(Link)
        link.fast = True
        ends = []
        for n, name in zip((1, 2), intf_names(info)):
            node = self[info[f'node{n}']]
            mac = info[f'addr{n}'] if f'addr{n}' in info else self.randMac()
            intf = Intf(name, node=node, port=info[f'port{n}'], link=link, mac=mac,
                        moveIntfFn=_ignore, up=None)
            intf.params = dict(info.get(f'params{n}') or {})
            intf.mac = intf.params.get('mac', intf.mac)
            if intf.params.get('ip'):
                intf.ip, intf.prefixLen = intf.params['ip'].split('/')
            ends.append(intf)
        link.intf1, link.intf2 = ends
        return link

    @staticmethod
    def _settle(host):
        """What Node.config() sets on a plain host's default interface: its MAC and
        address (Node.setIP: a prefix length of 8 when ip= has none)."""
        intf = host.defaultIntf()
        if intf is None:
            host.params.update(ip=None, mac=None)     # configHosts: configDefault(ip=None, mac=None)
            return
        mac, ip = host.params.get('mac'), host.params.get('ip')
        if mac:
            intf.mac = mac
        if ip:
            intf.ip, intf.prefixLen = ip.split('/') if '/' in ip else (ip, 8)

    def configHosts(self):
        """Every host's batch at once; a host whose class has its own config() then
        gets Mininet's configDefault(), as in Mininet's configHosts()."""
        run_batches({h: host_lines(h, not own_config(h)) for h in self.hosts}, self.log)
        for host in self.hosts:
            if own_config(host):
                if host.defaultIntf():
                    host.configDefault()
                else:
                    host.configDefault(ip=None, mac=None)

    def start(self):
        """Linux bridges in one batch; Open vSwitch bridges by Mininet's batch start."""
        if not self.built:
            self.build()
        bridges = [s for s in self.switches if isinstance(s, LinuxBridge)]
        self._make_root([b.name for b in bridges], 'bridges',
                        lambda temp: bridge_lines(bridges, self._marks(), temp))
        for bridge in bridges:
            answer_no_arp(bridge.name)
        ovs = [s for s in self.switches if isinstance(s, OVSSwitch)]
        for switch in ovs:
            switch.batch = True
            switch.start(self.controllers)
        for cls, group in by_class(ovs):
            cls.batchStartup(group)

    def stop(self):
        """Mininet's order, each step for all at once: the links and Linux bridges
        (one netlink request, _unlink), the Open vSwitch bridges (Mininet's batch
        shutdown), a host class's own terminate(), every shell hung up."""
        self._unlink()
        for cls, group in by_class(s for s in self.switches if isinstance(s, OVSSwitch)):
            cls.batchShutdown(group)
        for host in self.hosts:
            if type(host).terminate is not Node.terminate:
                host.terminate()
        nodes = self.hosts + self.switches
        hang_up(nodes)
        for node in nodes:
            node.terminate()

    def _unlink(self):
        """Delete every root-namespace end of a link (its pair goes with it) and the
        Linux bridges together; a link between two hosts goes with their namespaces."""
        doomed = [b.name for b in self.switches if isinstance(b, LinuxBridge)]
        for link in self.links:
            doomed += [i.name for i in (link.intf1, link.intf2) if not i.node.inNamespace][:1]
        doomed += list(self.temp.values())    # a stand-in whose rename was refused
        delete_together(doomed, self._marks(), self.log)
