"""Deciding a launch from its trace records (libbindtrace.so's or bindtrace-sys's).

A server is decided by its first failed bind/listen or its first successful listen
(UDP: bind), with the bind record kept (the call it really made: judge.py compares it
with the case's).  A client by its own failed bind (its src=, not a runtime's probe)
or its first connect, followed on its pid and fd: getsockopt(SO_ERROR) ("phase":
"done"), a second connect() (0 or EISCONN connected; EALREADY still under way, or,
if the program then closes the socket or exits, its outcome: it gave up), a close()
while under way (it gave up: ETIMEDOUT), with the whole wait as elapsed_us.
"""

from ..scenarios import OK, unmapped
from .udptraced import decide_udpcall, UDP_CALLS


def _result(rec, **more):
    """An outcome from one trace record."""
    out = {'actual': OK if rec.get('ok') else str(rec.get('error')),
           'message': rec.get('message'), 'elapsed_us': rec.get('elapsed_us'),
           'local': rec.get('local'), 'record': rec}
    out.update(more)
    return out


def relevant(launch, recs, ops):
    """The records of ops, those at the launch's port first when it has one."""
    recs = [r for r in recs if r.get('op') in ops]
    if launch.port is not None:
        at_port = [r for r in recs if r.get('port') == launch.port]
        if at_port or launch.program.role == 'client':
            return at_port
    return recs


PENDING = ('EINPROGRESS', 'EALREADY')     # a connect still under way
# Binds a runtime makes on its own before the program's first call: Go's net package
# probes the IPv6 stack by binding [::1]:0 and [::ffff:127.0.0.1]:0 (ipsock_posix.go);
# in a namespace without IPv6 on lo that fails, and is not the client's outcome.
PROBE_ADDRS = ('::1', '::ffff:127.0.0.1', '127.0.0.1')


def own_bind(launch, rec):
    """True if a client launch's bind record is the program's own source bind: the
    case's src= when it has one, else any bind but a runtime's port-0 loopback probe."""
    if launch.src is not None:      # Java binds IPv4 sources as ::ffff:a.b.c.d
        return unmapped(rec.get('addr') or '') == unmapped(launch.src)
    return not (rec.get('port') in (0, None) and rec.get('addr') in PROBE_ADDRS)


def decide_traced(launch, recs, exited, waited_s=None):
    """The outcome from trace records, or None while still undecided.

    A client's connect is decided by the records of its pid and fd after the first
    connect(): an answer to getsockopt(SO_ERROR) ("phase": "done"), a second
    connect() (0 or EISCONN: connected; EALREADY: still under way; any other error:
    the outcome), or a close() while under way (the program gave up).  Still under way
    when the program exited: it gave up; when the harness's timeout (waited_s) ended:
    ETIMEDOUT, saying so.
    """
    if getattr(launch, 'case', None) is not None and launch.case.kind in UDP_CALLS:
        return decide_udpcall(launch.case, recs)     # a join, mcast-if or send
    if launch.program.role == 'server':
        bound = None
        for rec in relevant(launch, recs, ('bind', 'listen')):
            bound = rec if rec['op'] == 'bind' else bound
            if not rec.get('ok'):
                return _result(rec, bind=bound)
            if rec['op'] == 'listen' or launch.program.proto == 'udp':
                return _result(rec, bind=bound)
        return None
    binds = [r for r in recs if r.get('op') == 'bind' and not r.get('ok')
             and own_bind(launch, r)]
    connects = relevant(launch, recs, ('connect',))
    first = connects[0] if connects else None
    if binds and (first is None or recs.index(binds[0]) < recs.index(first)):
        return _result(binds[0])
    if first is None:
        return None
    if first.get('error') not in PENDING:
        return _result(first)
    done = _finished(first, recs[recs.index(first) + 1:])
    if done is not None:
        return done
    if exited:
        again = _asked_again(first, recs[recs.index(first) + 1:])
        if again is not None:
            return _result(again, message=GAVE_UP_ALREADY.format(how='exited'))
        return _result(dict(first, error='ETIMEDOUT', ok=False),
                       message='connect() never completed: the program gave up on it '
                               '(its own timeout)')
    if waited_s is not None:
        return _result(dict(first, error='ETIMEDOUT', ok=False),
                       message=f'the harness stopped the program still waiting for its '
                               f'connect() after {waited_s:g} s')
    return None


def _asked_again(first, later):
    """The last EALREADY of a second connect() on first's socket, or None."""
    again = [r for r in later if r.get('op') == 'connect' and r.get('error') == 'EALREADY'
             and (r.get('pid'), r.get('fd')) == (first.get('pid'), first.get('fd'))]
    return again[-1] if again else None


GAVE_UP_ALREADY = ('the program gave up while its connect() was under way: its second '
                   'connect() said EALREADY (poll() woke it, often as an error arrived '
                   'a moment before the kernel ended the connect), and it {how}')


def _finished(first, later):
    """How the non-blocking connect `first` ended, from the records after it; None
    while it is still under way.  A close() while under way: the program gave up,
    EALREADY when a second connect() had said so, else ETIMEDOUT; elapsed_us the
    whole wait (the close record's: since the connect() began)."""
    again = None
    for rec in later:
        if (rec.get('pid'), rec.get('fd')) != (first.get('pid'), first.get('fd')):
            continue
        if rec.get('op') == 'close':
            waited = max(rec.get('elapsed_us') or 0, first.get('elapsed_us') or 0)
            if again is not None:
                return _result(dict(again, elapsed_us=waited), message=GAVE_UP_ALREADY
                               .format(how='closed the socket'))
            return _result(dict(first, error='ETIMEDOUT', ok=False, elapsed_us=waited),
                           message='the program closed the socket while its connect() '
                                   'was under way (it gave up)')
        if rec.get('op') != 'connect':
            continue
        if rec.get('phase') == 'done':
            return _result(rec)
        if rec.get('ok') or rec.get('error') == 'EISCONN':
            return _result(dict(rec, ok=True, error=None),
                           message='connected (a second connect() said so)')
        if rec.get('error') == 'EALREADY':
            again = rec
        elif rec.get('error') not in PENDING:
            return _result(rec)
    return None
