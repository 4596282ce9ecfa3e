"""netprobe's language: where the binary is, the plan lines of `netprobe batch`, and
the command lines of `netprobe serve`.

Plans: each host's cases become one plan (`ID OP PROTO ADDR PORT [OPTION ...]`, the
netprobe batch format) fed on stdin; IDs are `b<n>` / `c<n>`, n the case's index in
the scenario, so a record maps back to exactly one case (records.collect).
"""

import os

from .. import program_path
from ..errors import UsageError
from ..scenarios import option, retry_s, timeout_of

BATCH_SLACK_S = 30.0


class ProbeError(UsageError):
    """netprobe could not be run at all (missing binary, a server it cannot start)."""


def netprobe_path():
    """The probe binary: $NETPROBE, else build/netprobe of the clone, or the installed
    one (harness/__init__.py: program_path)."""
    path = os.environ.get('NETPROBE') or program_path('netprobe')
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise ProbeError(f'netprobe not found at {path}: run `make` first '
                         '(or set NETPROBE to the binary)')
    return os.path.abspath(path)


# -- plans ----------------------------------------------------------------------------

def case_id(index, case):
    """The plan id of the case at index in its scenario: b3, c17."""
    return f'{case.kind[0]}{index}'


def cases_of(scenario):
    """[(case id, case)] of a scenario, in matrix order."""
    return [(case_id(i, case), case) for i, case in enumerate(scenario.cases)]


def plan_line(index, case):
    """One plan line for case."""
    return ' '.join([case_id(index, case), case.kind, case.proto, case.addr,
                     str(case.port)] + list(case.options))


def make_plans(scenario, only=None):
    """One plan text per host; returns {host: (plan text, {id: case index})}.

    only: the case ids to plan (default: every case)."""
    plans, only = {}, None if only is None else set(only)
    for index, case in enumerate(scenario.cases):
        if only is not None and case_id(index, case) not in only:
            continue
        plans.setdefault(case.host, ([f'# {scenario.name}: cases of {case.host}'], {}))
        lines, ids = plans[case.host]
        lines.append(plan_line(index, case))
        ids[case_id(index, case)] = index
    return {host: ('\n'.join(lines) + '\n', ids) for host, (lines, ids) in plans.items()}


def batch_limit(scenario):
    """Seconds a batch may take: the largest connect timeout plus slack; one that
    overruns is killed and its missing cases become errors."""
    return max([_timeout_ms(c) + 1000 * (retry_s(c) or 0) + _delay_ms(c)
                for c in scenario.cases] +
               [1000]) / 1000 + BATCH_SLACK_S


def _delay_ms(case):
    """A case's delay= in ms (0: none; checks.py refused a bad one)."""
    value = option(case, 'delay')
    return int(value) if value is not None and value.isdecimal() else 0


def _timeout_ms(case):
    """A connect's timeout in ms: its timeout= option, else netprobe's 1000."""
    limit = timeout_of(case)
    return 1000 if limit is None else limit


# -- command lines --------------------------------------------------------------------

# Plan options and their netprobe command-line forms (bind, connect and serve share
# them); `hold`, `nolisten` and `family=` have none (family= becomes -4/-6 for serve).
CLI_FLAGS = {'reuseaddr': '--reuseaddr', 'reuseport': '--reuseport',
             'freebind': '--freebind', 'nogreet': '--no-greet'}
CLI_VALUES = {'v6only': '--v6only', 'dev': '--dev', 'src': '--src', 'sport': '--sport',
              'timeout': '--timeout'}


def cli_options(options, proto='tcp'):
    """The netprobe command-line options of plan options, or None when one of them
    has no command-line form."""
    out = ['--udp'] if proto == 'udp' else []
    for opt in options:
        name, _, value = opt.partition('=')
        if name in CLI_FLAGS and not value:
            out.append(CLI_FLAGS[name])
        elif name in CLI_VALUES and value:
            out += [CLI_VALUES[name], value]
        else:
            return None
    return out


def server_argv(netprobe, server):
    """The `netprobe serve` command line of a Server."""
    family = '6' if ':' in server.addr else '4'
    opts = []
    for opt in server.options:
        if opt.startswith('family='):
            family = opt.split('=', 1)[1]
        else:
            opts.append(opt)
    flags = cli_options(opts, server.proto)
    if flags is None:
        raise ProbeError(f'server {server.host} {server.addr}:{server.port}: an option '
                         f'of {server.options} has no netprobe serve form')
    proxy = ['--proxy-to', server.proxy_to] if server.proxy_to else []
    return [netprobe, '--host', server.host, 'serve'] + flags + proxy + \
        [f'-{family}', server.addr, str(server.port)]
