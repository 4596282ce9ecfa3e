"""A traced program's joins, multicast interfaces and sends (the records of
csrc/trace/trace_udpcalls.h, both tracers): the Observation of a join, mcast-if or
send case (harness/scenarios/udpcalls.py) from the program's trace records.

A case is matched by the record of its call: op (join, mcast-if, send), then what
the case names: the group and the interface (if=) of a join, the interface of a
mcast-if, the destination and the source (src= bound, pktinfo= in PKTINFO) of a
send.  The first matching record is the program's outcome (a program that retries
is judged by its first try, as a connect is); none: None (NOCALL is the caller's
word for a program that exited without it).
"""

from ..scenarios import option, unmapped
from .observation import Observation

# The kinds of these calls, and the role of the program that takes each's cells:
# a receiver (--server) joins and names its multicast interface, a sender (--client)
# sends from its source.
UDP_CALLS = {'join': 'server', 'mcast-if': 'server', 'send': 'client'}


def _same(a, b):
    return a is not None and b is not None and unmapped(str(a)) == unmapped(str(b))


def matches(case, rec):
    """True when trace record rec is the call case describes."""
    if rec.get('op') != case.kind:
        return False
    iface = option(case, 'if')
    if case.kind in ('join', 'mcast-if'):
        if iface is not None and not (_same(rec.get('if'), iface) or
                                      _same(rec.get('ifindex'), iface)):
            return False
        return case.kind == 'mcast-if' or _same(rec.get('addr'), case.addr)
    if not (_same(rec.get('addr'), case.addr) and rec.get('port') == case.port):
        return False
    src, pktinfo = option(case, 'src'), option(case, 'pktinfo')
    return (src is None or _same(rec.get('src'), src)) and \
        (pktinfo is None or _same(rec.get('pktinfo'), pktinfo))


def observe_udpcall(case, recs):
    """The Observation of case from a traced program's records (method 'tracer' or
    'syscall', by the record's tracer), or None when no record is its call."""
    rec = next((r for r in recs if matches(case, r)), None)
    if rec is None:
        return None
    method = 'syscall' if rec.get('tracer') == 'syscall' else 'tracer'
    return Observation.of_record(rec, method, sees_peer=False)


def takes_udpcall(program, case):
    """True if program (programs.Program) takes this join, mcast-if or send case's
    cell: a server template for a join or mcast-if, told the interface ({if}) when
    the case names one; a client template for a send, told its source ({src}: the
    case's src= or pktinfo=).  Whatever the program's protocol: these calls are UDP."""
    if UDP_CALLS.get(case.kind) != program.role:
        return False
    if case.kind == 'send':
        return '{src}' in program.template
    return option(case, 'if') is None or '{if}' in program.template


def source_of(case):
    """The source a send case chooses (src=, else pktinfo=), or None."""
    return option(case, 'src') or option(case, 'pktinfo')


def decide_udpcall(case, recs):
    """The outcome of a program launched for a join, mcast-if or send case, from its
    trace records (traced.py's shape), or None while it has not made the call."""
    rec = next((r for r in recs if matches(case, r)), None)
    if rec is None:
        return None
    return {'actual': 'OK' if rec.get('ok') else str(rec.get('error')),
            'message': rec.get('message'), 'elapsed_us': rec.get('elapsed_us'),
            'local': rec.get('local'), 'record': rec}
