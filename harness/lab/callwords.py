"""What an errno means on the calls besides bind and connect (issue 25): the same
mistake, an address the host lacks, gets another errno on each call, so `explain`
says it for the call the cell made, and names the netprobe command that diagnoses
it (`netprobe diagnose --join|--mcast-if|--send`, docs/netprobe.md).
"""

from ..scenarios import option

UDP_KINDS = ('join', 'mcast-if', 'send')

CALL_MEANING = {
    ('join', 'ENODEV'): 'errno 19, "No such device", on a multicast join '
                        '(IP_ADD_MEMBERSHIP): no interface of this host has the address '
                        '(or the index) the join names -- the mistake bind() calls '
                        'EADDRNOTAVAIL; BSD and macOS say EADDRNOTAVAIL here too',
    ('join', 'EINVAL'): 'the group is not a multicast address',
    ('join', 'EADDRINUSE'): 'this socket already joined that group on that interface',
    ('mcast-if', 'EADDRNOTAVAIL'): 'errno 99 on IP_MULTICAST_IF: no interface of this '
                                   'host has the address (or index) it names',
    ('mcast-if', 'ENODEV'): 'IPV6_MULTICAST_IF names an interface index this host does '
                            'not have',
    ('send', 'ENETUNREACH'): 'errno 101 on a send with a chosen source: the source '
                             '(IP_PKTINFO, or a bound address that left since) is not '
                             'this host\'s, so no route leaves from it (or no route '
                             'reaches the destination)',
    ('send', 'EINVAL'): 'IPV6_PKTINFO names a source address this host does not hold',
    ('send', 'EADDRNOTAVAIL'): 'errno 99 in the bind() before the send: the source is '
                               'not one of this host\'s addresses',
    ('send', 'ENODEV'): 'IP_PKTINFO names an interface index this host does not have',
}


def call_meaning(cell):
    """What cell's outcome means on its call, or None (the generic meaning holds)."""
    return CALL_MEANING.get((cell.kind, cell.actual))


def diagnose_argv(cell):
    """`netprobe diagnose` arguments for a join, mcast-if or send cell: the call
    tried again, and what its errno means here."""
    argv = ['diagnose', f'--{cell.kind}']
    for name in ('if', 'src', 'pktinfo'):
        value = option(cell, name)
        if value:
            argv += [f'--{name}', value]
    return argv + [str(cell.addr)] + ([str(cell.port)] if cell.port else [])
