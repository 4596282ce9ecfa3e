"""A program given a case's name ({name}, probe/programs.py): its outcome is that of
the call it made, at the address it resolved the name to."""

from ..scenarios import ERROR, name_word, NOCALL
from .observation import Observation


def named_observation(launch, got, extra):
    """The Observation of a launch given a name: its outcome at the address of the
    call it made ('::1 EADDRNOTAVAIL'); NOCALL when it made none (say, the name did
    not resolve: the tracer sees calls, not the resolver)."""
    actual, rec = got['actual'], got.get('record') or {}
    if actual not in (NOCALL, ERROR) and rec.get('addr'):
        actual = name_word(rec['addr'], actual)
    return Observation(actual, got.get('method', launch.method), got.get('message'), None,
                       got.get('local'), got.get('elapsed_us'), sees_peer=False,
                       extra=extra)
