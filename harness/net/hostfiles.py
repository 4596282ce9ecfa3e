"""Each host's own resolver files, bind-mounted in that host's own mount namespace.

    mount_host_files(net, host_files, workdir)   the scenario's HostFiles written under
                          workdir and mounted over /etc in each host; None or why not
    enter_argv(pid, own_mounts)                  the nsenter words that run a command
                          in the host whose shell is pid (its mount namespace too when
                          own_mounts)
    own_mounts(pid)       True when the shell pid has resolver files of its own (a
                          mount over /etc/hosts, resolv.conf or gai.conf that this
                          process does not have): how a lab's check, run from
                          another process, knows

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
A name mutation's files (scenarios/mutate_names.py) are mounted the same way once
the network is built; on a shared network the undo unmounts them and proves it
(net/undo.py reads each touched host's mounts).
"""

import os

from ..errors import EnvError
from .hosts import run_on

MOUNT_S = 10.0
# Mount each SOURCE TARGET pair given, in order; stop at the first that fails.
MOUNT_SCRIPT = 'while [ $# -gt 1 ]; do mount --bind "$1" "$2" || exit 1; shift 2; done'
ETC_FILES = ('/etc/hosts', '/etc/resolv.conf', '/etc/gai.conf')


def enter_argv(pid, mounts):
    """nsenter's words before a command run in the host whose shell is pid."""
    words = ['nsenter', f'--net=/proc/{pid}/ns/net']
    if mounts:
        words += [f'--mount=/proc/{pid}/ns/mnt', f'--root=/proc/{pid}/root', '--wd=.']
    return words + ['--']


def _write(folder, path, text):
    """The file of text for /etc path, written under folder (never through a link)."""
    src = os.path.join(folder, os.path.basename(path))
    fd = os.open(src, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.chmod(src, 0o644)        # whoever runs on the host reads its resolver files
    return src


def mount_host_files(net, host_files, workdir):
    """Write each HostFiles's files into workdir/etc-HOST/ and bind-mount them over
    /etc in that host's mount namespace (all hosts at once).  Returns None, or an
    error text naming the host and what failed.  Raises EnvError when the machine has
    no file to mount over (a missing /etc/gai.conf: create it, or leave gai_conf out)."""
    commands = []
    for entry in host_files:
        folder = os.path.join(workdir, 'etc-' + entry.host)
        os.mkdir(folder, 0o700)
        words = []
        for _name, path, text in entry.files():
            if not os.path.isfile(path):
                raise EnvError(f'host {entry.host}: this machine has no {path} to mount '
                               'its own over')
            words += [_write(folder, path, text), path]
        commands.append((net.get(entry.host), ['sh', '-c', MOUNT_SCRIPT, 'sh'] + words,
                         None, MOUNT_S))
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
    """True when process pid has a mount over /etc/hosts, resolv.conf or gai.conf
    that this process does not have (the host's own resolver files)."""
    return bool(_etc_mounts(pid) - _etc_mounts('self'))
