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
from .model import AFTERS, bare, Expect, OUTCOMES, ScenarioError, valid_name
from .rules import RULES

KINDS = ('bind', 'connect')
PROTOS = ('tcp', 'udp')
# Plan options netprobe's batch knows (see the netprobe contract), per kind.
BIND_OPTIONS = ('reuseaddr', 'reuseport', 'freebind', 'v6only=', 'dev=', 'hold',
                'nolisten', 'family=')
CONNECT_OPTIONS = ('freebind', 'dev=', 'hold', 'src=', 'sport=', 'timeout=', 'nogreet',
                   'family=')
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
        if not ip and not scenario.derived:    # a derived one reads the built network
            raise ScenarioError(f'{where}: host {name} has no ip= in the topology')
        if ip:
            _check_addr(f'{where}: host {name} ip', ip.split('/')[0])
    _check_ready(where, scenario.ready, hosts)
    for step in scenario.setup + scenario.faults:
        _check_host(where, step.host, hosts)
        if not step.argv or step.until not in (None, 'empty-stdout'):
            raise ScenarioError(f'{where}: bad step {step!r}')
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


def _check_case(where, case, hosts):
    """Raise ScenarioError if one case is malformed."""
    what = f'{where}: {case.kind} case on {case.host} to {case.addr}:{case.port}'
    if case.kind not in KINDS:
        raise ScenarioError(f'{what}: kind must be bind or connect')
    _check_host(where, case.host, hosts)
    allowed = BIND_OPTIONS if case.kind == 'bind' else CONNECT_OPTIONS
    if is_name(case.addr):      # netprobe resolves it (names.py)
        check_name_case(what, case, allowed)
    else:
        _check_endpoint(what, case.addr, case.port, case.proto)
        _check_options(what, case.options, allowed)
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
    if exp.rule not in RULES:
        raise ScenarioError(f'{what}: unknown rule {exp.rule!r} (known: {", ".join(RULES)})')


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
