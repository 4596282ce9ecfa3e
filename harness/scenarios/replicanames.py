"""A replica host's own name, from its snapshot's `host.hostname` and the entries of
its `hosts` (the real host's /etc/hosts) that name that hostname: one of the
commonest real Errno 99s is a program binding "its own hostname" (Java's
InetAddress.getLocalHost(), Hadoop, Erlang, a server whose default bind address is
`hostname`) where /etc/hosts maps that name to an address the host no longer has (a
DHCP lease that moved, a cloned VM image).

    own_name(host, snap, missing)   (HostFiles, [OwnBind]) of one snapshot: the
                          host's hostname (a UTS namespace of its own) and a hosts
                          file of the `localhost` lines and the snapshot's own-name
                          lines (at most OWN_LINES of OWN_NAMES names); (None,
                          []) for a snapshot whose hosts name not its hostname (or
                          its short form; a Docker or containerlab description has
                          none): that host is as it always was
    hostname_cases(binds, world, holders, adjust)   the binds by hostname as cases
                          of the built replica, predicted in its World

A bind by hostname is a name case (names.py): netprobe resolves the name with
getaddrinfo() through the host's own hosts file, as the program would, and its cell
says the address that gave the outcome.  Its expectation is the bind rule of that
address (derive.expect_bind_in, so a mutation that moves the address moves the
prediction), under rule hosts-file: the address held -> OK, not held (stale) ->
EADDRNOTAVAIL, 127.0.1.1 -> OK (lo holds all of 127/8).  When the hostname's lines
give one address: one case, with a program's hints (any family, the first result:
a `{name}` server takes it).  Several: getaddrinfo sorts them (RFC 6724), so a case
per family asked for alone (family=4, family=6) where that family has one, and a
family with several is listed (which comes first is not predicted).  No case for a
hostname netprobe cannot take as a name, a scoped or link-local address, or on a
host whose hosts file a name mutation replaced (its hostname then goes to DNS).
"""

import ipaddress
from dataclasses import dataclass
from typing import Tuple

from .builders import bind
from .derive import BIND_PORT, expect_bind_in
from .hostfiles import HOSTNAME_RE, HostFiles
from .model import Expect
from .mutate_names import LOOPBACK_HOSTS
from .names import is_name


# A real /etc/hosts names its hostname on a line or two, with two or three of its
# names (short, FQDN); more are a mistake or hostile, and the file is kept small.
OWN_LINES, OWN_NAMES = 16, 8


def own_lines(entries, hostname):
    """The entries of a snapshot's hosts that name hostname or its short form (its
    first label), letters in any case (as the resolver matches), each with only the
    host's own names on it (their first label the hostname's: `web1`,
    `web1.example.com`), in the file's order."""
    short = hostname.split('.')[0].lower()
    out = []
    for entry in entries:
        if {n.lower() for n in entry['names']} & {hostname.lower(), short}:
            out.append({'address': entry['address'],
                        'names': [n for n in entry['names']
                                  if n.split('.')[0].lower() == short]})
    return out


@dataclass(frozen=True)
class OwnBind:
    """A bind by host's hostname, which its hosts file gives as addr; options: the
    family asked for alone (('family=4',)) where the name has more than one."""
    host: str
    hostname: str
    addr: str
    options: Tuple[str, ...] = ()


def own_name(host, snap, missing):
    """(HostFiles, [OwnBind]) of snapshot snap as host; what cannot be given goes to
    missing ({what, why})."""
    hostname = snap['host']['hostname']
    lines = own_lines(snap['hosts'], hostname)
    if not lines:
        return None, []
    if len(lines) > OWN_LINES or any(len(x['names']) > OWN_NAMES for x in lines):
        missing.append({'what': f'{host} hosts lines of its hostname',
                        'why': f'more than {OWN_LINES} lines name {hostname!r}, or more '
                               f'than {OWN_NAMES} of its names on one: the first kept'})
        lines = [dict(x, names=x['names'][:OWN_NAMES]) for x in lines[:OWN_LINES]]
    given = hostname if HOSTNAME_RE.fullmatch(hostname) else None
    if given is None:
        missing.append({'what': f'{host} hostname', 'why': f'{hostname!r} is not a name '
                        '`hostname` sets here (letters, digits, - and ., at most 64): '
                        "the host has the machine's"})
    text = LOOPBACK_HOSTS + ''.join(f'{x["address"]} {" ".join(x["names"])}\n'
                                    for x in lines)
    files = HostFiles(host, hosts=text, hostname=given)
    if not is_name(hostname):
        return files, []
    addrs = []
    for x in lines:
        if hostname.lower() in {n.lower() for n in x['names']} and \
                x['address'] not in addrs and _bindable(x['address']):
            addrs.append(x['address'])
    if len(addrs) == 1:
        return files, [OwnBind(host, hostname, addrs[0])]
    binds = []
    for version in (4, 6):
        mine = [a for a in addrs if ipaddress.ip_address(a).version == version]
        if len(mine) == 1:
            binds.append(OwnBind(host, hostname, mine[0], (f'family={version}',)))
        elif mine:
            missing.append({'what': f'{host} bind by hostname {hostname} (IPv{version})',
                            'why': f'its hosts file gives it {", ".join(mine)}: '
                                   'getaddrinfo sorts them (RFC 6724), which one a '
                                   'program binds is not predicted: no case'})
    return files, binds


def _bindable(addr):
    """True for an address a bind by name can be predicted at: not scoped, not
    link-local, multicast or unspecified."""
    if '%' in addr:
        return False
    ip = ipaddress.ip_address(addr)
    return not (ip.is_link_local or ip.is_multicast or ip.is_unspecified)


def hostname_cases(binds, world, holders, adjust):
    """The binds by hostname as cases of the built replica, each predicted by the
    rule of its address in world (adjust: the Replica's own, for the sysctls the
    derived rules do not read); none on a host a mutation gave a hosts file
    (holders: the mutation's, HostFiles among them)."""
    replaced = {h.host for h in holders if isinstance(h, HostFiles) and h.hosts is not None}
    cases = []
    for b in binds:
        if b.host in replaced:
            continue
        exp = adjust(bind(b.host, b.addr, BIND_PORT,
                          expect_bind_in(world, b.host, b.addr))).expect
        rule = 'hosts-file' if exp.rule in ('owner-binds', 'loopback-binds') else exp.rule
        cases.append(bind(b.host, b.hostname, BIND_PORT, Expect(
            f'{b.addr} {exp.outcome}', f"{b.host}'s hosts file gives its hostname "
            f"{b.hostname} as {b.addr}, as the real host's did: {exp.reason}", rule),
            options=b.options))
    return cases
