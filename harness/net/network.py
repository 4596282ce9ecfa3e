"""Build and tear down a scenario's Mininet network (its readiness: readiness.py).

Two builders make the same network (harness/net/fastnet.py says what "the same" means):
    fast      the bindlab builder, BatchedMininet: shells started at once, links,
              bridges and host addresses in `ip -batch` batches (the default);
    mininet   Mininet's own build, start and stop, one command per interface.
A topology that asks for what the bindlab builder does not implement (fastnet.
unsupported) is built by Mininet, with one log line saying so; builder_of(net) says
which one built a network.
The switch kind (lxbr, ovs, ovs-user) was chosen before (harness/net/machine.py).
Every host and switch shell is recorded in the state file as soon as it starts, and
every root-namespace interface name before it is created (TrackedHost and friends),
so `clean-net` can remove a network whose run was SIGKILLed mid-build.
Mininet's own cleanup (mininet.clean.cleanup, `mn -c`) is never called: it kills by
process name and removes every Mininet-looking interface on the machine.
"""

import resource

from mininet.node import Host, OVSBridge
from mininet.nodelib import LinuxBridge

from .. import advice
from ..errors import EnvError
from ..ledger import add_bridge_rules, answer_no_arp, link_exists
from . import fastnet, nsbatch
from .hostfiles import enter_argv
from .hosts import run_on

BUILDERS = ('fast', 'mininet')
DEFAULT_BUILDER = 'fast'


def add_builder_option(parser):
    """--builder on an argparse parser (run, lab): who builds each network."""
    parser.add_argument('--builder', choices=BUILDERS, default=DEFAULT_BUILDER,
                        help='fast: the bindlab builder, in batches (default); mininet: '
                             "Mininet's own build, the one fast is checked against")


# -- building -----------------------------------------------------------------------

def root_names(topo):
    """(interfaces, bridges) a topo will create in the root namespace (switch side)."""
    switches = set(topo.switches())
    links = []
    for _n1, _n2, info in topo.links(sort=True, withInfo=True):
        for n, name in zip((1, 2), fastnet.intf_names(info)):
            if info[f'node{n}'] in switches:
                links.append(name)
    return links, sorted(switches)


def check_names_free(topo):
    """Raise EnvError if an interface this topo needs already exists (not ours)."""
    links, bridges = root_names(topo)
    taken = [n for n in bridges + links if link_exists(n)]
    if taken:
        raise EnvError(f'interfaces {", ".join(taken[:8])} already exist in the root '
                       'namespace and this run did not create them; if an earlier run '
                       f'left them, run: {advice("clean-net")}')


class NetnsHost(Host):
    """A host whose popen() enters only its network namespace.

    Mininet's popen runs `mnexec -da PID`, which also attaches to the shell's mount
    namespace; inside a chroot (a container build, the fresh-Debian trial) that resets
    the root to the outer filesystem and every command fails with "<cwd>: No such
    file or directory".  These hosts share the root's mount namespace (no
    privateDirs), so the network namespace is all there is to enter.  nsenter execs
    the command (same PID, as with mnexec), and a new session keeps a terminal's
    Ctrl-C for the harness, as mnexec -d did.  A host given its own resolver files
    (hostfiles.py) enters its shell's mount namespace too.

    A host whose node parameters say own_uts=True (hostfiles.own_uts_hosts: it is
    given a hostname) starts its shell under `unshare --uts`, in both builders (both
    spawn it through _popen as `mnexec OPTS ...`; unshare execs, the PID stays the
    shell's), and popen enters that UTS namespace too (once mount_host_files saw it:
    the bindlab builder's shells are still starting when startShell returns).
    """
    own_mounts = False      # hostfiles.mount_host_files: its mount namespace too
    own_uts = False         # hostfiles.mount_host_files, once it saw the namespace
    _spawning = False

    def startShell(self, *args, **kwargs):
        self._spawning = True
        try:
            super().startShell(*args, **kwargs)
        finally:
            self._spawning = False

    def _popen(self, cmd, **params):
        if self._spawning and self.params.get('own_uts') and cmd[:1] == ['mnexec']:
            cmd = cmd[:2] + ['unshare', '--uts', '--'] + cmd[2:]
        return super()._popen(cmd, **params)

    def popen(self, *args, **kwargs):
        kwargs.setdefault('mncmd', enter_argv(self.pid, self.own_mounts, self.own_uts))
        kwargs.setdefault('start_new_session', True)
        return super().popen(*args, **kwargs)


def node_classes(state, switch, batched=False):
    """Host and switch classes that record their shells in state and mark what they
    create in the root namespace as this run's (see harness.state): (host class,
    switch class, switch parameters).

    Stock build: a shell is recorded as it starts, a switch's end of a veth is marked
    as soon as Mininet hands it to the switch (addIntf, right after `ip link add`), a
    Linux bridge once start() made it.  batched (the bindlab builder): the classes
    are nsbatch.BatchedShell's, BatchedMininet records the shells (record_shell) and
    marks in its batches.  An OVS bridge is marked in the very ovs-vsctl transaction
    that adds it (bridgeOpts), by both.
    """
    host_cls = tracked(NetnsHost, state, batched)
    if switch == 'lxbr':
        bridge = tracked(LinuxBridge, state, batched)
        # Mininet's setup() warns whenever bridge-nf-call-*tables=1; the harness has
        # already checked what matters (a FORWARD chain dropping by default).
        bridge.setup = classmethod(lambda cls: None)
        return host_cls, bridge, {}
    params = {'datapath': 'user'} if switch == 'ovs-user' else {}
    return host_cls, tracked(OVSBridge, state, batched), params


def tracked(base, state, batched):
    """base as a node class of this run's (node_classes says what it records)."""
    mixins = (nsbatch.BatchedShell,) if batched else ()

    class Tracked(base, *mixins):
        def record_shell(self):
            state.add_pid(self.pid, f'mininet:{self.name}')
            if self.inNamespace:
                state.add_netns(self.name, self.pid)

        if not batched:
            def startShell(self, *args, **kwargs):
                super().startShell(*args, **kwargs)
                self.record_shell()

            def addIntf(self, intf, *args, **kwargs):
                super().addIntf(intf, *args, **kwargs)
                if not self.inNamespace:
                    state.mark_interface(intf.name)

        if issubclass(base, LinuxBridge) and not batched:
            def start(self, *args, **kwargs):
                super().start(*args, **kwargs)
                state.mark_interface(self.name)
                answer_no_arp(self.name)

        if issubclass(base, OVSBridge):
            def bridgeOpts(self):
                return f'{super().bridgeOpts()} {state.ovs_bridge_mark()}'
    Tracked.__name__ = f'Tracked{base.__name__}'
    return Tracked


def build(topo, switch, state, builder=DEFAULT_BUILDER, log=lambda msg: None):
    """The Mininet object of topo, to be built and started by start(): a
    fastnet.BatchedMininet (builder 'fast', unless the topology asks for what it does
    not implement: then log says so) or Mininet's own (builder 'mininet').

    The root-namespace names are recorded before anything is created.  On failure
    the caller still owns the cleanup (stop() with the returned or partial network).
    """
    from functools import partial
    from mininet.link import Link
    from mininet.net import Mininet

    _skip_mininet_limits()
    links, bridges = root_names(topo)
    state.add_names(links=links, bridges=bridges if switch == 'lxbr' else (),
                    ovs_bridges=bridges if switch != 'lxbr' else ())
    if switch == 'lxbr':        # beside Docker: FORWARD would drop their frames
        add_bridge_rules(state, bridges, log)
    batched = builder == 'fast'
    host_cls, switch_cls, params = node_classes(state, switch, batched)
    why = fastnet.unsupported(topo, host_cls, switch) if batched else None
    if why:
        log(f'the bindlab builder does not build {why}: Mininet builds this topology')
        batched = False
        host_cls, switch_cls, params = node_classes(state, switch)
    adopt_node_classes(topo, host_cls)
    kwargs = dict(topo=topo, switch=partial(switch_cls, **params), host=host_cls,
                  controller=None, link=Link, build=False, autoSetMacs=True,
                  waitConnected=False)
    return fastnet.BatchedMininet(state, log, **kwargs) if batched else Mininet(**kwargs)


def builder_of(net):
    """'fast' or 'mininet': which builder made net (see build)."""
    return 'fast' if isinstance(net, fastnet.BatchedMininet) else 'mininet'


def adopt_node_classes(topo, host_cls):
    """Node classes a topology names itself (`addNode('r1', cls=LinuxRouter)`, as in
    Mininet's examples) keep their behaviour but become tracked, namespace-entering
    hosts; a switch class of the topology's own gives way to the chosen switch kind."""
    for name in topo.hosts():
        info = topo.nodeInfo(name)
        cls = info.get('cls')
        if cls is not None and not issubclass(cls, host_cls):
            info['cls'] = type(f'Tracked{cls.__name__}', (host_cls, cls), {})
            topo.setNodeInfo(name, info)
    for name in topo.switches():
        info = topo.nodeInfo(name)
        if info.pop('cls', None) is not None:
            topo.setNodeInfo(name, info)


def start(net, switch):
    """net.build() and net.start() (separate from build() so the caller holds net).

    Every host sends every ICMP error (no rate limit: icmp_ratemask empty, both
    families): the kernel's limits (a few errors a second to one peer, about 50 at
    once per namespace) would turn the answer to a probe -- a refused UDP datagram,
    an unreachable network -- into a timeout depending on how many probes came before
    it, which is the harness's own load, not the network's configuration.
    With ovs-user, transmit checksum offload is switched off on every host interface:
    OVS's userspace datapath forwards veth frames whose TCP/UDP checksums were left
    to the NIC, and the receiver drops them (ping works, every connect times out).
    """
    net.build()
    net.start()
    _all_hosts(net.hosts, lambda host: ['sh', '-c', 'echo 0 > /proc/sys/net/ipv4/icmp_ratemask'
                                        ' && echo "" > /proc/sys/net/ipv6/icmp/ratemask'],
               'ICMP errors unlimited')
    if switch == 'ovs-user':
        _tx_offload_off(net.hosts)


def _all_hosts(hosts, argv_of, what):
    """argv_of(host) in every host, all at once; raises EnvError naming the first host
    where it failed."""
    said = run_on([(host, argv_of(host), None, None) for host in hosts])
    failed = [f'{what} on {host.name} failed: {(err or out).strip()}'
              for host, (rc, out, err) in zip(hosts, said) if rc != 0]
    if failed:
        raise EnvError(failed[0])


def _tx_offload_off(hosts):
    """`ethtool -K INTF tx off` on every host interface but lo, all at once; raises
    EnvError naming the first that failed."""
    where = [(host, intf) for host in hosts for intf in host.intfNames() if intf != 'lo']
    said = run_on([(host, ['ethtool', '-K', intf, 'tx', 'off'], None, None)
                   for host, intf in where])
    failed = [f'ethtool -K {intf} tx off on {host.name} failed: {(err or out).strip()}'
              for (host, intf), (rc, out, err) in zip(where, said) if rc != 0]
    if failed:
        raise EnvError(failed[0])


def _skip_mininet_limits():
    """Raise our own open-file limit instead of Mininet's fixLimits().

    fixLimits() raises machine-wide sysctls (ARP cache, buffers, pty.max) and leaves
    them raised; a run should leave the machine as it found it.
    """
    from mininet.net import Mininet
    Mininet.inited = True
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(max(soft, 16384), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def stop(net, log):
    """Stop net (Mininet's own teardown); errors are logged, never raised."""
    if net is None:
        return
    try:
        net.stop()
    except Exception as exc:  # teardown must go on; state cleanup follows
        log(f'net.stop() failed: {exc!r}; removing what the state file records')
