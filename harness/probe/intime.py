"""Server programs in time: started at t=0 of a scenario's timeline, kept running
through the probe phase, judged after it from the tracer's records over time.

    in_time = InTime(program_run, scenario)   the launches that run in time
    in_time.before_t0()                       netprobe's plain binds, run before t=0
    in_time.start(net, workdir, t0_mono)      t=0 (right after Timeline.start)
    ... netprobe's batches, the timeline's steps ...
    in_time.finish()                          each launch's outcome (launch.outcome)
    in_time.spare(observations)               netprobe's binds that met a program
    in_time.abort()                           a prober that broke, Ctrl-C: stop now

Which launches: the server programs that choose their own address (one launch a
host, the column `tcp server program`), when the scenario (or its mutation) has
timed steps; without them nothing here runs and a server is decided as it starts
(probe/launches.py).  A server told the address is one launch per case, several on
a host, which would hold each other's ports if they ran together: it still runs
before t=0, one launch at a time.

Every record of both tracers carries `mono_ns` (CLOCK_MONOTONIC when the call
returned; every namespace shares that clock), placed on the timeline by its t0_mono.
The server's history: each failed bind/listen a try with its errno (at the call's
start), its listen (UDP: its bind) a try OK at its return, which is ok_at: the same
`tries`/`ok_at` as netprobe's retrying cases, read by the same history words and
judged by the same time rule (judge/history.py).  The outcome is its final state
after the probe phase:
- listening: OK (`EADDRNOTAVAIL x15 -> OK at 1.56 s`);
- exited: the errno of its last failed bind/listen (`EADDRNOTAVAIL at 0.02 s,
  exited 1`), NOCALL when it made none;
- neither by its --program-timeout, counted from t=0 (or by the phase's end, if
  later): ERROR saying it was still retrying (slow) or made no call (hung), never a
  network outcome; it is stopped by PID.
Netprobe runs meanwhile on the same hosts (its servers, the scenario's listeners,
because the probes' connects need them; its batches): a program that met one of
them on its port (EADDRINUSE where netprobe's servers or bind cases use that port on
its host) is ERROR, not judged, saying so; and a netprobe bind case that met the
program's listener (EADDRINUSE where the case expects otherwise) is ERROR naming
the program.  Neither is a condition the cell's expectation was written for.
Records without mono_ns (an older tracer) give no history: the first failed
bind/listen or the first listen decides, as without a timeline; a program no tracer
sees (`observed`) is judged by its final state alone (`ss`, or its exit and stderr).
"""

import time

from ..scenarios import ERROR, NOCALL, OK
from .launches import (completed, decide_observed, fell_back, first_line, halt, POLL_S,
                       read_trace, spawn, untraced_reason)
from .observation import Observation
from .plans import cases_of
from .traced import decide_traced, own_bind, relevant


class InTime:
    """The server launches of a ProgramRun that run through a scenario's timeline."""

    def __init__(self, program_run, scenario):
        self.state, self.scenario = program_run.state, scenario
        self.launches = [l for l in program_run.launches
                         if l.program.role == 'server' and not l.program.per_case()]
        self.procs = {}         # cell id -> (node, process, stem of its files)
        self.t0_mono = None

    def before_t0(self):
        """The case ids netprobe probes just before t=0 instead of beside the programs:
        the plain binds (no retry=, every=, delay=) of the hosts a launch runs on.  A
        plain bind is a question about t=0, and nothing fires between the two; run
        beside a program that binds the same port it would meet its listener, by a
        race (which of the two started first), and say nothing about the network.
        None on a host where a case holds its socket (hold): a bind after it would
        lose the socket it met."""
        hosts = {l.host for l in self.launches}
        cases = cases_of(self.scenario)
        hosts -= {c.host for _cid, c in cases if 'hold' in c.options}
        timed = ('retry=', 'every=', 'delay=')
        return [cid for cid, c in cases if c.kind == 'bind' and c.host in hosts and
                not any(o.startswith(timed) for o in c.options)]

    def start(self, net, workdir, t0_mono):
        """Start every launch now (t=0: t0_mono, the timeline's monotonic start)."""
        self.t0_mono = t0_mono
        for launch in self.launches:
            node = net.get(launch.host)
            proc, stem = spawn(node, launch, workdir, self.state)
            self.procs[launch.cell_id] = (node, proc, stem)

    def abort(self):
        """Stop every launch now (its outcome stays unknown)."""
        for _node, proc, _stem in self.procs.values():
            halt(proc, self.state)
        self.procs = {}

    def finish(self):
        """Wait until each launch listens or exits (or its time is up), stop them all,
        and set each launch.outcome."""
        decided, todo = {}, {l.cell_id: l for l in self.launches if l.cell_id in self.procs}
        end = {cid: max(time.monotonic(), self.t0_mono + l.program.timeout_s)
               for cid, l in todo.items()}
        try:
            while todo:
                for cid, launch in list(todo.items()):
                    node, proc, stem = self.procs[cid]
                    got = self._settled(node, launch, proc, stem)
                    if got is not None or time.monotonic() > end[cid]:
                        decided[cid] = got or self._undecided(launch, proc, stem)
                        del todo[cid]
                if todo:
                    time.sleep(POLL_S)
        finally:
            stopped = {cid: halt(proc, self.state) for cid, (_n, proc, _s)
                       in self.procs.items()}
        for launch in self.launches:
            if launch.cell_id in decided:
                node, proc, stem = self.procs[launch.cell_id]
                launch.outcome = completed(node, proc, stopped[launch.cell_id], stem,
                                           self._unheld(launch, decided[launch.cell_id]))
        self.procs = {}

    def _settled(self, node, launch, proc, stem):
        """The outcome of a launch that listens or has exited; None while neither."""
        exited = proc.poll() is not None
        recs = read_trace(stem + '.trace.jsonl') if launch.method != 'observed' else []
        untraced = untraced_reason(recs)    # bindtrace-sys could not trace it, and says why
        if launch.method == 'observed' or untraced is not None:
            got = decide_observed(node, launch, proc, exited, stem + '.err')
            if got is None:
                return _nocall(proc, stem, exited)
            return fell_back(dict(got, method='observed'), 'observed', untraced)
        past = history(launch, recs, self.t0_mono)
        if past is None:            # an older tracer: no time in its records
            return decide_traced(launch, recs, exited) or _nocall(proc, stem, exited)
        tries, ok_at, last, bound = past
        if last is None:
            return _nocall(proc, stem, exited)
        if last.get('ok'):
            then = f', then exited with status {proc.returncode}' if exited else ''
            return {'actual': OK, 'message': f'listening on {_where(last)} from '
                    f'{ok_at:.2f} s{then}', 'record': last, 'bind': bound,
                    'local': last.get('local'), 'tries': tries, 'ok_at': ok_at}
        if not exited:
            return None             # still trying: it may yet listen
        return {'actual': str(last.get('error')), 'record': last, 'bind': bound,
                'message': f'{last.get("call")}({_where(last)}): {last.get("message")} '
                           f'at {tries[-1][0]:.2f} s; it exited with status '
                           f'{proc.returncode}', 'tries': tries, 'ok_at': None}

    def _undecided(self, launch, proc, stem):
        """The ERROR of a launch neither listening nor exited by its time: slow (still
        trying) or hung (no call at all), said as such."""
        past = history(launch, read_trace(stem + '.trace.jsonl'), self.t0_mono)
        tries = past[0] if past else None
        limit = f'{launch.program.timeout_s:g} s of t=0, stopped by PID {proc.pid}'
        if tries:
            return {'actual': ERROR, 'tries': tries, 'ok_at': None, 'message':
                    f'slow: still not listening within {limit}; its last try '
                    f'({tries[-1][1]}) at {tries[-1][0]:.2f} s: not judged as a network '
                    'outcome'}
        return {'actual': ERROR, 'message': f'the program hung: no bind or listen '
                f'within {limit}'}

    def _unheld(self, launch, got):
        """got, or ERROR (not judged) when the port it met in use (EADDRINUSE) is one
        netprobe used meanwhile on its host: a scenario's listener, or bind cases."""
        rec = got.get('record') or {}
        if got['actual'] != 'EADDRINUSE':
            return got
        key = (launch.host, launch.program.proto, rec.get('port'))
        held = [f'netprobe\'s server {s.addr}:{s.port} (the scenario\'s listener, up '
                'before t=0)' for s in self.scenario.servers
                if (s.host, s.proto, s.port) == key]
        held += [f'netprobe\'s bind cases of port {c.port}' for _cid, c in
                 cases_of(self.scenario) if c.kind == 'bind' and
                 (c.host, c.proto, c.port) == key]
        if not held:
            return got
        return dict(got, actual=ERROR, message=(
            f'not judged: {held[0]} used that port on {launch.host} while the program '
            f'ran in time ({got.get("message")})'))

    def spare(self, observations):
        """observations with netprobe's bind cells that met a program's listener in
        time (EADDRINUSE the case does not expect) made ERROR, naming the program."""
        held = {}
        for launch in self.launches:
            got = launch.outcome or {}
            rec = got.get('record') or {}
            if got.get('ok_at') is not None:
                held[(launch.host, launch.program.proto, rec.get('port'))] = \
                    (_where(rec), got['ok_at'])
        for cid, case in cases_of(self.scenario):
            obs = observations.get(cid)
            where = held.get((case.host, case.proto, case.port))
            if where and obs is not None and obs.method == 'netprobe' and \
                    obs.actual == 'EADDRINUSE' and case.expect.outcome != 'EADDRINUSE':
                observations[cid] = Observation.error(
                    f'not judged: the server program listened on {where[0]} from '
                    f'{where[1]:.2f} s, and this bind met it (EADDRINUSE)', extra=obs.extra)
        return observations


def history(launch, recs, t0_mono):
    """(tries, ok_at, the record of the last state, the bind before it) of a server's
    records on the timeline, or None when they carry no time (an older tracer).

    Each failed bind/listen is a try with its errno at the call's start; a listen
    (UDP: a bind) a try OK at its return, which is ok_at; a runtime's own probe
    binds (traced.own_bind) are no tries.
    """
    tries, ok_at, last, bound, bind = [], None, None, None, None
    for rec in relevant(launch, recs, ('bind', 'listen')):
        if not isinstance(rec.get('mono_ns'), int):
            return None
        if rec['op'] == 'bind' and not own_bind(launch, rec):
            continue
        end = rec['mono_ns'] / 1e9 - t0_mono
        bind = rec if rec['op'] == 'bind' else bind
        if not rec.get('ok'):
            start = end - (rec.get('elapsed_us') or 0) / 1e6
            tries.append([round(start, 3) + 0.0, str(rec.get('error'))])
            last, bound, ok_at = rec, bind, None
        elif rec['op'] == 'listen' or launch.program.proto == 'udp':
            tries.append([round(end, 3), OK])
            last, bound, ok_at = rec, bind, round(end, 3)
    return tries, ok_at, last, bound


def _where(rec):
    addr = rec.get('addr') or '?'
    return f'[{addr}]:{rec.get("port")}' if ':' in addr else f'{addr}:{rec.get("port")}'


def _nocall(proc, stem, exited):
    """NOCALL for a launch that exited without a bind or listen; None while it runs."""
    if not exited:
        return None
    return {'actual': NOCALL, 'message': f'exited with status {proc.returncode} '
            f'without a listening socket: {first_line(stem + ".err")}'}
