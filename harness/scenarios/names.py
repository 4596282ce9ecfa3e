"""Cases whose address is a name (netprobe resolves it as a program does).

    is_name(addr)             True for 'localhost', 'db.example.test' (not a numeric
                              address, not 'any'): netprobe's own rule
    name_outcome_ok(word)     True for the outcome words of a name case: an EAI_ name
                              (the name did not resolve), or 'ADDR WORD' -- the address
                              that gave the outcome and OK or an errno name
                              ('::1 EADDRNOTAVAIL', '127.0.0.1 OK')
    name_word(addr, word)     that outcome word of a record
    check_name_case(what, case, allowed)   ScenarioError naming what is wrong (not
                              its outcome: name_outcome_ok)
    NAME_OPTIONS              the plan words only a name case takes

A name case's column is its name ('tcp localhost:6379'); its cell says which address
gave the outcome, and carries the resolved list (`resolved`).
"""

import ipaddress
import re

from .model import bare, OUTCOMES, ScenarioError

NAME_RE = re.compile(r'[A-Za-z0-9._-]{1,253}')
EAI_NAMES = ('EAI_ADDRFAMILY', 'EAI_AGAIN', 'EAI_BADFLAGS', 'EAI_FAIL', 'EAI_FAMILY',
             'EAI_MEMORY', 'EAI_NODATA', 'EAI_NONAME', 'EAI_OVERFLOW', 'EAI_SERVICE',
             'EAI_SOCKTYPE', 'EAI_SYSTEM')
NAME_OPTIONS = ('resolve=first', 'resolve=each', 'resolve=all', 'addrconfig', 'family=any')


def _numeric(addr):
    try:
        ipaddress.ip_address(bare(addr))
    except ValueError:
        return False
    return True


def is_name(addr):
    """True when addr is a host name as netprobe takes one: 1-253 of letters, digits,
    '.', '-', '_', at least one a letter or '_', and not numeric or 'any'."""
    return isinstance(addr, str) and bool(NAME_RE.fullmatch(addr)) and \
        any(c.isalpha() or c == '_' for c in addr) and addr != 'any' and \
        not _numeric(addr)


def name_word(addr, word):
    """The outcome word of a name case: word alone when no address was called (an EAI_
    name), else 'ADDR WORD'."""
    return f'{addr} {word}' if addr else word


def name_outcome_ok(word):
    """True for an outcome word a name case can have (module docstring)."""
    if not isinstance(word, str):
        return False
    if word in EAI_NAMES:
        return True
    addr, _, rest = word.partition(' ')
    return _numeric(addr) and rest in OUTCOMES


def check_name_case(what, case, allowed):
    """Raise ScenarioError if the name case is malformed: its port, protocol or
    options (allowed, plus NAME_OPTIONS; a connect to a name takes no hold, and
    resolve=all -- every address bound -- is a bind's)."""
    if not isinstance(case.port, int) or not 0 <= case.port <= 65535:
        raise ScenarioError(f'{what}: port {case.port!r} is not 0-65535')
    if case.proto not in ('tcp', 'udp'):
        raise ScenarioError(f'{what}: proto {case.proto!r} is not tcp or udp')
    if case.kind == 'connect' and 'hold' in case.options:
        raise ScenarioError(f'{what}: a connect to a name takes no hold')
    if case.kind != 'bind' and 'resolve=all' in case.options:
        raise ScenarioError(f'{what}: resolve=all (every address bound) is for a bind')
    for opt in case.options:
        plain = isinstance(opt, str) and opt.isprintable() and not any(
            c.isspace() for c in opt)
        if not plain or opt not in NAME_OPTIONS and not any(
                opt == a or (a.endswith('=') and opt.startswith(a)) for a in allowed):
            raise ScenarioError(f'{what}: unknown option {opt!r}')
