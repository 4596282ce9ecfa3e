"""netprobe's servers: the scenario's listeners and the readiness check's.

`Servers` starts `netprobe serve` processes (hosts.start_on: through the hosts' shells,
or a Popen each) and waits for each one's readiness line, the serve record it prints
once it listens (no sleeps); stop() ends them by PID.  `TcpCheck` is netprobe's half
of the network's readiness check (net/readiness.py asks the question): a server on
READY_PORT at every address, and one `netprobe connect` a pair.
"""

import os
import tempfile
import time
from contextlib import contextmanager

from ..errors import EnvError
from ..files import read_output
from ..ledger import stop
from ..net import attempts, run_on, start_on
from ..scenarios import Server
from .plans import server_argv
from .records import first_ok, parse_record

SERVER_READY_S = 10.0
READY_PORT = 65432


class Servers:
    """The `netprobe serve` processes of one scenario; stop() ends them by PID."""

    def __init__(self, state):
        self.state = state
        self.jobs = []          # (Server, hosts.Job)
        self.records = []       # (Server, record dict or None, error text or None)

    def start_all(self, net, servers, netprobe, workdir):
        """Start every server and wait for each readiness line.

        Returns a list of error texts (empty: every server that must start did).
        Each call's files go to a folder of its own under workdir: a readiness line
        left by an earlier call's server (the ready servers on READY_PORT) must never
        be read as this call's.
        """
        own = tempfile.mkdtemp(prefix='serve-', dir=workdir)
        bases = [os.path.join(own, f'serve{n}') for n in range(len(servers))]
        jobs = start_on([(net.get(s.host), server_argv(netprobe, s), base)
                         for s, base in zip(servers, bases)], self.state, 'netprobe')
        self.jobs += [(server, job) for server, job in zip(servers, jobs) if job]
        deadline = time.monotonic() + SERVER_READY_S
        errors = []
        for server, job, base in zip(servers, jobs, bases):
            rec, err = _ready_line(base, job, deadline) if job else \
                (None, 'its shell gave no PID back')
            self.records.append((server, rec, err))
            if err is not None:
                errors.append(f'server {server.host} {server.proto} '
                              f'{server.addr}:{server.port}: {err}')
            elif not rec['ok'] and server.must_start:
                errors.append(f'server {server.host} {server.proto} {server.addr}:'
                              f'{server.port} could not listen: {rec["error"]} '
                              f'({rec["message"]})')
        return errors

    def stop(self, grace_s=3.0):
        """SIGTERM every server by PID, wait, SIGKILL what is left (ledger.stop)."""
        stop([job.target for _s, job in self.jobs], grace_s)
        self.state.drop_pids([job.pid for _s, job in self.jobs])
        self.jobs = []

    def summary(self):
        """The server records, for matrix.json."""
        return [{'host': server.host, 'proto': server.proto, 'addr': server.addr,
                 'port': server.port, 'options': list(server.options),
                 'record': rec, 'error': err} for server, rec, err in self.records]


def _ready_line(base, job, deadline):
    """(the serve record a server wrote to base.out, its readiness signal, None), or
    (None, error text): it ended first, or wrote none in time."""
    for _ in attempts(deadline=deadline, pause=0.002):
        text = read_output(base + '.out')
        if '\n' in text:
            break
        if not job.running():
            text = read_output(base + '.out')     # it may have written it as it ended
            if '\n' in text:
                break
            err = read_output(base + '.err').strip()
            return None, f'exited before it was ready: {err[-300:] or "no message"}'
    else:
        return None, f'no readiness line within {SERVER_READY_S:.0f} s'
    try:
        return parse_record(text.split('\n', 1)[0], 'serve'), None
    except ValueError as exc:
        return None, f'bad readiness line: {exc}'


class TcpCheck:
    """netprobe's half of the readiness check (net/readiness.py): serving(net,
    {addr: host}) listens on READY_PORT at every address, unconnected(net, pairs)
    tries one connect a (host, addr) pair (bounded by --timeout 1000)."""

    def __init__(self, netprobe, state, workdir):
        self.netprobe, self.state, self.workdir = netprobe, state, workdir

    @contextmanager
    def serving(self, net, owners):
        """The servers, listening for the `with`; EnvError when one could not start."""
        servers = Servers(self.state)
        try:
            errors = servers.start_all(net, [Server(host, addr, READY_PORT)
                                             for addr, host in owners.items()],
                                       self.netprobe, self.workdir)
            if errors:
                raise EnvError('; '.join(errors[:5]))
            yield servers
        finally:
            servers.stop()

    def unconnected(self, net, pairs):
        """The pairs whose connect did not get through this time."""
        said = run_on([(net.get(h), [self.netprobe, '--host', h, 'connect', '--timeout',
                                     '1000', a, str(READY_PORT)], None, None)
                       for h, a in pairs])
        return [pair for pair, (_rc, out, _err) in zip(pairs, said) if not first_ok(out)]
