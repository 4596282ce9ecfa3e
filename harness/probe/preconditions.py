"""What a case needs in place before its call, so a prober never judges it without.

A bind or connect in a scenario is probed inside a netprobe batch, where it meets the
state the scenario built around it:

    held      a socket that an earlier case of the same host keeps open (`hold`):
              a later bind of the same protocol and port meets a held bind
              (EADDRINUSE); a later connect finds the ephemeral ports that held
              connects use, and those held binds took (a bind to port 0 takes one
              from the same range), taken (EADDRNOTAVAIL).
    listener  a scenario server (`netprobe serve`) on the same host, protocol and port:
              a bind there meets it.

A prober that cannot give a case that state (a user program is launched on its own,
outside the batch) must leave the case to one that can; the cell then says why
(`note`).  Faults are network state and exist for every prober alike (a TIME_WAIT left
by a fault step, a narrowed port range); they are not listed here.

A scenario with timed steps adds one more, its moment (moment_unmet): a case asks
about the network at t=0 (no delay=), delay= ms after it, or over the tries of
retry= from t=0, and a program told the address runs at another moment (a server
before t=0, a client after the timeline's last step: runner.probe_phase) and does
not retry on the case's orders.  It takes only the cases whose moment it has.
"""

from dataclasses import dataclass

from ..scenarios import option


@dataclass(frozen=True)
class Need:
    """One piece of state a case needs: kind 'held' or 'listener', and what, in words."""
    kind: str
    what: str


def case_needs(scenario):
    """{case index: (Need, ...)} for every case of scenario that needs anything."""
    needs, held = {}, []          # held: (host, kind, proto, port, plan id)
    listeners = {(s.host, s.proto, s.port) for s in scenario.servers}
    for index, case in enumerate(scenario.cases):
        mine = []
        for host, kind, proto, port, earlier in held:
            meets = host == case.host and (case.kind == 'connect' or (
                kind == 'bind' == case.kind and (proto, port) == (case.proto, case.port)))
            if meets:
                mine.append(Need('held', f'the socket case {earlier} keeps open earlier '
                                         f'in {case.host}\'s batch'))
        if case.kind == 'bind' and (case.host, case.proto, case.port) in listeners:
            mine.append(Need('listener', f'the scenario\'s server on {case.host} '
                                         f'{case.proto} port {case.port}'))
        if mine:
            needs[index] = tuple(mine)
        if 'hold' in case.options:
            held.append((case.host, case.kind, case.proto, case.port,
                         f'{case.kind[0]}{index}'))
    return needs


def unmet(needs, provides):
    """The needs a prober providing the kinds in `provides` cannot give (a tuple)."""
    return tuple(n for n in needs if n.kind not in provides)


def left_note(prober, missing):
    """The note of a cell left to netprobe because `prober` lacks `missing`."""
    return (f'left to netprobe: the {prober} cannot have '
            + '; '.join(n.what for n in missing))


def moment_unmet(scenario, launch):
    """(Need,) when a program told the address (launch.index: its case) would take a
    case of a scenario with timed steps at a moment other than the case's; else ()."""
    ats = [s.at for s in scenario.faults if s.at is not None]
    if not ats or launch.index is None:
        return ()
    case = scenario.cases[launch.index]
    delay, last = option(case, 'delay'), max(ats)
    delay_s = int(delay) / 1000 if delay is not None and delay.isdecimal() else 0.0
    if option(case, 'retry') is not None:
        why = f'this case\'s tries from t=0 (retry={option(case, "retry")})'
    elif launch.program.role == 'server' and (delay_s > 0 or min(ats) <= 0):
        why = f'this case\'s moment, t={delay_s:g} s (a server program told the ' \
              'address runs before t=0)'
    elif launch.program.role == 'client' and delay_s < last:
        why = f'this case\'s moment, t={delay_s:g} s (a client program runs after the ' \
              f'timeline\'s last step, at {last:g} s)'
    else:
        return ()
    return (Need('moment', why),)
