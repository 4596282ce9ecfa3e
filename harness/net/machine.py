"""What this machine can do: root, Mininet, tools, the bridge firewall, switch kinds.

Checked before anything is built; a failed check is EnvError (exit 2) with what to do.
Switch kinds:
    lxbr      mininet.nodelib.LinuxBridge: works everywhere (the fallback).
    ovs       OVSBridge on the kernel datapath: needs the openvswitch module AND the
              OVS daemons answering `ovs-vsctl show` (started with ovs-ctl when they
              are not, and stopped again afterwards).
    ovs-user  OVSBridge(datapath='user'): OVS's userspace datapath; drops frames above
              ~40 ports on one bridge, so large scenarios leave it out.  Needs
              /dev/net/tun (without it vswitchd cannot create the bridge: found in
              the VM lane's guest, where tun is a module).
    auto      ovs where the kernel datapath and the daemons can be used, else lxbr,
              with a one-line notice saying why.
An explicit `ovs` or `ovs-user` that cannot work is exit 2 before anything is built,
never a build failure (exit 1 would read as "a cell differed").
"""

import importlib
import os
import re
import shutil
import subprocess

from .. import advice
from ..errors import EnvError
from ..ledger import unhandled_drop

SWITCH_KINDS = ('auto', 'ovs', 'ovs-user', 'lxbr')
OVS_CTL = '/usr/share/openvswitch/scripts/ovs-ctl'


def check_environment(switch):
    """Raise EnvError unless root, Mininet, the tools and the firewall allow a run."""
    check_root(advice('mininet-test'))
    check_mininet()
    tools = ['ip', 'ping', 'mnexec', 'sysctl']
    tools += ['brctl'] if switch in ('lxbr', 'auto') else ['ovs-vsctl']
    tools += ['ethtool'] if switch == 'ovs-user' else []
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        raise EnvError(f'missing tools: {", ".join(missing)}; install them with '
                       f'`{advice("deps-run")}`')
    if switch in ('lxbr', 'auto'):
        check_bridge_firewall()


def check_root(how):
    """EnvError unless root (Mininet creates namespaces and links)."""
    if os.geteuid() != 0:
        raise EnvError(f'must run as root (Mininet creates namespaces and links): {how}')


def check_mininet():
    """EnvError unless Mininet can be imported by this interpreter."""
    try:
        importlib.import_module('mininet.net')     # the import is the check
    except ImportError as exc:
        raise EnvError(f'Mininet is not importable ({exc}); install it with '
                       f'`{advice("deps-run")}` and run with /usr/bin/python3') from None


def check_bridge_firewall():
    """Refuse when bridged frames meet a forward hook that drops by default and that
    the run cannot open for its own bridges alone.  An iptables/ip6tables FORWARD
    policy DROP (Docker's) is handled at build time (harness/ledger/fwrules.py)."""
    where = unhandled_drop()
    if where:
        raise EnvError(f'bridged traffic meets {where}, which drops by default: a '
                       'Linux-bridge network would be silent, and bindlab opens only '
                       'an iptables FORWARD DROP (as Docker sets) for its bridges.  Either '
                       '`sysctl -w net.bridge.bridge-nf-call-iptables=0` or accept the '
                       'bridged traffic in that chain, then run again')


def missing_modules(names):
    """The kernel modules of names this kernel has neither loaded, built in, nor can
    load (modprobe); a scenario needing one is skipped, naming it."""
    builtin = os.path.join('/lib/modules', os.uname().release, 'modules.builtin')
    try:
        with open(builtin) as f:
            built_in = {os.path.basename(line.strip()).split('.')[0] for line in f}
    except OSError:
        built_in = set()
    missing = []
    for name in names:
        if os.path.isdir(f'/sys/module/{name}') or name in built_in:
            continue
        if shutil.which('modprobe'):
            subprocess.run(['modprobe', '-q', name], capture_output=True, timeout=30)
            if os.path.isdir(f'/sys/module/{name}'):
                continue
        missing.append(name)
    return missing


# -- switches -----------------------------------------------------------------------------

def kernel_ovs():
    """True when the openvswitch kernel module is loaded and ovs-vsctl exists."""
    return os.path.isdir('/sys/module/openvswitch') and bool(shutil.which('ovs-vsctl'))


def kernel_datapath_ports():
    """The port names `ovs-dpctl show` lists on the kernel datapath (empty where it
    lists none or cannot run): the proof, taken while a network is up, that its
    bridges forward in the kernel and not in vswitchd."""
    try:
        res = subprocess.run(['ovs-dpctl', 'show'], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return set(re.findall(r'^\s*port \d+: (\S+)', res.stdout, re.M)) \
        if res.returncode == 0 else set()


def choose_switch(kind, log):
    """(switch kind to use, True if this call started OVS) for `kind`; EnvError.

    The caller stops OVS again (stop_ovs) when this call started it.
    """
    if kind == 'auto':
        if not kernel_ovs():
            log('no Open vSwitch kernel datapath here: using the Linux bridge (lxbr)')
            return 'lxbr', False
        try:
            return 'ovs', ensure_ovs(log)
        except EnvError as exc:
            log(f'the Open vSwitch kernel module is here but OVS cannot be used ({exc}): '
                'using the Linux bridge (lxbr)')
            return 'lxbr', False
    if kind == 'ovs' and not kernel_ovs():
        raise EnvError('--switch ovs needs the openvswitch kernel module, which this '
                       'kernel does not have; use --switch lxbr or --switch ovs-user')
    if kind == 'ovs-user' and not os.path.exists('/dev/net/tun'):
        raise EnvError('--switch ovs-user needs /dev/net/tun (OVS makes its userspace '
                       'bridges\' ports with it): load the tun module (`modprobe tun`) '
                       'or use --switch lxbr')
    if kind in ('ovs', 'ovs-user'):
        return kind, ensure_ovs(log)
    return kind, False


def ensure_ovs(log):
    """Start OVS with ovs-ctl if its database is not answering; raises EnvError.

    Returns True if this call started it (the caller may stop it again).
    """
    if ovs_answers():
        return False
    if not os.path.exists(OVS_CTL):
        raise EnvError(f'Open vSwitch is not running and {OVS_CTL} is missing; '
                       f'install openvswitch-switch (`{advice("deps-run")}`) or use '
                       '--switch lxbr')
    log('starting Open vSwitch (ovs-ctl start)')
    try:
        res = subprocess.run([OVS_CTL, 'start'], capture_output=True, text=True,
                             timeout=60)
        out = f'{res.stdout}{res.stderr}'.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        res, out = None, str(exc)
    if res is None or res.returncode != 0 or not ovs_answers():
        raise EnvError(f'Open vSwitch is not running and `{OVS_CTL} start` could not '
                       f'start it ({out[-300:] or "no message"}); start ovsdb-server and '
                       'ovs-vswitchd (`service openvswitch-switch start`) or use '
                       '--switch lxbr')
    return True


def stop_ovs(log):
    """Stop the OVS daemons ensure_ovs() started (ovs-ctl stops them by pidfile)."""
    log('stopping Open vSwitch again (this run started it)')
    subprocess.run([OVS_CTL, 'stop'], capture_output=True, text=True, timeout=60)


def ovs_answers():
    """True when the OVS database answers `ovs-vsctl show`."""
    try:
        res = subprocess.run(['ovs-vsctl', '--timeout=3', 'show'], capture_output=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


def environment_facts(switch, builder):
    """Kernel, Mininet and OVS versions, the switch kind and the builder asked for
    (--builder; a scenario's matrix.json says which one built it), for matrix.json."""
    from mininet.net import VERSION
    ovs = None
    if shutil.which('ovs-vsctl'):
        res = subprocess.run(['ovs-vsctl', '--version'], capture_output=True, text=True)
        ovs = res.stdout.splitlines()[0].split()[-1] if res.returncode == 0 else None
    return {'kernel': os.uname().release, 'mininet': VERSION, 'ovs': ovs,
            'switch': switch, 'builder': builder}
