"""Build and tear down a scenario's Mininet network, and check its data plane.

The switch kind (lxbr, ovs, ovs-user) was chosen before (harness/machine.py).
Every host and switch shell is recorded in the state file the moment it starts, and
every root-namespace interface name before it is created (TrackedHost and friends),
so `clean-net` can remove a network whose run was SIGKILLed mid-build.
Mininet's own cleanup (mininet.clean.cleanup, `mn -c`) is never called: it kills by
process name and removes every Mininet-looking interface on the machine.
"""

import resource
import time

from . import advice
from .errors import EnvError
from .ifaces import link_exists


# -- building -----------------------------------------------------------------------

def root_names(topo):
    """(interfaces, bridges) a topo will create in the root namespace (switch side)."""
    switches = set(topo.switches())
    links = []
    for n1, n2, info in topo.links(sort=True, withInfo=True):
        for node, port in ((n1, info.get('port1')), (n2, info.get('port2'))):
            if node in switches:
                links.append(f'{node}-eth{port}')
    return links, sorted(switches)


def check_names_free(topo):
    """Raise EnvError if an interface this topo needs already exists (not ours)."""
    links, bridges = root_names(topo)
    taken = [n for n in bridges + links if link_exists(n)]
    if taken:
        raise EnvError(f'interfaces {", ".join(taken[:8])} already exist in the root '
                       'namespace and this run did not create them; if an earlier run '
                       f'left them, run: {advice("clean-net")}')


def node_classes(state, switch):
    """Host and switch classes that record their shells in state as they start and
    mark what they create in the root namespace as this run's (see harness.state).

    A switch's end of a veth is marked as soon as Mininet hands it to the switch
    (addIntf, right after `ip link add`), a Linux bridge once start() made it, an OVS
    bridge in the very ovs-vsctl transaction that adds it (bridgeOpts).
    """
    from mininet.node import Host, OVSBridge
    from mininet.nodelib import LinuxBridge

    def tracked(base):
        class Tracked(base):
            def startShell(self, *args, **kwargs):
                super().startShell(*args, **kwargs)
                state.add_pid(self.pid, f'mininet:{self.name}')
                if self.inNamespace:
                    state.add_netns(self.name, self.pid)

            def addIntf(self, intf, *args, **kwargs):
                super().addIntf(intf, *args, **kwargs)
                if not self.inNamespace:
                    state.mark_interface(intf.name)

            if issubclass(base, LinuxBridge):
                def start(self, *args, **kwargs):
                    super().start(*args, **kwargs)
                    state.mark_interface(self.name)

            if issubclass(base, OVSBridge):
                def bridgeOpts(self):
                    return f'{super().bridgeOpts()} {state.ovs_bridge_mark()}'
        Tracked.__name__ = f'Tracked{base.__name__}'
        return Tracked

    class NetnsHost(Host):
        """A host whose popen() enters only its network namespace.

        Mininet's popen runs `mnexec -da PID`, which also attaches to the shell's
        mount namespace; inside a chroot (a container build, the fresh-Debian trial)
        that resets the root to the outer filesystem and every command fails with
        "<cwd>: No such file or directory".  These hosts share the root's mount
        namespace (no privateDirs), so the network namespace is all there is to
        enter.  nsenter execs the command (same PID, as with mnexec), and a new
        session keeps a terminal's Ctrl-C for the harness, as mnexec -d did.
        """
        def popen(self, *args, **kwargs):
            kwargs.setdefault('mncmd', ['nsenter', f'--net=/proc/{self.pid}/ns/net', '--'])
            kwargs.setdefault('start_new_session', True)
            return super().popen(*args, **kwargs)

    host_cls = tracked(NetnsHost)
    if switch == 'lxbr':
        bridge = tracked(LinuxBridge)
        # Mininet's setup() warns whenever bridge-nf-call-*tables=1; the harness has
        # already checked what matters (a FORWARD chain dropping by default).
        bridge.setup = classmethod(lambda cls: None)
        return host_cls, bridge, {}
    params = {'datapath': 'user'} if switch == 'ovs-user' else {}
    return host_cls, tracked(OVSBridge), params


def build(topo, switch, state):
    """Build and start the Mininet network of topo; returns the Mininet object.

    The root-namespace names are recorded before they are created.  On failure
    the caller still owns the cleanup (stop() with the returned or partial network).
    """
    from functools import partial
    from mininet.link import Link
    from mininet.net import Mininet

    _skip_mininet_limits()
    links, bridges = root_names(topo)
    state.add_names(links=links, bridges=bridges if switch == 'lxbr' else (),
                    ovs_bridges=bridges if switch != 'lxbr' else ())
    host_cls, switch_cls, params = node_classes(state, switch)
    adopt_node_classes(topo, host_cls)
    return Mininet(topo=topo, switch=partial(switch_cls, **params), host=host_cls,
                   controller=None, link=Link, build=False, autoSetMacs=True,
                   waitConnected=False)


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

    With ovs-user, transmit checksum offload is switched off on every host interface:
    OVS's userspace datapath forwards veth frames whose TCP/UDP checksums were left
    to the NIC, and the receiver drops them (ping works, every connect times out).
    """
    net.build()
    net.start()
    if switch == 'ovs-user':
        for host in net.hosts:
            for intf in host.intfNames():
                if intf == 'lo':
                    continue
                proc = host.popen(['ethtool', '-K', intf, 'tx', 'off'])
                out, err = proc.communicate()
                if proc.returncode != 0:
                    raise EnvError(f'ethtool -K {intf} tx off on {host.name} failed: '
                                   f'{(err or out).decode(errors="replace").strip()}')


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


# -- readiness ------------------------------------------------------------------------

def ready_pairs(net, scenario):
    """(host, address) pairs to ping: the scenario's, or a ring per IPv4 subnet."""
    if scenario.ready is not None:
        return list(scenario.ready)
    import ipaddress
    groups = {}
    for host in net.hosts:
        params = host.params.get('ip') or ''
        if '/' not in params:
            continue
        iface = ipaddress.ip_interface(params)
        groups.setdefault(iface.network, []).append((host.name, str(iface.ip)))
    pairs = []
    for members in groups.values():
        if len(members) < 2:
            continue
        for i, (name, _ip) in enumerate(members):
            pairs.append((name, members[(i + 1) % len(members)][1]))
    return pairs


def wait_ready(net, pairs, tries=10):
    """Ping every pair (in parallel) until all answer; returns the failures (text).

    One ping of 1 s per try and pair, at most `tries` tries: a network that never
    gets ready gives a list of what did not answer, never an endless wait.
    """
    pending = list(pairs)
    for _ in range(tries):
        procs = []
        for name, addr in pending:
            argv = ['ping', '-6' if ':' in addr else '-4', '-n', '-q', '-c1', '-W1', addr]
            procs.append(((name, addr), net.get(name).popen(argv)))
        pending = [pair for pair, p in procs if p.communicate() and p.returncode != 0]
        if not pending:
            return []
        time.sleep(0.2)
    return [f'{name} cannot reach {addr}' for name, addr in pending]
