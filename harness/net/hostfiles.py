"""Each host's own resolver files, bind-mounted in that host's own mount namespace.

    mount_host_files(net, host_files, workdir)   the scenario's HostFiles written under
                          workdir and mounted over /etc in each host; None or why not
    pinned_nsswitch(data) an nsswitch.conf (bytes) with its `hosts:` line
                          `hosts: files dns` (PINNED_HOSTS), every other line kept
    enter_argv(pid, own_mounts, own_uts=False)   the nsenter words that run a command
                          in the host whose shell is pid (its mount namespace too when
                          own_mounts, its UTS namespace when own_uts)
    own_uts_hosts(topo, host_files)              mark the hosts given a hostname in
                          topo's node parameters (own_uts=True), before the build:
                          their shells start in a UTS namespace of their own
    own_mounts(pid)       True when the shell pid has resolver files of its own (a
                          mount over /etc/hosts, resolv.conf, gai.conf or
                          nsswitch.conf that this process does not have): how a
                          lab's check, run from another process, knows
    own_uts(pid)          True when the process pid is in another UTS namespace than
                          this process (a host given a hostname)

Why a bind mount in the host's shell: every host's shell already runs in a mount
namespace of its own (mnexec -n, in both builders; mnexec makes it recursively
private), so a mount made there is seen by that host's processes only, never by the
machine or another host, and goes away with the namespace when the host's last
process ends: at teardown, or when `clean-net` stops the recorded processes of a
killed run.  Nothing of the machine's /etc is written, nothing needs unmounting and
nothing new is recorded in the ledger (the files live in the run's work folder,
which the ledger already sweeps).  Commands sent to the host's shell inherit the
mounts; a program started from outside it (popen_on: the user's programs; a lab's
check) enters the namespace with nsenter --mount, keeping the shell's root (--root:
a chroot build stays in its chroot) and the caller's working directory (--wd).
Hosts without files are not touched: their commands run exactly as before.

A host given its own hosts or resolv.conf (HostFiles.pins_nsswitch) also gets an
nsswitch.conf: the machine's, its `hosts:` line replaced by `hosts: files dns`, so
that glibc (and Go's own resolver, which reads the same file) reads the mounted
files in that order whatever the machine says: Ubuntu's mdns4_minimal and
myhostname, or systemd-resolved's `resolve`, which asks the machine's resolver over
its socket and would never read the mounted resolv.conf.  A machine without
/etc/nsswitch.conf has nothing to mount over: where its glibc resolves by `files
dns` without one (2.35 and later) nothing is mounted, else the run refuses with
EnvError naming the fix (scenarios.nsswitch_unpinnable says which).
A name mutation's files (scenarios/mutate_names.py) are mounted the same way once
the network is built; on a shared network the undo unmounts them and proves it
(net/undo.py reads each touched host's mounts).

A hostname needs more than a mount: Mininet hosts share the machine's UTS
namespace, and `hostname` in one would rename the machine.  A host given one
(HostFiles.hostname) is marked before the build (own_uts_hosts), its shell is
started under `unshare --uts` (network.NetnsHost, both builders: the shell keeps
its PID, unshare execs it), and mount_host_files sets the name in that shell, after
checking that the shell's UTS namespace is not this process's (else it refuses:
the machine's hostname is never set).  Programs started from outside enter that
namespace too (nsenter --uts).  The namespace ends with the host's last process,
like the mounts.
"""

import os
import re

from ..errors import EnvError
from ..scenarios import nsswitch_unpinnable
from .hosts import run_on

MOUNT_S = 10.0
# Mount each SOURCE TARGET pair given, in order; stop at the first that fails.
MOUNT_SCRIPT = 'while [ $# -gt 1 ]; do mount --bind "$1" "$2" || exit 1; shift 2; done'
ETC_FILES = ('/etc/hosts', '/etc/resolv.conf', '/etc/gai.conf', '/etc/nsswitch.conf')
NSSWITCH = '/etc/nsswitch.conf'
PINNED_HOSTS = b'hosts: files dns'
# A `hosts:` line as glibc reads one: blanks, the database name, blanks, a colon.
HOSTS_LINE = re.compile(rb'[ \t]*hosts[ \t]*:', re.IGNORECASE)
# A machine's nsswitch.conf is a page; anything bigger is not one to copy.
NSSWITCH_MAX = 64 * 1024


def enter_argv(pid, mounts, uts=False):
    """nsenter's words before a command run in the host whose shell is pid."""
    words = ['nsenter', f'--net=/proc/{pid}/ns/net']
    if uts:
        words.append(f'--uts=/proc/{pid}/ns/uts')
    if mounts:
        words += [f'--mount=/proc/{pid}/ns/mnt', f'--root=/proc/{pid}/root', '--wd=.']
    return words + ['--']


def _write(folder, path, text):
    """The file of text (str or bytes) for /etc path, written under folder (never
    through a link)."""
    src = os.path.join(folder, os.path.basename(path))
    fd = os.open(src, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, 'wb') as f:
        f.write(text if isinstance(text, bytes) else text.encode())
    os.chmod(src, 0o644)        # whoever runs on the host reads its resolver files
    return src


def pinned_nsswitch(data):
    """data (an nsswitch.conf, bytes) with each `hosts:` line PINNED_HOSTS, or with
    PINNED_HOSTS added when it has none; every other line kept byte for byte."""
    lines = data.splitlines()
    out = [PINNED_HOSTS if HOSTS_LINE.match(line) else line for line in lines]
    if not any(HOSTS_LINE.match(line) for line in lines):
        out.append(PINNED_HOSTS)
    return b'\n'.join(out) + b'\n'


def _machine_nsswitch():
    """The machine's /etc/nsswitch.conf, pinned (pinned_nsswitch); None where it has
    none and needs none (scenarios.nsswitch_unpinnable); EnvError naming the fix
    where it has none and needs one, or it cannot be read."""
    why = nsswitch_unpinnable()
    if why is not None:
        raise EnvError(why)
    try:
        with open(NSSWITCH, 'rb') as f:
            data = f.read(NSSWITCH_MAX + 1)
    except FileNotFoundError:
        return None         # glibc's built-in order is `files dns` already
    except OSError as exc:
        raise EnvError(f'cannot read {NSSWITCH}: {exc.strerror}') from None
    if len(data) > NSSWITCH_MAX or b'\0' in data:
        raise EnvError(f'{NSSWITCH} has a NUL byte or more than {NSSWITCH_MAX} bytes: '
                       'not an nsswitch.conf to copy')
    return pinned_nsswitch(data)


def _files_of(entry, pinned):
    """[(/etc path, text)] to mount for a HostFiles: its own files, and pinned (the
    machine's nsswitch.conf pinned to `files dns`, or None) when it pins_nsswitch()."""
    files = [(path, text) for _name, path, text in entry.files()]
    return files + ([(NSSWITCH, pinned)] if pinned is not None and entry.pins_nsswitch()
                    else [])


def own_uts_hosts(topo, host_files):
    """Mark in topo (before it is built) each host that host_files give a hostname:
    its shell is to start in a UTS namespace of its own (network.NetnsHost)."""
    for entry in host_files:
        if entry.hostname is not None:
            topo.setNodeInfo(entry.host, dict(topo.nodeInfo(entry.host), own_uts=True))


def own_uts(pid):
    """True when process pid is in another UTS namespace than this process."""
    try:
        return os.readlink(f'/proc/{pid}/ns/uts') != os.readlink('/proc/self/ns/uts')
    except OSError:
        return False


def mount_host_files(net, host_files, workdir):
    """Write each HostFiles's files into workdir/etc-HOST/ and bind-mount them over
    /etc in that host's mount namespace (with a pinned nsswitch.conf where it
    pins_nsswitch()), and set its hostname in its own UTS namespace (all hosts at
    once).  Returns None, or an error text naming the host and what failed (a host to
    be given a hostname whose shell shares this process's UTS namespace: nothing is
    set).  Raises EnvError when the machine has no file to mount over (a missing
    /etc/gai.conf: create it, or leave gai_conf out; a missing /etc/nsswitch.conf,
    _machine_nsswitch)."""
    commands = []
    pinned = _machine_nsswitch() if any(e.pins_nsswitch() for e in host_files) else None
    for entry in host_files:
        host = net.get(entry.host)
        if entry.hostname is not None and not own_uts(host.pid):
            return f'{entry.host} was to have its own hostname, but its shell shares ' \
                   "the machine's UTS namespace: the topology was not marked before " \
                   'the build (hostfiles.own_uts_hosts)'
        folder = os.path.join(workdir, 'etc-' + entry.host)
        os.mkdir(folder, 0o700)
        words = []
        for path, text in _files_of(entry, pinned):
            if not os.path.isfile(path):
                raise EnvError(f'host {entry.host}: this machine has no {path} to mount '
                               'its own over')
            words += [_write(folder, path, text), path]
        script = MOUNT_SCRIPT
        if entry.hostname is not None:
            host.own_uts = True
            script = f'hostname {entry.hostname} || exit 1; {MOUNT_SCRIPT}'
        commands.append((host, ['sh', '-c', script, 'sh'] + words, None, MOUNT_S))
    for (host, *_rest), (status, _out, err) in zip(commands, run_on(commands)):
        if status != 0:
            return f'the resolver files of {host.name} could not be mounted ' \
                   f'(exit {status}): {err.strip()[:300]}'
        host.own_mounts = True
    return None


def _etc_mounts(pid):
    """{(mount root, mount point)} of process pid's mounts over ETC_FILES."""
    try:
        with open(f'/proc/{pid}/mountinfo', encoding='utf-8', errors='replace') as f:
            lines = f.read().splitlines()
    except OSError:
        return set()
    fields = (line.split() for line in lines)
    return {(w[3], w[4]) for w in fields if len(w) > 4 and w[4] in ETC_FILES}


def own_mounts(pid):
    """True when process pid has a mount over /etc/hosts, resolv.conf, gai.conf or
    nsswitch.conf that this process does not have (the host's own resolver files)."""
    return bool(_etc_mounts(pid) - _etc_mounts('self'))
