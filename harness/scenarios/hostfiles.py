"""A host's own resolver files: what a scenario gives one host instead of the
machine's /etc/hosts, /etc/resolv.conf, /etc/gai.conf and /etc/nsswitch.conf.

    HostFiles(host, hosts=None, resolv_conf=None, gai_conf=None, hostname=None,
              nsswitch_conf=None)
    HostFiles.pins_nsswitch()   True when the host is to resolve by `files dns`
                          whatever the machine's nsswitch.conf says (below)
    nsswitch_unpinnable(libc=None)  None when this machine's hosts can be made to
                          resolve by `files dns`, else why not, naming the fix
    check_host_files(where, host_files, hosts)   ScenarioError naming the first problem
    FILES                                        (field, the /etc path it stands for)
    DnsServer(host, addr, records=((name, addr), ...), local=(domain, ...))
                          a DNS server on host (dnsmasq, net/resolvers.py) answering
                          at addr with the records; a name under a local domain that
                          has no record is NXDOMAIN, any other name REFUSED
    check_dns_servers(where, dns_servers, hosts)

Pure data: net/hostfiles.py writes them into the run's work folder and bind-mounts
them in that host's own mount namespace (its shell's), so that every program of the
host, and only of that host, resolves through them.  A host without HostFiles sees
the machine's files, exactly as before.  A HostFiles with a hostname also gives that
host a UTS namespace of its own (its shell is started in one, in both builders:
net/network.py) and sets the name there, so that gethostname() and `hostname` in
that host, and only there, say it; the machine's hostname is never set.

A host given its own hosts or resolv_conf is given its own nsswitch.conf too: the
machine's, with its `hosts:` line pinned to `files dns` (net/hostfiles.py writes
it), unless the HostFiles gives nsswitch_conf itself.  Else the machine's `hosts:`
line would decide how those files are read, or whether: Ubuntu's `files
mdns4_minimal [NOTFOUND=return] dns myhostname` answers the hostname and
`localhost` from myhostname where the hosts file lacks them (not DNS's EAI_AGAIN),
and systemd-resolved's `files resolve [!UNAVAIL=return] dns` asks the machine's
resolver over its socket and never reads the mounted resolv.conf (a query leaving
the scenario's closed network).  A machine without /etc/nsswitch.conf has nothing
to mount over: glibc 2.35 and later resolve by `files dns` without one (its built-in
order since glibc bug 28700), so nothing needs pinning; an older glibc's built-in
order is `dns [!UNAVAIL=return] files` (DNS first, a timeout final), and a
glibc that reads /usr/etc/nsswitch.conf instead (openSUSE's) reads what it says:
nsswitch_unpinnable names them, and the run refuses them (EnvError; a name
mutation is not applicable there).
"""

import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Optional

from .model import ScenarioError

# Each field and the file of /etc it replaces, in the order they are mounted.
FILES = (('hosts', '/etc/hosts'), ('resolv_conf', '/etc/resolv.conf'),
         ('gai_conf', '/etc/gai.conf'), ('nsswitch_conf', '/etc/nsswitch.conf'))
NSSWITCH = '/etc/nsswitch.conf'
# What a glibc patched as openSUSE's reads where /etc has no nsswitch.conf.
VENDOR_NSSWITCH = '/usr/etc/nsswitch.conf'
# glibc's built-in `hosts:` order is `files dns` from this version on (bug 28700).
FILES_DNS_GLIBC = (2, 35)
# A resolver file is a few lines; a bigger one is a mistake, not a file to copy.
FILE_MAX = 64 * 1024
# A hostname as sethostname() takes one (HOST_NAME_MAX 64) and `hostname` sets it:
# labels of letters, digits and '-', not starting with '-'.
HOSTNAME_RE = re.compile(r'(?=.{1,64}$)[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9][A-Za-z0-9-]*)*')


@dataclass(frozen=True)
class HostFiles:
    """The resolver files of one host: each the whole text of that file, or None for
    the machine's own (e.g. hosts='127.0.0.1 localhost\\n::1 localhost\\n'); hostname,
    the host's own hostname (in a UTS namespace of its own), or None for the
    machine's.  nsswitch_conf None with hosts or resolv_conf given: the machine's
    nsswitch.conf with `hosts: files dns` (pins_nsswitch)."""
    host: str
    hosts: Optional[str] = None
    resolv_conf: Optional[str] = None
    gai_conf: Optional[str] = None
    hostname: Optional[str] = None
    nsswitch_conf: Optional[str] = None

    def pins_nsswitch(self):
        """True when this host is to resolve by `files dns` through a pinned copy of
        the machine's nsswitch.conf: it has its own hosts or resolv.conf and no
        nsswitch.conf of its own."""
        return self.nsswitch_conf is None and \
            (self.hosts is not None or self.resolv_conf is not None)

    def files(self):
        """[(field, /etc path, text)] of the files this host has, in mount order."""
        return [(name, path, getattr(self, name)) for name, path in FILES
                if getattr(self, name) is not None]


def nsswitch_unpinnable(libc=None):
    """None when a host of this machine given its own hosts or resolv.conf can be
    made to resolve by `files dns`: the machine has an /etc/nsswitch.conf to mount a
    pinned copy over, or has none and its glibc (libc: confstr's
    CS_GNU_LIBC_VERSION, `glibc 2.36`; this process's by default) resolves by
    `files dns` without one.  Else why not, naming the fix (a sentence)."""
    if os.path.isfile(NSSWITCH):
        return None
    if libc is None:
        try:
            libc = os.confstr('CS_GNU_LIBC_VERSION') or ''
        except (ValueError, OSError):
            libc = ''
    name, _, version = libc.partition(' ')
    try:
        numbers = tuple(int(n) for n in version.split('.')[:2])
    except ValueError:
        numbers = ()
    fix = f'create {NSSWITCH} with the line `hosts: files dns` (Debian\'s libc-bin ' \
          'ships one: /usr/share/libc-bin/nsswitch.conf)'
    if os.path.exists(VENDOR_NSSWITCH):
        return f'this machine has no {NSSWITCH}, and its glibc may read ' \
               f'{VENDOR_NSSWITCH} instead, whatever its hosts line says: {fix}'
    if name == 'glibc' and numbers >= FILES_DNS_GLIBC:
        return None
    return f'this machine has no {NSSWITCH} to pin to `hosts: files dns`, and its C ' \
           f'library ({libc or "not glibc"}) may resolve without one by glibc\'s old ' \
           'built-in `dns [!UNAVAIL=return] files` (DNS before the hosts file, ' \
           f'and a DNS answer, even a timeout, final): {fix}'


def check_host_files(where, host_files, hosts):
    """Raise ScenarioError naming the first thing wrong in a scenario's host_files
    (a tuple of HostFiles): an unknown or repeated host, a file that is not text, too
    big, has a NUL byte, a hostname that is not one, or a HostFiles with neither a
    file nor a hostname."""
    if not isinstance(host_files, tuple):
        raise ScenarioError(f'{where}: host_files must be a tuple of HostFiles')
    seen = set()
    for entry in host_files:
        if not isinstance(entry, HostFiles):
            raise ScenarioError(f'{where}: host_files: {entry!r} is not a HostFiles')
        if entry.host not in hosts:
            raise ScenarioError(f'{where}: host_files: unknown host {entry.host!r}')
        if entry.host in seen:
            raise ScenarioError(f'{where}: host_files: host {entry.host} given twice')
        seen.add(entry.host)
        if not entry.files() and entry.hostname is None:
            raise ScenarioError(f'{where}: host_files of {entry.host}: no file or '
                                'hostname given')
        if entry.hostname is not None and not (isinstance(entry.hostname, str) and
                                               HOSTNAME_RE.fullmatch(entry.hostname)):
            raise ScenarioError(f'{where}: host_files of {entry.host}: hostname '
                                f'{entry.hostname!r} is not a host name (1-64 bytes of '
                                "letters, digits, '-' and '.')")
        for name, _path, text in entry.files():
            what = f'{where}: host_files of {entry.host}: {name}'
            if not isinstance(text, str):
                raise ScenarioError(f'{what} must be text')
            if '\0' in text or len(text.encode()) > FILE_MAX:
                raise ScenarioError(f'{what}: a NUL byte, or more than {FILE_MAX} bytes')


DNS_NAME = re.compile(r'[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*')


@dataclass(frozen=True)
class DnsServer:
    """A DNS server on host, listening at addr (UDP and TCP port 53), answering the
    records ((name, address), ...) and nothing else (no upstream): a name under one
    of the local domains without a record is NXDOMAIN (EAI_NONAME), any other name
    REFUSED (EAI_AGAIN)."""
    host: str
    addr: str
    records: tuple = ()
    local: tuple = ()


def _check_dns_name(what, name):
    if not isinstance(name, str) or len(name) > 253 or not DNS_NAME.fullmatch(name):
        raise ScenarioError(f'{what}: {name!r} is not a DNS name')


def check_dns_servers(where, dns_servers, hosts):
    """Raise ScenarioError naming the first thing wrong in a scenario's dns_servers:
    an unknown host, an address or a record's address that is not numeric, a name
    that is not a DNS name (each becomes a dnsmasq argument)."""
    if not isinstance(dns_servers, tuple):
        raise ScenarioError(f'{where}: dns_servers must be a tuple of DnsServer')
    for server in dns_servers:
        if not isinstance(server, DnsServer) or server.host not in hosts:
            raise ScenarioError(f'{where}: dns_servers: {server!r} is not a DnsServer '
                                'on a host of the topology')
        what = f'{where}: DNS server on {server.host}'
        pairs = [('', server.addr)] + [(None, r) for r in server.records]
        for _, value in pairs:
            try:
                if isinstance(value, tuple) and len(value) == 2:
                    _check_dns_name(what, value[0])
                    ipaddress.ip_address(value[1])
                else:
                    ipaddress.ip_address(value)
            except (ValueError, TypeError):
                raise ScenarioError(f'{what}: {value!r} is not an address or a '
                                    '(name, address) record') from None
        for domain in server.local:
            _check_dns_name(what, domain)
