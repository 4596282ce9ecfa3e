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
"""

from dataclasses import dataclass


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
