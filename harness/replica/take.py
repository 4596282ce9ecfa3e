"""Taking a snapshot of the namespace this process runs in: read-only, never connects.

Everything comes from `ip -j` (addresses, links, routes, rules, neighbours), `ss`
(listeners), /proc/sys (the sysctls that decide binds), /etc/hosts, /etc/resolv.conf
and the hostname; parse.py turns each into the snapshot's own fields.  What could not
be read (a tool missing, a file unreadable, other users' processes without root) is
listed in `unreadable`, never guessed.
"""

import datetime
import os
import platform
import shutil
import socket
import stat
import subprocess

from .. import __version__
from . import parse
from .schema import FORMAT, GLOBAL_SYSCTLS, INTERFACE_SYSCTLS, VERSION

TOOL_TIMEOUT_S = 20
MAX_READ = 1024 * 1024          # /etc/hosts or a sysctl larger than this is not read



def tool(name):
    """The path of `ip` or `ss`: PATH, else the sbin folders a user's PATH may lack."""
    found = shutil.which(name)
    for folder in ('/usr/sbin', '/sbin', '/usr/bin', '/bin'):
        if found:
            break
        if os.access(os.path.join(folder, name), os.X_OK):
            found = os.path.join(folder, name)
    return found


def run_tool(argv, missing):
    """(stdout, None) of a read-only command, or (None, why) when it could not run."""
    path = tool(argv[0])
    if not path:
        return None, f'{argv[0]} not found ({missing})'
    try:
        done = subprocess.run([path] + argv[1:], capture_output=True, text=True,
                              timeout=TOOL_TIMEOUT_S, env=dict(os.environ, LC_ALL='C'))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f'{" ".join(argv)}: {exc}'
    if done.returncode != 0:
        err = done.stderr.strip().splitlines()
        return None, f'{" ".join(argv)}: exit {done.returncode}' + (
            f': {err[-1]}' if err else '')
    return done.stdout, None


def read_text(path):
    """(text, None) of a small regular file (a symlink to one is followed: this is the
    host's own configuration), or (None, why)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        return None, f'{path}: {exc.strerror}'
    with os.fdopen(fd, 'rb') as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None, f'{path}: not a regular file'
        try:
            data = f.read(MAX_READ + 1)
        except OSError as exc:
            return None, f'{path}: {exc.strerror}'
    if len(data) > MAX_READ:
        return None, f'{path}: larger than {MAX_READ} bytes'
    return data.decode('utf-8', errors='replace'), None


class Taker:
    """One snapshot being taken: the fields so far and what could not be read."""

    def __init__(self):
        self.unreadable = []

    def missed(self, what, why):
        def clean(text, limit):
            return ''.join(c if c.isprintable() else ' ' for c in text)[:limit]
        self.unreadable.append({'what': clean(what, 200), 'why': clean(why, 1000)})

    def ip_json(self, what, *argv):
        text, why = run_tool(['ip', '-j', *argv], 'install iproute2')
        if text is None:
            self.missed(what, why)
            return []
        try:
            return parse.ip_json(text)
        except ValueError as exc:
            self.missed(what, f'ip -j {" ".join(argv)}: {exc}')
            return []

    def sysctl(self, name):
        text, why = read_text('/proc/sys/' + name.replace('.', '/'))
        if text is None:
            self.missed(f'sysctl {name}', why)
        return None if text is None else ' '.join(text.split())

    def interfaces(self):
        links = self.ip_json('links and addresses', '-d', 'addr', 'show')
        out = []
        for link in links:
            try:
                iface = parse.interface(link)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                self.missed(f'interface {str(link.get("ifname"))[:20]!r}', str(exc))
                continue
            iface['sysctls'] = {}
            for key in INTERFACE_SYSCTLS:
                ipv, leaf = key.split('.')
                text, why = read_text(f'/proc/sys/net/{ipv}/conf/{iface["name"]}/{leaf}')
                if text is not None:
                    iface['sysctls'][key] = ' '.join(text.split())
                elif not (ipv == 'ipv6' and 'No such file' in why):
                    self.missed(f'sysctl {key} of {iface["name"]}', why)
            out.append(iface)
        return out

    def each(self, what, parser, entries, *args):
        """parser(entry, *args) of each entry; one it cannot read is listed, not kept."""
        out = []
        for entry in entries:
            try:
                item = parser(entry, *args)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                self.missed(what, f'{str(entry)[:300]}: {exc}')
                continue
            if item:
                out.append(item)
        return out

    def routing(self):
        """(routes, rules, neighbours) of both families."""
        routes, rules = [], []
        for family, flag in (('inet', '-4'), ('inet6', '-6')):
            routes += self.each(f'an {family} route', parse.route, self.ip_json(
                f'{family} routes', flag, 'route', 'show', 'table', 'all'), family)
            rules += self.each(f'an {family} rule', parse.rule, self.ip_json(
                f'{family} rules', flag, 'rule', 'show'), family)
        neighbours = self.each('a neighbour', parse.neighbour,
                               self.ip_json('neighbours', 'neigh', 'show'))
        return routes, rules, neighbours

    def listeners(self):
        out = []
        for proto, flags in (('tcp', '-H -ltnpe'), ('udp', '-H -lunpe')):
            text, why = run_tool(['ss', *flags.split()], 'install iproute2')
            if text is None:
                self.missed(f'{proto} listeners', why)
                continue
            out += self.each(f'a {proto} listener', parse.listener,
                             [line for line in text.splitlines() if line.strip()], proto)
        hidden = sum(1 for x in out if not x['processes'])
        if hidden:
            self.missed(f'the processes of {hidden} listener(s)',
                        'not root: ss shows only your own (run as root to see them)'
                        if os.geteuid() != 0 else
                        'their processes are not visible from this PID namespace')
        return out

    def files(self):
        hosts, why = read_text('/etc/hosts')
        if hosts is None:
            self.missed('/etc/hosts', why)
        resolv, why = read_text('/etc/resolv.conf')
        if resolv is None:
            self.missed('/etc/resolv.conf', why)
        entries, dropped = parse.hosts_file(hosts or '')
        if dropped:
            self.missed('/etc/hosts', f'names bindlab does not keep: {dropped[:5]}')
        return entries, parse.resolv_conf(resolv or '')


def take_snapshot():
    """The snapshot of this process's network namespace, as a dict (schema.py)."""
    taker = Taker()
    interfaces = taker.interfaces()
    routes, rules, neighbours = taker.routing()
    listeners = taker.listeners()
    sysctls = {}
    for name in GLOBAL_SYSCTLS:
        value = taker.sysctl(name)
        if value is not None:
            sysctls[name] = value
    hosts, resolv = taker.files()
    now = datetime.datetime.now(datetime.timezone.utc)
    return {'format': FORMAT, 'version': VERSION,
            'taken': now.strftime('%Y-%m-%dT%H:%M:%SZ'), 'bindlab': __version__,
            'redacted': False,
            'host': {'hostname': socket.gethostname(), 'kernel': platform.release()},
            'interfaces': interfaces, 'routes': routes, 'rules': rules,
            'neighbours': neighbours, 'listeners': listeners, 'sysctls': sysctls,
            'hosts': hosts, 'resolv': resolv, 'unreadable': taker.unreadable}
