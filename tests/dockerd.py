"""dockerd: a private Docker daemon for the tests, and the machine put back after it.

A running dockerd changes the shared machine: it sets iptables' FORWARD policy to
DROP, adds its chains and rules, sets net.ipv4.ip_forward=1, and leaves all of that
(and a bridge, if it made one) behind when it stops.  So the tests start one only
while the caller holds the Mininet lock (`held_lock()`), with everything of its own:

    --data-root, --exec-root, --pidfile, -H unix://<dir>/docker.sock in a temporary
    folder, --storage-driver vfs; its network as Docker's defaults make it: docker0 on
    172.17.0.1/16, FORWARD DROP, the DOCKER-ISOLATION chains, DOCKER-USER, and
    `POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE` (bridge='none' for
    a daemon without docker0 and its rules)

`Firewall.save()` records iptables-save, ip6tables-save, `nft list ruleset`, the
FORWARD policies, the sysctls dockerd touches and the root namespace's interfaces;
`Dockerd.stop()` ends the daemon by its PID (and its containerd by its PID), and
`Firewall.restore()` removes what it left: the nft tables that were not there before,
the sysctls set back, interfaces that were not there before and that dockerd made.
`Firewall.diff()` says what still differs (empty = the machine is as it was).
"""

import fcntl
import os
import re
import shutil
import signal
import subprocess
import time

LOCK = '/tmp/bindlab-mininet.lock'
SYSCTLS = ('net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding',
           'net/bridge/bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-ip6tables')
DOCKER_LINKS = ('docker0',)
GUARD_S = 90        # a guard against a hung daemon, never an assertion about speed


def held_lock():
    """True when someone (the caller's flock) holds the Mininet lock: a lock we could
    take ourselves means nobody does, and no daemon may start."""
    try:
        fd = os.open(LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def installed():
    """'' when dockerd, the docker client and iptables are installed, else what lacks."""
    missing = [p for p in ('dockerd', 'iptables', 'ip6tables') if not shutil.which(p)]
    if not os.path.exists('/usr/bin/docker') and not shutil.which('docker'):
        missing.append('docker')
    return ', '.join(missing)


def client():
    return '/usr/bin/docker' if os.path.exists('/usr/bin/docker') else shutil.which('docker')


def _out(argv):
    res = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return res.stdout if res.returncode == 0 else ''


def _save_text(cmd):
    """cmd-save without its comment lines and packet counters (they change)."""
    if not shutil.which(cmd):
        return ''
    lines = [re.sub(r'\[\d+:\d+\]', '', line) for line in _out([cmd]).splitlines()
             if not line.startswith('#')]
    return '\n'.join(lines)


def nft_tables():
    """{'ip filter', ...}: the nft tables of the root namespace."""
    return {' '.join(line.split()[1:3]) for line in _out(['nft', 'list', 'tables']).splitlines()
            if line.startswith('table ')}


class Firewall:
    """What a Docker daemon changes, as it was at save()."""

    def save(self):
        self.iptables = _save_text('iptables-save')
        self.ip6tables = _save_text('ip6tables-save')
        self.nft = re.sub(r'counter packets \d+ bytes \d+', 'counter',   # they change
                          _out(['nft', 'list', 'ruleset']))
        self.tables = nft_tables()
        self.sysctls = {k: _read(f'/proc/sys/{k}') for k in SYSCTLS}
        self.links = set(os.listdir('/sys/class/net'))
        return self

    def diff(self, other=None):
        """What differs between this snapshot and other (default: now)."""
        other = other or Firewall().save()
        out = [f'{what} differs' for what in ('iptables', 'ip6tables', 'nft', 'tables')
               if getattr(self, what) != getattr(other, what)]
        out += [f'{k}: {v} -> {other.sysctls[k]}' for k, v in self.sysctls.items()
                if other.sysctls[k] != v]
        out += [f'interface {n} appeared' for n in sorted(other.links - self.links)]
        out += [f'interface {n} is gone' for n in sorted(self.links - other.links)]
        return out

    def restore(self):
        """Remove what a stopped dockerd left: nft tables that were not there (its
        iptables-nft tables), its bridge, and the sysctls as they were."""
        for table in sorted(nft_tables() - self.tables):
            subprocess.run(['nft', 'delete', 'table'] + table.split(), timeout=30)
        for name in DOCKER_LINKS:
            if name not in self.links and os.path.exists(f'/sys/class/net/{name}'):
                subprocess.run(['ip', 'link', 'del', 'dev', name], timeout=30)
        for key, value in self.sysctls.items():
            if value is not None and _read(f'/proc/sys/{key}') != value:
                with open(f'/proc/sys/{key}', 'w') as f:
                    f.write(value)


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


class Dockerd:
    """A dockerd of its own in folder (a temporary folder of the test)."""

    def __init__(self, folder, bridge=None):
        self.folder = str(folder)
        self.sock = os.path.join(self.folder, 'docker.sock')
        self.host = f'unix://{self.sock}'
        self.log = open(os.path.join(self.folder, 'dockerd.log'), 'w')
        argv = ['dockerd', '--data-root', os.path.join(self.folder, 'data'),
                '--exec-root', os.path.join(self.folder, 'exec'),
                '--pidfile', os.path.join(self.folder, 'dockerd.pid'),
                '-H', self.host, '--storage-driver', 'vfs'] + \
            (['--bridge', bridge] if bridge else [])
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.children = set()

    def docker(self, *args, check=True):
        """`docker -H <our socket> ARGS`; the CompletedProcess."""
        res = subprocess.run([client(), '-H', self.host] + list(args), capture_output=True,
                             text=True, timeout=GUARD_S)
        if check and res.returncode != 0:
            raise RuntimeError(f'docker {" ".join(args)}: {res.stderr.strip()}')
        return res

    def wait_ready(self):
        """Until the daemon answers on its socket; notes its children (containerd)."""
        deadline = time.monotonic() + GUARD_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'dockerd exited {self.proc.returncode}: see {self.log.name}')
            if self.docker('version', check=False).returncode == 0:
                self.children = _children(self.proc.pid)
                return
            time.sleep(0.2)
        raise RuntimeError('dockerd never answered')

    def stop(self):
        """SIGTERM by PID (SIGKILL after the guard), then its children by PID."""
        self.children |= _children(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=GUARD_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self.children:
            deadline = time.monotonic() + GUARD_S
            while _is_ours(pid, self.folder) and time.monotonic() < deadline:
                os.kill(pid, signal.SIGTERM)
                time.sleep(0.2)
        self.log.close()


def _children(pid):
    """PIDs of pid's child processes."""
    found = set()
    for task in os.listdir(f'/proc/{pid}/task') if os.path.isdir(f'/proc/{pid}/task') else ():
        text = _read(f'/proc/{pid}/task/{task}/children') or ''
        found |= {int(p) for p in text.split()}
    return found


def _is_ours(pid, folder):
    """True while pid runs with our folder in its command line (our containerd)."""
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            return folder.encode() in f.read()
    except OSError:
        return False
