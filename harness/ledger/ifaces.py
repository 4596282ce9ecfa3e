"""The root-namespace interfaces and bridges a run made: whether they exist, whether
they carry the run's mark, and removing exactly those (see harness/ledger/state.py for the
rules: names recorded before creation, a mark right after, nothing unmarked touched).
"""

import json
import os
import subprocess
import time

MARK_PREFIX = 'bindlab:'          # + run_id: the alias of an interface we created
OVS_MARK_KEY = 'bindlab'          # external-ids key of an OVS bridge we created
NETNS_TEARDOWN_S = 3.0


def run_mark(state):
    return MARK_PREFIX + state['run_id']


def link_exists(name):
    """True if the root namespace has an interface called name."""
    return os.path.exists(f'/sys/class/net/{name}')


def interface_attr(name, attr):
    """Root-namespace interface name's sysfs attribute (ifalias, address, ...),
    stripped; None if the interface is gone."""
    try:
        with open(f'/sys/class/net/{name}/{attr}') as f:
            return f.read().strip()
    except OSError:
        return None


def interface_alias(name):
    """The alias of root-namespace interface name ('' when none), None if it is gone."""
    return interface_attr(name, 'ifalias')


def ovs_bridge_exists(name):
    """True if the OVS database has bridge name (False when OVS is not running)."""
    try:
        res = subprocess.run(['ovs-vsctl', '--timeout=3', 'br-exists', name],
                             capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


def ovs_bridge_run(name):
    """The run id marked on OVS bridge name ('' when unmarked)."""
    res = subprocess.run(['ovs-vsctl', '--timeout=3', 'get', 'bridge', name,
                          f'external-ids:{OVS_MARK_KEY}'],
                         capture_output=True, text=True, timeout=10)
    return res.stdout.strip().strip('"') if res.returncode == 0 else ''


def answer_no_arp(bridge):
    """Set arp_ignore=8 on root-namespace bridge (a run's own, that one alone): the
    root namespace answers no ARP request that arrives on it.  By default Linux
    answers for any of its addresses on any interface; on a run's bridge it would
    claim an emulated host's address that is also one of the machine's own (beside
    Docker docker0's 172.17.0.1, the gateway of docker-bridge's containers), and
    take the frames sent to that host for itself."""
    try:
        with open(f'/proc/sys/net/ipv4/conf/{bridge}/arp_ignore', 'w') as f:
            f.write('8')
    except OSError:
        pass


def interfaces(state):
    """(ours, foreign): recorded root-namespace interfaces and bridges that exist now,
    carrying this run's mark and not carrying it."""
    ours, foreign = [], []
    for name in state['links'] + state['bridges']:
        alias = interface_alias(name)
        if alias is not None:
            (ours if alias == run_mark(state) else foreign).append(name)
    return ours, foreign


def ovs_bridges(state):
    """(ours, foreign): recorded OVS bridges that exist now, marked and not."""
    ours, foreign = [], []
    for name in state['ovs_bridges']:
        if ovs_bridge_exists(name):
            (ours if ovs_bridge_run(name) == state['run_id'] else foreign).append(name)
    return ours, foreign


def peer_elsewhere(name):
    """True if root-namespace interface name is a veth whose other end is in
    another namespace."""
    res = subprocess.run(['ip', '-j', '-d', 'link', 'show', 'dev', name],
                         capture_output=True, text=True, timeout=15)
    try:
        info = json.loads(res.stdout)[0]
    except (ValueError, IndexError):
        return False
    return info.get('linkinfo', {}).get('info_kind') == 'veth' and 'link_netnsid' in info


def await_veths_of_gone_namespaces(names, seconds=NETNS_TEARDOWN_S):
    """Wait until each veth among names whose other end is in another namespace is
    gone, at most seconds.  The kernel destroys an emptied namespace, and with it
    every veth pair with an end in it, asynchronously after its last process ended."""
    pending = [name for name in names if peer_elsewhere(name)]
    deadline = time.monotonic() + seconds
    while pending and time.monotonic() < deadline:
        time.sleep(0.05)
        pending = [name for name in pending if link_exists(name)]


def names_left(state):
    """'kind name' of this run's (marked) interfaces and bridges that still exist."""
    return ([f'interface {name}' for name in interfaces(state)[0]]
            + [f'ovs bridge {name}' for name in ovs_bridges(state)[0]])


def foreign_names(state):
    """Why each recorded name that exists now but is not this run's is left alone."""
    return ([f'interface {name} exists but is not this run\'s (no alias '
             f'{run_mark(state)}): left alone' for name in interfaces(state)[1]]
            + [f'ovs bridge {name} exists but is not this run\'s (no external-ids:'
               f'{OVS_MARK_KEY}={state["run_id"]}): left alone'
               for name in ovs_bridges(state)[1]])


def remove_names(state, log=lambda msg: None):
    """Delete the recorded interfaces, bridges and OVS bridges that carry this run's
    mark; returns the names that could not be removed."""
    ovs_ours, _ = ovs_bridges(state)
    for name in ovs_ours:
        log(f'deleting ovs bridge {name}')
        subprocess.run(['ovs-vsctl', '--timeout=5', '--if-exists', 'del-br', name],
                       capture_output=True, timeout=15)
    stuck = []
    for name in interfaces(state)[0]:
        log(f'deleting interface {name}')
        subprocess.run(['ip', 'link', 'del', 'dev', name], capture_output=True,
                       timeout=15)
        if link_exists(name):
            stuck.append(name)
    return stuck


NAME_MAX = 15      # IFNAMSIZ - 1


def is_interface_name(name):
    """True if name could be a Linux interface name (so it is safe in a path)."""
    return (isinstance(name, str) and 0 < len(name) <= NAME_MAX and name not in ('.', '..')
            and name.isprintable() and not any(c == '/' or c.isspace() for c in name))
