"""A program given a case's name ({name}, probe/programs.py): its outcome is that of
the call it made, at the address it resolved the name to.

libbindtrace.so also records the program's getaddrinfo() of the name (op "resolve",
csrc/trace/bindtrace_gai.c): its cell then carries `resolved` (every address, in
order), and a program that made no call because the name did not resolve has the
resolver's outcome (EAI_AGAIN ...) instead of NOCALL.  A program that resolves
another way (bindtrace-sys sees system calls only; Go's own resolver) keeps NOCALL.
"""

import json

from ..scenarios import ERROR, EAI_NAMES, name_word, NOCALL
from .observation import Observation


def resolution(got, name):
    """The last "resolve" record of name in a launch's trace, or None."""
    found = None
    for line in (got.get('files') or {}).get('.trace.jsonl', '').splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get('op') == 'resolve' and rec.get('name') == name:
            found = rec
    return found


def named_observation(launch, got, extra):
    """The Observation of a launch given a name: its outcome at the address of the
    call it made ('::1 EADDRNOTAVAIL'); the resolver's EAI_ name when it made no call
    because the name did not resolve; else NOCALL."""
    actual, rec = got['actual'], got.get('record') or {}
    message = got.get('message')
    resolved = resolution(got, launch.addr)
    if resolved and isinstance(resolved.get('resolved'), list):
        extra = dict(extra, resolved=[a for a in resolved['resolved'] if isinstance(a, str)])
    if actual == NOCALL and resolved and resolved.get('error') in EAI_NAMES:
        actual = resolved['error']
        message = f'{resolved.get("message")} (getaddrinfo of {launch.addr}); {message}'
    elif actual not in (NOCALL, ERROR) and rec.get('addr'):
        actual = name_word(rec['addr'], actual)
    return Observation(actual, got.get('method', launch.method), message, None,
                       got.get('local'), got.get('elapsed_us'), sees_peer=False,
                       extra=extra)
