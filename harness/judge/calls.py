"""Which of the scenario's cases a program's call was: its traced bind compared with
the cases by what decides a bind, and its connect by the wait it really had.

A bind is compared as (address, deciding options), normalised:
- an IPv4-mapped IPv6 address is the IPv4 address (that socket binds IPv4), and an
  address is compared in its canonical form;
- a scope is an interface, by index or by name: the tracer writes `fe80::1%2`, a case
  says `fe80::1%h1-eth0`; the prober resolves the index in the host and supplies the
  name (the call's `scope`: {'index': 2, 'name': 'h1-eth0'}), and either matches;
- SO_REUSEADDR and SO_REUSEPORT count only where the scenario tests them: where a
  bind case of that host, protocol, port and address sets one.  Runtimes set them on
  every listener (Go, Java, Node, asyncio), so elsewhere they would defeat the match;
- a dual-stack `[::]` (IPV6_V6ONLY=0) is an IPv4 and an IPv6 wildcard at once (Go's and
  Java's listener for 0.0.0.0): judged as the scenario's case of that call when it has
  one, else by its cases of the two halves, 0.0.0.0 and `[::]` v6only=1, together (the
  first refusal of either, else OK).

A connect is judged by the program's own wait (it keeps its own timeout): one that
waited past its case's timeout= and got the kernel's verdict, where the case expects
ETIMEDOUT, is judged as the same connect with a long enough timeout=; one that gave
up (ETIMEDOUT) before its case's timeout=, where the case expects the kernel's
verdict, as the same connect with a timeout= that short (the longest one within its
wait; else the shortest that expects ETIMEDOUT: nothing came within that, so nothing
came within less).
"""

import ipaddress

from ..scenarios import ERROR, NOCALL, option, timeout_of, unmapped

REUSE = ('reuseaddr', 'reuseport')
# Outcomes that are no verdict of the kernel's on a connect: the program gave up on it
# (EALREADY: a second connect() while under way, then close or exit), never made it,
# or it could not be measured.
GAVE_UP = ('EALREADY', NOCALL, ERROR)
# The options of a bind that decide its outcome, as plan words (the tracer's too).
BIND_WORDS = REUSE + ('freebind', 'v6only=1')


def canonical(addr, scope=None):
    """addr unmapped, in canonical form, its scope as the interface's name when it is
    the index the prober resolved (scope: {'index', 'name'} or None)."""
    base, mark, zone = unmapped(addr.strip('[]')).partition('%')
    try:
        base = ipaddress.ip_address(base).compressed
    except ValueError:
        pass
    if mark and scope and zone == str(scope.get('index')) and scope.get('name'):
        zone = scope['name']
    return base + mark + zone


def bind_call(addr, options, scope=None):
    """A bind's (address, deciding options) for comparing calls (module docstring);
    v6only=0 is the default and says nothing, and a scoped address's own interface as
    dev= neither (binding fe80::1%2 binds the socket to interface 2: the tracer reads
    it back as dev=)."""
    addr = canonical(addr, scope)
    own = 'dev=' + addr.partition('%')[2]
    words = sorted(o for o in options if (o in BIND_WORDS or o.startswith('dev='))
                   and o != own)
    return addr, tuple(words)


def show_call(call):
    addr, words = call
    return f'bind({addr}' + ''.join(f', {w}' for w in words) + ')'


def _bare(call):
    """The call without its reuse options."""
    return call[0], tuple(w for w in call[1] if w not in REUSE)


def _binds_beside(case, cases, scope):
    """[(case id, Case, its call)] of the bind cases of case's host, protocol, port."""
    return [(cid, other, bind_call(other.addr, other.options, scope))
            for cid, other in cases if other.kind == 'bind' and
            (other.host, other.proto, other.port) == (case.host, case.proto, case.port)]


def _same(made, call, beside):
    """True if made is call: with its reuse options where a case beside has them for
    that address, without them elsewhere."""
    tested = any(set(c[1]) & set(REUSE) for _i, _o, c in beside if _bare(c) == _bare(call))
    return made == call if tested else _bare(made) == _bare(call)


def _case_of(made, beside):
    """The first (case id, Case) beside whose call is made, or None."""
    for cid, other, call in beside:
        if _same(made, call, beside):
            return cid, other
    return None


def bind_twins(case, obs, cases):
    """For a program's bind that was not the case's call: (the call it made, [the
    scenario's (case id, Case) it is judged as], halves); [] when the scenario has no
    case of that call; halves: True when they are the cases of a dual-stack `[::]`'s
    halves (0.0.0.0 first).  None when it was the case's call (module docstring)."""
    if obs.call is None or case.kind != 'bind':
        return None
    scope = obs.call.get('scope')
    made = bind_call(obs.call.get('addr') or '', obs.call.get('options') or (), scope)
    beside = _binds_beside(case, cases, scope)
    if _same(made, bind_call(case.addr, case.options, scope), beside):
        return None
    twin = _case_of(made, beside)
    if twin is not None:
        return made, [twin], False
    if made[0] == '::' and 'v6only=1' not in made[1]:
        halves = [_case_of(('0.0.0.0', made[1]), beside),
                  _case_of(('::', tuple(sorted(made[1] + ('v6only=1',)))), beside)]
        if halves[0] is not None:       # a case for 0.0.0.0: the half it was asked for
            return made, [h for h in halves if h is not None], True
    return made, [], False


def wait_twins(case, obs, cases):
    """For a program's connect judged by its own wait (module docstring): ('longer' or
    'shorter', [the scenario's (case id, Case) of the same connect with that wait] or
    []); None when the case's expectation applies."""
    if obs.method == 'netprobe' or case.kind != 'connect' or obs.actual in GAVE_UP:
        return None         # netprobe's own cells (every cell of a plain run) stop here
    limit, waited = timeout_of(case), obs.elapsed_us or 0
    if limit is None:
        return None
    if case.expect.outcome == 'ETIMEDOUT' and obs.actual != 'ETIMEDOUT' and \
            waited > limit * 1000:
        fits = [(t, cid, o) for t, cid, o in _same_connects(case, cases) if t >= waited]
        return 'longer', [(cid, o) for _t, cid, o in sorted(fits, key=_wait)[:1]]
    if case.expect.outcome != 'ETIMEDOUT' and obs.actual == 'ETIMEDOUT' and \
            waited < limit * 1000:
        same = sorted(_same_connects(case, cases), key=_wait)
        fits = [(t, cid, o) for t, cid, o in same if t <= waited][-1:] or \
            [(t, cid, o) for t, cid, o in same if o.expect.outcome == 'ETIMEDOUT'][:1]
        return 'shorter', [(cid, o) for _t, cid, o in fits]
    return None


def _wait(twin):
    return twin[0]


def _same_connects(case, cases):
    """[(timeout in us, case id, Case)] of the scenario's other connects of case's host,
    destination and source that have a timeout=."""
    return [(timeout_of(other) * 1000, cid, other) for cid, other in cases
            if other is not case and other.kind == 'connect'
            and (other.host, other.addr, other.port, other.proto) == (
                case.host, case.addr, case.port, case.proto)
            and option(other, 'src') == option(case, 'src')
            and timeout_of(other) is not None]
