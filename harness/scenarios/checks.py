"""Checking a scenario before anything is built: validate(scenario, topo) raises
ScenarioError naming the scenario and the first thing wrong (an unknown host, an
address that is not numeric, a port out of range, an option netprobe's batch does not
know, an outcome that is not OK or an errno name, two cases in one cell, ...).
Whatever becomes a word of a netprobe plan line is checked to be one word.
"""

import ipaddress
import re

from .hostfiles import check_dns_servers, check_host_files
from .names import check_name_case, is_name, name_outcome_ok
from .model import (AFTERS, bare, Expect, option, OUTCOMES, retry_s, ScenarioError,
                    valid_name)
from .rules import RULES

KINDS = ('bind', 'connect', 'join', 'mcast-if', 'send')
PROTOS = ('tcp', 'udp')
# Plan options netprobe's batch knows (see the netprobe contract), per kind.
BIND_OPTIONS = ('reuseaddr', 'reuseport', 'freebind', 'v6only=', 'dev=', 'hold',
                'nolisten', 'family=', 'retry=', 'every=', 'delay=')
CONNECT_OPTIONS = ('freebind', 'dev=', 'hold', 'src=', 'sport=', 'timeout=', 'nogreet',
                   'family=', 'bindnoport', 'retry=', 'every=', 'delay=')
# join, mcast-if (the group; if= the interface) and send (UDP only).
JOIN_OPTIONS = ('reuseaddr', 'reuseport', 'freebind', 'bindnoport', 'v6only=', 'dev=',
                'hold', 'family=', 'src=', 'if=')
SEND_OPTIONS = JOIN_OPTIONS + ('sport=', 'pktinfo=')
OPTIONS = {'bind': BIND_OPTIONS, 'connect': CONNECT_OPTIONS, 'join': JOIN_OPTIONS,
           'mcast-if': JOIN_OPTIONS, 'send': SEND_OPTIONS}
# A timed step fires at most this many seconds into the probe phase.
AT_MAX_S = 60
SERVER_OPTIONS = ('reuseaddr', 'reuseport', 'freebind', 'v6only=', 'dev=')


def topo_hosts(topo):
    """{host name: its ip= text} of a Topo instance."""
    return {h: topo.nodeInfo(h).get('ip') for h in topo.hosts()}


def validate(scenario, topo):
    """Raise ScenarioError naming the first thing wrong in scenario (topo built)."""
    where = f'scenario {scenario.name!r}'
    if not valid_name(scenario.name):
        raise ScenarioError(f'{where}: name must be 1-100 of A-Z a-z 0-9 . _ - '
                            '(and not . or ..)')
    hosts = topo_hosts(topo)
    for name, ip in hosts.items():
        # a derived one reads the built network; a replica's setup gives addresses
        if not ip and not scenario.derived and scenario.replica is None:
            raise ScenarioError(f'{where}: host {name} has no ip= in the topology')
        if ip:
            _check_addr(f'{where}: host {name} ip', ip.split('/')[0])
    _check_ready(where, scenario.ready, hosts)
    for step in scenario.setup + scenario.faults:
        _check_host(where, step.host, hosts)
        if not step.argv or step.until not in (None, 'empty-stdout'):
            raise ScenarioError(f'{where}: bad step {step!r}')
    check_timeline(where, scenario)
    for server in scenario.servers:
        _check_host(where, server.host, hosts)
        _check_endpoint(f'{where}: server on {server.host}', server.addr, server.port,
                        server.proto)
        _check_options(f'{where}: server on {server.host}', server.options,
                       SERVER_OPTIONS + ('family=',))
        if server.proxy_to is not None:   # 'ADDR:PORT' ([V6]:PORT), TCP only
            to, _, port = server.proxy_to.rpartition(':')
            _check_endpoint(f'{where}: proxy on {server.host} to {server.proxy_to}',
                            to.strip('[]'), int(port) if port.isdecimal() else -1,
                            server.proto if server.proto == 'tcp' else 'tcp only')
    check_host_files(where, scenario.host_files, hosts)
    check_dns_servers(where, scenario.dns_servers, hosts)
    if not scenario.cases and not scenario.derived:
        raise ScenarioError(f'{where}: no cases')
    cells = {}
    for case in scenario.cases:
        _check_case(where, case, hosts)
        cell = (case.kind, case.host, case.label())
        if cell in cells:
            raise ScenarioError(
                f'{where}: two {case.kind} cases of {case.host} share the column '
                f'{case.label()!r} ({cells[cell]} and {case.addr}:{case.port}); '
                'give one a column=')
        cells[cell] = f'{case.addr}:{case.port}'
    for sw in scenario.switches:
        if sw not in ('lxbr', 'ovs', 'ovs-user'):
            raise ScenarioError(f'{where}: unknown switch kind {sw!r}')
    for module in scenario.modules:
        if not re.fullmatch(r'[a-z0-9_]{1,56}', str(module)):
            raise ScenarioError(f'{where}: {module!r} is not a kernel module name')


def check_timeline(where, scenario):
    """Raise ScenarioError unless every timed step (Step.at) is a fault, at 0 to
    AT_MAX_S seconds, with a timeout, and neither waits (until) nor runs together."""
    for step in scenario.setup:
        if step.at is not None:
            raise ScenarioError(f'{where}: setup step on {step.host} has at= (only a '
                                'fault can be timed)')
    for step in scenario.faults:
        if step.at is None:
            continue
        what = f'{where}: timed step on {step.host} `{" ".join(map(str, step.argv))}`'
        if isinstance(step.at, bool) or not isinstance(step.at, (int, float)) or \
                not 0 <= step.at <= AT_MAX_S:
            raise ScenarioError(f'{what}: at {step.at!r} is not a number of seconds '
                                f'from 0 to {AT_MAX_S}')
        if step.until is not None or step.together:
            raise ScenarioError(f'{what}: a timed step cannot have until= or together=')
        if isinstance(step.timeout_s, bool) or \
                not isinstance(step.timeout_s, (int, float)) or not 0 < step.timeout_s <= 60:
            raise ScenarioError(f'{what}: timeout_s {step.timeout_s!r} is not 0-60 s')


def _check_case(where, case, hosts):
    """Raise ScenarioError if one case is malformed."""
    what = f'{where}: {case.kind} case on {case.host} to {case.addr}:{case.port}'
    if case.kind not in KINDS:
        raise ScenarioError(f'{what}: kind must be one of {", ".join(KINDS)}')
    _check_host(where, case.host, hosts)
    if is_name(case.addr):      # netprobe resolves it (names.py)
        if option(case, 'retry') is not None or option(case, 'delay') is not None:
            raise ScenarioError(f'{what}: a name case resolves once: no retry= or delay=')
        check_name_case(what, case, OPTIONS[case.kind])
    else:
        _check_endpoint(what, case.addr, case.port, case.proto)
        if case.kind in KINDS[2:] and case.proto != 'udp':
            raise ScenarioError(f'{what}: a {case.kind} case is udp')
        if case.kind == 'send' and case.port == 0:
            raise ScenarioError(f'{what}: a send needs a port from 1 to 65535')
        _check_options(what, case.options, OPTIONS[case.kind])
    _check_retry(what, case)
    exp = case.expect
    if not isinstance(exp, Expect) or not exp.reason:
        raise ScenarioError(f'{what}: expectation needs an outcome and a reason')
    if is_name(case.addr) and not name_outcome_ok(exp.outcome):
        raise ScenarioError(f'{what}: outcome {exp.outcome!r} is not an EAI_ name or '
                            "'ADDR OK|ERRNO' (the address that gave it)")
    if not is_name(case.addr) and exp.outcome not in OUTCOMES:
        raise ScenarioError(f'{what}: outcome {exp.outcome!r} is not OK or an errno name')
    if exp.peer is not None and not _plain(exp.peer):
        raise ScenarioError(f'{what}: peer {exp.peer!r} is not a host name')
    if exp.after is not None and exp.after not in AFTERS:
        raise ScenarioError(f'{what}: after {exp.after!r} is not one of {AFTERS}')
    if exp.within is not None and (isinstance(exp.within, bool) or
                                   not isinstance(exp.within, (int, float)) or
                                   not 0 < exp.within <= 600):
        raise ScenarioError(f'{what}: within {exp.within!r} is not 0-600 seconds')
    if exp.before is not None and (exp.before not in OUTCOMES or exp.before == exp.outcome):
        raise ScenarioError(f'{what}: before {exp.before!r} is not an outcome other than '
                            f'{exp.outcome}')
    if exp.before is not None and retry_s(case) is None:
        raise ScenarioError(f'{what}: before= needs a case that retries (retry=)')
    if exp.rule not in RULES:
        raise ScenarioError(f'{what}: unknown rule {exp.rule!r} (known: {", ".join(RULES)})')


def _check_retry(what, case):
    """Raise ScenarioError unless retry=S, every=MS and delay=MS say what netprobe
    takes: S seconds (0.001-600, 3 decimals), every 10-600000 ms and only with
    retry=, at most 100 tries, delay 1-60000 ms, and no held connect."""
    retry, every, delay = retry_s(case), option(case, 'every'), option(case, 'delay')
    if option(case, 'retry') is not None and retry is None:
        raise ScenarioError(f'{what}: retry={option(case, "retry")} is not seconds from '
                            '0.001 to 600')
    if every is not None and (retry is None or not every.isdecimal() or
                              not 10 <= int(every) <= 600000):
        raise ScenarioError(f'{what}: every={every} needs retry= and 10-600000 ms')
    if retry is not None and round(retry * 1000) // int(every or 100) >= 100:
        raise ScenarioError(f'{what}: retry={option(case, "retry")} every={every or 100} '
                            'is more than 100 tries; raise every=')
    if (retry is not None or delay is not None) and case.kind == 'connect' and \
            'hold' in case.options:
        raise ScenarioError(f'{what}: a held connect cannot retry or wait (delay=)')
    if delay is not None and not (delay.isdecimal() and 1 <= int(delay) <= 60000):
        raise ScenarioError(f'{what}: delay={delay} is not 1-60000 ms')


def _check_ready(where, ready, hosts):
    """Raise ScenarioError unless ready is None or (host, address) pairs of the
    topology's hosts and numeric addresses (readiness pings them)."""
    if ready is None:
        return
    if not isinstance(ready, (tuple, list)):
        raise ScenarioError(f'{where}: ready {ready!r} is not a tuple of (host, address) '
                            'pairs')
    for pair in ready:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ScenarioError(f'{where}: ready pair {pair!r} is not (host, address)')
        what = f'{where}: ready pair {tuple(pair)!r}'
        _check_host(what, pair[0], hosts)
        _check_addr(what, pair[1])


def _check_host(where, host, hosts):
    if not isinstance(host, str) or host not in hosts:
        raise ScenarioError(f'{where}: unknown host {host!r} (topology has '
                            f'{", ".join(sorted(hosts))})')


def _check_endpoint(what, addr, port, proto):
    _check_addr(what, addr)
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ScenarioError(f'{what}: port {port!r} is not 0-65535')
    if proto not in PROTOS:
        raise ScenarioError(f'{what}: proto {proto!r} is not tcp or udp')


def _plain(text):
    """True when text is one printable token (no space, newline or control byte):
    what becomes a word of a netprobe plan line must not be able to start another."""
    return isinstance(text, str) and bool(text) and text.isprintable() and \
        not any(c.isspace() for c in text)


def _check_addr(what, addr):
    if not _plain(addr):
        raise ScenarioError(f'{what}: address {addr!r} holds a space or control byte')
    try:
        ipaddress.ip_address(bare(addr))
    except ValueError:
        raise ScenarioError(f'{what}: {addr!r} is not a numeric IPv4/IPv6 address') from None


def _check_options(what, options, allowed):
    for opt in options:
        if not _plain(opt):
            raise ScenarioError(f'{what}: option {opt!r} holds a space or control byte')
        if not any(opt == a or (a.endswith('=') and opt.startswith(a)) for a in allowed):
            raise ScenarioError(f'{what}: unknown option {opt!r}')
