"""A program given a case's name ({name}, probe/programs.py): its outcome is that of
the call it made, at the address it resolved the name to.

libbindtrace.so also records the program's getaddrinfo() of the name (op "resolve",
csrc/trace/bindtrace_gai.c): its cell then carries `resolved` (every address, in
order), and a program that made no call because the name did not resolve has the
resolver's outcome (EAI_AGAIN ...) instead of NOCALL.  bindtrace-sys (a static Go or
musl program, which resolves without libc's getaddrinfo) sees no getaddrinfo() but
the DNS answers the program read (op "resolve" with an "rcode",
csrc/trace/systrace_dns.h): the answers for the name (or for the name with a search
domain after it), A and AAAA apart, are taken together -- every address in order,
and an error only when none gave one (NXDOMAIN: EAI_NONAME, another code:
EAI_AGAIN).  A name answered from a hosts file leaves no such record there (only
the "resolver-file" records of the files it read): NOCALL stays NOCALL.
"""

import json

from ..scenarios import ERROR, EAI_NAMES, name_word, NOCALL
from .observation import Observation


def _records(got):
    for line in (got.get('files') or {}).get('.trace.jsonl', '').splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get('op') == 'resolve':
            yield rec


def _asked(qname, name):
    """True when a DNS question for qname is the program's lookup of name (itself, or
    a dotless name with a search domain after it)."""
    if not isinstance(qname, str):
        return False
    qname, name = qname.lower(), name.lower()
    return qname == name or ('.' not in name and qname.startswith(name + '.'))


def resolution(got, name):
    """The resolution of name in a launch's trace, or None: the last getaddrinfo()
    record of it (libbindtrace.so), else the DNS answers for it taken together
    (bindtrace-sys; module docstring), as one record-like dict."""
    found, answers = None, []
    for rec in _records(got):
        if 'rcode' in rec:
            if _asked(rec.get('name'), name):
                answers.append(rec)
        elif rec.get('name') == name:
            found = rec
    if found is not None or not answers:
        return found
    resolved = []
    for rec in answers:
        resolved += [a for a in rec.get('resolved') or () if isinstance(a, str)
                     and a not in resolved]
    failed = [rec for rec in answers if not rec.get('ok')]
    if resolved or not failed:
        return {'resolved': resolved, 'error': None}
    worst = next((r for r in failed if r.get('error') == 'EAI_NONAME'), failed[-1])
    return {'resolved': [], 'error': worst.get('error'),
            'message': f'{worst.get("message")} for {worst.get("name")}',
            'call': 'dns'}


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
        how = 'its DNS answer' if resolved.get('call') == 'dns' else 'getaddrinfo'
        message = f'{resolved.get("message")} ({how} of {launch.addr}); {message}'
    elif actual not in (NOCALL, ERROR) and rec.get('addr'):
        actual = name_word(rec['addr'], actual)
    return Observation(actual, got.get('method', launch.method), message, None,
                       got.get('local'), got.get('elapsed_us'), sees_peer=False,
                       extra=extra)
