"""Talk to netprobe: start servers, run one batch per host, parse records strictly.

`Batches` is the netprobe prober of the pipeline (harness/runner.py): it turns every
case of a scenario into an Observation (harness/judge/judging.py) and never decides a verdict.
It provides every precondition a case can need (harness/probe/preconditions.py): the
batch keeps `hold` sockets open until it ends and runs while the servers listen.

Plans: each host's cases become one plan (`ID OP PROTO ADDR PORT [OPTION ...]`, the
netprobe batch format) fed on stdin; IDs are `b<n>` / `c<n>`, n the case's index in
the scenario, so a record maps back to exactly one case.  The batch processes are
started ahead, while the servers get ready (host.popen, which enters the host's
namespace with `mnexec -da`), then all hosts get their plans at once.

Strictness: a stdout line that is not a JSON record with the fields of the netprobe
contract, a record whose id is unknown or repeated, or a case without a record all
become `error` results carrying the text -- never a guessed outcome.
"""

import errno
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from .. import program_path
from ..errors import EnvError, UsageError
from ..files import read_output
from ..ledger import alive, identity, pid_of, stop as procs_stop, work_folder
from ..scenarios import timeout_of
from .observation import Observation

RECORD_FIELDS = ('op', 'proto', 'addr', 'port', 'ok', 'errno', 'error', 'message',
                 'elapsed_us')
CONNECT_FIELDS = ('src', 'local', 'peer_host')
SERVER_READY_S = 10.0
BATCH_SLACK_S = 30.0


class ProbeError(UsageError):
    """netprobe could not be run at all (missing binary)."""


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


# -- records --------------------------------------------------------------------------

def parse_record(line, kind=None):
    """The record in one stdout line, or raise ValueError saying what is wrong."""
    try:
        rec = json.loads(line)
    except ValueError as exc:
        raise ValueError(f'not JSON ({exc}): {line[:200]!r}') from None
    if not isinstance(rec, dict):
        raise ValueError(f'not a record: {line[:200]!r}')
    fields = RECORD_FIELDS + (CONNECT_FIELDS if rec.get('op') == 'connect' else ())
    missing = [f for f in fields if f not in rec]
    if missing:
        raise ValueError(f'record lacks {", ".join(missing)}: {line[:200]!r}')
    if not isinstance(rec['ok'], bool) or not isinstance(rec['errno'], int):
        raise ValueError(f'record has a bad ok/errno: {line[:200]!r}')
    if not rec['ok'] and not rec['error']:
        raise ValueError(f'failed record without an error name: {line[:200]!r}')
    if kind is not None and rec['op'] != kind:
        raise ValueError(f'expected a {kind} record, got {rec["op"]}: {line[:200]!r}')
    return rec


def collect(stdout, ids, kinds):
    """Map the batch output of one host to {index: record or error text}.

    ids: {plan id: case index}; kinds: {case index: 'bind'|'connect'}.  A line that
    is not a record poisons every case of the host that has no record yet (the output
    cannot be trusted), and is named in their error.
    """
    got, junk = {}, []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            rec = parse_record(line)
        except ValueError as exc:
            junk.append(str(exc))
            continue
        index = ids.get(rec.get('id'))
        if index is None:
            junk.append(f'record with an unknown id {rec.get("id")!r}')
        elif index in got:
            junk.append(f'two records for id {rec["id"]!r}')
        elif rec['op'] != kinds[index]:
            junk.append(f'id {rec["id"]!r} is a {kinds[index]} case, record says '
                        f'{rec["op"]}')
        else:
            got[index] = rec
    if junk:
        for index in ids.values():
            got[index] = f'unparseable probe output: {junk[0]}'
    return got


# -- batches --------------------------------------------------------------------------

def batch_limit(scenario):
    """Seconds a batch may take: the largest connect timeout plus slack; one that
    overruns is killed and its missing cases become errors."""
    return max([_timeout_ms(c) for c in scenario.cases] + [1000]) / 1000 + BATCH_SLACK_S


def spawn_batches(net, hosts, state, netprobe, limit):
    """Start `netprobe --host H batch` in every host; each waits for its plan on stdin.

    Started ahead (while the servers get ready) so that the probe phase is the cases
    themselves; every PID is recorded before anything else can go wrong.  Through
    the hosts' shells when they have idle ones (ShellBatches), else with popen
    ({host: Popen}).
    """
    from ..net import idle_shells
    if hosts and idle_shells([net.get(h) for h in hosts]):
        return ShellBatches(net, hosts, state, netprobe, limit)
    procs = {}
    try:
        for host in hosts:
            procs[host] = net.get(host).popen([netprobe, '--host', host, 'batch'],
                                              stdin=subprocess.PIPE)
    finally:   # recorded even when a later popen fails or Ctrl-C arrives
        state.add_pids([p.pid for p in procs.values()], 'netprobe')
    return procs


def feed_batches(procs, scenario, plans, state, limit):
    """Feed every batch its plan, all at once; returns {case index: record|error}."""
    kinds = {i: c.kind for i, c in enumerate(scenario.cases)}
    if isinstance(procs, ShellBatches):
        return procs.feed(plans, kinds)
    results = {}
    with ThreadPoolExecutor(max_workers=max(1, len(procs))) as pool:
        try:
            futures = [pool.submit(_finish_host, h, p, plans[h], kinds, limit)
                       for h, p in procs.items()]
            for fut in futures:
                results.update(fut.result())
        except BaseException:  # Ctrl-C: do not wait for the batches to finish
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
            raise
    state.drop_pids([p.pid for p in procs.values()])
    return results


class ShellBatches:
    """The batches as background jobs of the hosts' shells (a Popen each costs the
    harness's one thread ~3 ms: 0.7 s at 200 hosts).  Each reads its plan from a
    FIFO, so it starts its cases only when fed, as a Popen's batch does from its
    stdin pipe; timeout(1) ends one that overruns the limit (counted from its
    feed: the shell opens the FIFO before it starts timeout); its records go to a
    file, so no reader can hold it up."""

    def __init__(self, net, hosts, state, netprobe, limit):
        from ..net import start_in_shells
        self.net, self.state, self.limit = net, state, limit
        self.folder = work_folder('work-batches-')
        self.base = {h: os.path.join(self.folder, str(n)) for n, h in enumerate(hosts)}
        for host in hosts:
            os.mkfifo(self.base[host] + '.plan', 0o600)
        pids = start_in_shells([
            (net.get(h), ['timeout', '-k', '1', f'{limit:g}', netprobe, '--host', h, 'batch'],
             self.base[h] + '.plan', self.base[h] + '.out', self.base[h] + '.err')
            for h in hosts])
        self.idents = {h: identity(pid, 'netprobe') for h, pid in zip(hosts, pids)
                       if pid}
        state.add_pids([i['pid'] for i in self.idents.values()], 'netprobe')

    def feed(self, plans, kinds):
        """Every plan into its FIFO, then each batch awaited and its records parsed
        while the others still run; {case index: record|error}."""
        results = {}
        try:
            fed = {h: self._feed(h, plans[h][0]) for h in self.base}
            procs_stop([i for h, i in self.idents.items() if fed[h] is not None], 0.5)
            waiting = [h for h in self.base if fed[h] is None]
            for host in waiting:
                self.net.get(host).sendCmd(f'wait {self.idents[host]["pid"]}; echo @rc:$?')
            for host in self.base:
                said = self.net.get(host).waitOutput() if host in waiting else None
                results.update(self._records(host, plans[host][1], kinds, said, fed[host]))
        except BaseException:  # Ctrl-C: do not wait for the batches to finish
            procs_stop(list(self.idents.values()), 0.5)
            raise
        finally:
            self.state.drop_pids([i['pid'] for i in self.idents.values()])
            shutil.rmtree(self.folder, ignore_errors=True)
        return results

    def _records(self, host, ids, kinds, said, not_fed):
        """{case index: record|error} of host's batch, from its records file."""
        rc, why = _shell_rc(said, not_fed, self.limit)
        got = collect(read_output(self.base[host] + '.out'), ids, kinds)
        err = read_output(self.base[host] + '.err') + why
        for index in ids.values():
            if index not in got:
                got[index] = _no_record(host, rc, err)
        return got

    def _feed(self, host, text, seconds=10.0):
        """Write host's plan into its FIFO; None, or why it could not be given."""
        ident = self.idents.get(host)
        if ident is None:
            return 'its shell gave no PID back'
        deadline = time.monotonic() + seconds
        while True:
            try:
                fd = os.open(self.base[host] + '.plan', os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as exc:      # ENXIO: its shell has not opened it yet
                if exc.errno != errno.ENXIO or not alive(ident) or \
                        time.monotonic() > deadline:
                    return f'its plan could not be given ({exc.strerror})'
                time.sleep(0.001)
        try:
            os.set_blocking(fd, True)
            with os.fdopen(fd, 'wb') as f:
                f.write(text.encode())
        except BrokenPipeError:
            return 'it ended before it had read its plan'
        return None


def _shell_rc(said, not_fed, limit):
    """(exit status, words for the error text) of a shell batch from its shell's
    answer to `wait PID; echo @rc:$?` (124/137: timeout(1) ended it)."""
    if not_fed:
        return None, f'\n({not_fed})'
    found = re.search(r'@rc:(\d+)', said or '')
    rc = int(found.group(1)) if found else None
    if rc in (124, 137):
        return rc, f'\n(killed after {limit:.0f} s)'
    return rc, ''


def _finish_host(host, proc, plan, kinds, limit):
    """One host's batch from plan to {case index: record|error} (in a worker thread,
    so parsing overlaps with the other batches still running)."""
    text, ids = plan
    out, err, rc = _finish(proc, text.encode(), limit)
    got = collect(out, ids, kinds)
    for index in ids.values():
        if index not in got:
            got[index] = _no_record(host, rc, err)
    return got


def _finish(proc, plan, limit):
    """Give a batch its plan, wait (killing it past limit s); (stdout, stderr, status)."""
    try:
        out, err = proc.communicate(plan, timeout=limit)
    except Exception:  # TimeoutExpired, or an interrupt in the main thread
        proc.kill()
        out, err = proc.communicate()
        err += f'\n(killed after {limit:.0f} s)'.encode()
    return out.decode(errors='replace'), err.decode(errors='replace'), proc.returncode


def _no_record(host, rc, err):
    tail = ' '.join(err.strip().splitlines()[-3:])[:300]
    return f'no record from netprobe batch on {host} (exit {rc}): {tail or "no message"}'


def _timeout_ms(case):
    """A connect's timeout in ms: its timeout= option, else netprobe's 1000."""
    limit = timeout_of(case)
    return 1000 if limit is None else limit


# -- servers --------------------------------------------------------------------------

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


class Servers:
    """The `netprobe serve` processes of one scenario; stop() ends them by PID."""

    def __init__(self, state):
        self.state = state
        self.procs = []         # (Server, Popen)
        self.records = []       # (Server, record dict or error text)

    def start_all(self, net, servers, netprobe, workdir):
        """Start every server and wait for each readiness line.

        Through the hosts' shells when they have idle ones (nsbatch.start_in_shells),
        else with popen.  Returns a list of error texts (empty: every server that
        must start did).  Each call's files go to a folder of its own under workdir:
        a readiness line left by an earlier call's server (the ready servers on
        READY_PORT) must never be read as this call's.
        """
        from ..net import idle_shells
        hosts = [net.get(server.host) for server in servers]
        start = self._in_shells if hosts and idle_shells(hosts) else self._popened
        errors = []
        own = tempfile.mkdtemp(prefix='serve-', dir=workdir)
        for server, rec in zip(servers, start(hosts, servers, netprobe, own)):
            self.records.append((server, rec))
            if isinstance(rec, str):
                errors.append(f'server {server.host} {server.proto} '
                              f'{server.addr}:{server.port}: {rec}')
            elif not rec['ok'] and server.must_start:
                errors.append(f'server {server.host} {server.proto} {server.addr}:'
                              f'{server.port} could not listen: {rec["error"]} '
                              f'({rec["message"]})')
        return errors

    def _popened(self, hosts, servers, netprobe, workdir):
        """Each server a Popen of the harness's; [readiness record or error text]."""
        started = []
        try:
            for n, (host, server) in enumerate(zip(hosts, servers)):
                with open(os.path.join(workdir, f'serve{n}.err'), 'wb') as log:
                    proc = host.popen(server_argv(netprobe, server), stderr=log)
                self.procs.append((server, proc))
                started.append((n, proc))
        finally:   # recorded even when a later popen fails or Ctrl-C arrives
            self.state.add_pids([p.pid for _s, p in self.procs], 'netprobe')
        deadline = time.monotonic() + SERVER_READY_S
        return [self._ready_line(proc, deadline, os.path.join(workdir, f'serve{n}.err'))
                for n, proc in started]

    def _in_shells(self, hosts, servers, netprobe, workdir):
        """Each server a background job of its host's shell, its readiness line read
        from its stdout file; [readiness record or error text]."""
        from ..net import start_in_shells
        bases = [os.path.join(workdir, f'serve{n}') for n in range(len(servers))]
        pids = start_in_shells([(host, server_argv(netprobe, server), '/dev/null',
                                 base + '.out', base + '.err')
                                for host, server, base in zip(hosts, servers, bases)])
        idents = [identity(pid, 'netprobe') if pid else None for pid in pids]
        self.procs += [(server, ident) for server, ident in zip(servers, idents) if ident]
        self.state.add_pids([i['pid'] for i in idents if i], 'netprobe')
        deadline = time.monotonic() + SERVER_READY_S
        return [_ready_in_file(base, ident, deadline) if ident else
                'its shell gave no PID back' for base, ident in zip(bases, idents)]

    @staticmethod
    def _ready_line(proc, deadline, errpath):
        """The serve record (the readiness signal), or an error text."""
        buf = b''
        while b'\n' not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return f'no readiness line within {SERVER_READY_S:.0f} s'
            ready, _, _ = select.select([proc.stdout], [], [], left)
            if not ready:
                continue
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                proc.wait()
                with open(errpath, 'rb') as f:
                    err = f.read().decode(errors='replace').strip()
                if buf.strip():
                    break
                return f'exited with {proc.returncode} before it was ready: {err[-300:]}'
            buf += chunk
        line = buf.split(b'\n', 1)[0].decode(errors='replace')
        try:
            return parse_record(line, 'serve')
        except ValueError as exc:
            return f'bad readiness line: {exc}'

    def stop(self, grace_s=3.0):
        """SIGTERM every server by PID, wait, SIGKILL what is left (procs.stop)."""
        procs_stop([p for _s, p in self.procs], grace_s)
        for _server, proc in self.procs:
            if isinstance(proc, subprocess.Popen) and proc.stdout:
                proc.stdout.close()
        self.state.drop_pids([pid_of(p) for _s, p in self.procs])
        self.procs = []

    def summary(self):
        """The server records, for matrix.json."""
        out = []
        for server, rec in self.records:
            out.append({'host': server.host, 'proto': server.proto, 'addr': server.addr,
                        'port': server.port, 'options': list(server.options),
                        'record': rec if isinstance(rec, dict) else None,
                        'error': rec if isinstance(rec, str) else None})
        return out


def _ready_in_file(base, ident, deadline):
    """The serve record a shell-started server wrote to base.out (its readiness
    signal), or an error text: it ended first, or wrote none in time."""
    while True:
        text = read_output(base + '.out')
        if '\n' in text:
            break
        if not alive(ident):
            text = read_output(base + '.out')     # it may have written it as it ended
            if '\n' in text:
                break
            err = read_output(base + '.err').strip()
            return f'exited before it was ready: {err[-300:] or "no message"}'
        if time.monotonic() > deadline:
            return f'no readiness line within {SERVER_READY_S:.0f} s'
        time.sleep(0.002)
    try:
        return parse_record(text.split('\n', 1)[0], 'serve')
    except ValueError as exc:
        return f'bad readiness line: {exc}'


# -- readiness over TCP -----------------------------------------------------------------

READY_PORT = 65432


def _owners(net):
    """{address: the host Mininet gave it}."""
    return {intf.IP(): host.name for host in net.hosts for intf in host.intfList()
            if intf.IP()}


def owned_pairs(net, pairs):
    """(pairs whose address Mininet knows the owner of, the other pairs)."""
    owners = _owners(net)
    return [p for p in pairs if p[1] in owners], [p for p in pairs if p[1] not in owners]


def transport_ready(net, pairs, netprobe, state, workdir, tries=5):
    """TCP connects for every (host, addr) pair, each address's owner (Mininet's)
    serving on READY_PORT meanwhile; returns the pairs that never connected.

    A ping can succeed where TCP cannot (checksum offload through a userspace
    switch, a firewall that lets ICMP through): a matrix taken then would be wrong.
    A connect that works proves the ping too, so these pairs are not pinged first
    (LiveNetwork._ready pings the ones that do not connect).  Tries of up to 1 s,
    0.2 s apart.  Raises EnvError when a ready server could not start.
    """
    if not pairs:
        return []
    from ..net import run_in_shells      # Mininet's, like the shells it runs in
    from ..scenarios import Server
    owners = _owners(net)
    servers = Servers(state)
    try:
        targets = sorted({a for _h, a in pairs})
        errors = servers.start_all(net, [Server(owners[a], a, READY_PORT) for a in targets],
                                   netprobe, workdir)
        if errors:
            raise EnvError('; '.join(errors[:5]))
        pending = list(pairs)
        for _ in range(tries):
            said = run_in_shells([(net.get(h), [netprobe, '--host', h, 'connect', '--timeout',
                                                '1000', a, str(READY_PORT)], None, None)
                                  for h, a in pending])     # its --timeout bounds it
            pending = [pair for pair, (_rc, out, _err) in zip(pending, said)
                       if not _connected(out)]
            if not pending:
                return []
            time.sleep(0.2)
        return pending
    finally:
        servers.stop()


def _connected(out):
    """True when netprobe connect's first record says ok."""
    try:
        return parse_record(out.splitlines()[0])['ok'] is True
    except (ValueError, IndexError, KeyError, TypeError):
        return False


# -- the prober ---------------------------------------------------------------------------

class Batches:
    """The netprobe prober: every case of a scenario, one batch per host, all at once.

    prepare(net) starts the batches (each waits for its plan on stdin), observe(net)
    feeds the plans and returns {case id: Observation}.  net: the Mininet object, or
    anything whose get(name) gives a host with popen() (the lab's outside check).
    """
    name = 'netprobe'
    provides = ('held', 'listener')

    def __init__(self, scenario, netprobe, state, only=None):
        self.scenario, self.netprobe, self.state = scenario, netprobe, state
        self.plans, self.procs = make_plans(scenario, only), None

    def prepare(self, net):
        """Start the batches ahead (while the servers get ready)."""
        self.procs = spawn_batches(net, self.plans, self.state, self.netprobe,
                                   batch_limit(self.scenario))

    def observe(self, net):
        """Feed every plan; {case id: Observation} of every case."""
        if self.procs is None:
            self.prepare(net)
        got = feed_batches(self.procs, self.scenario, self.plans, self.state,
                           batch_limit(self.scenario))
        self.procs = None
        return {cid: observation(got.get(i)) for _text, ids in self.plans.values()
                for cid, i in ids.items()}


def observation(got):
    """The Observation of one batch result: a record, or the text of what went wrong."""
    if got is None:
        return Observation.error('no result for this case')
    if isinstance(got, str):
        return Observation.error(got)
    return Observation.of_record(got)
