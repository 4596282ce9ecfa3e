"""A scenario's timeline: steps fired inside the hosts at a given second while the
probes and programs run (an address arriving late, a VIP moving, a link flapping).

    timeline = Timeline(net, steps, state)     the steps with `at` (Step.at)
    timeline.start()                           t = 0: the probe phase begins
    ... the probes run ...
    timeline.finish()                          each step as it really took effect

Each host that has timed steps gets one small runner (a Python process started in
the host like any other job, hosts.start_on, its PID in the state file) that sleeps
until t0 + at, runs the step's argv (no shell, its stdin fed), and writes one line
saying when it started and when it returned (seconds from t0, the wall clock: the
same clock netprobe's records place their tries on) and its exit status.  A host's
steps run in the order of their `at`; a step that takes long makes the next late,
and its record says so.  Nothing here judges: finish() returns what happened.
"""

import json
import os
import shutil
import sys
import time

from ..files import read_output
from ..ledger import stop, work_folder
from .hosts import ended, start_on

# The runner, written into the work folder and run in each host: argv[1] is its
# steps file ({"t0": wall clock, "steps": [...]}); one JSON line per step on stdout.
RUNNER = r'''
import json, subprocess, sys, time
with open(sys.argv[1]) as f:
    plan = json.load(f)
t0 = plan["t0"]
for step in plan["steps"]:
    wait = t0 + step["at"] - time.time()
    if wait > 0:
        time.sleep(wait)
    fired = time.time() - t0
    try:
        proc = subprocess.run(step["argv"], input=step["stdin"], capture_output=True,
                              text=True, timeout=step["timeout_s"])
        rc, text = proc.returncode, (proc.stderr or proc.stdout).strip()
    except subprocess.TimeoutExpired:
        rc, text = 124, "timed out after %g s" % step["timeout_s"]
    except OSError as exc:
        rc, text = 127, str(exc)
    print(json.dumps({"index": step["index"], "fired_s": fired,
                      "done_s": time.time() - t0, "rc": rc, "error": text[:300]}),
          flush=True)
'''

# Seconds a runner may take past its last step's `at` and timeout.
SLACK_S = 5.0


def timed(steps):
    """The steps of a sequence that have an `at`, in the order of their `at`."""
    return sorted((s for s in steps if s.at is not None), key=lambda s: s.at)


def untimed(steps):
    """The steps of a sequence to run before the probes (no `at`)."""
    return tuple(s for s in steps if s.at is None)


class Timeline:
    """The timed steps of a scenario, fired in their hosts from start() on.

    finish() waits for every runner and returns one record per step, in the order of
    their `at`: {kind 'timed', host, argv, why, at, fired_s, done_s, ok, error} (the
    times in seconds from start(); fired_s/done_s None when the step never ran), or
    None when there are no timed steps.  t0: start()'s wall clock (time.time());
    t0_mono: the same instant on the monotonic clock (the tracers' records' mono_ns).
    """

    def __init__(self, net, steps, state):
        self.net, self.steps, self.state = net, timed(steps), state
        self.t0, self.jobs, self.folder = None, {}, None
        self.t0_mono = None

    def start(self):
        """t = 0: one runner a host, each sleeping until its first step is due."""
        self.t0, self.t0_mono = time.time(), time.monotonic()
        if not self.steps:
            return
        self.folder = work_folder('work-timeline-')
        commands = []
        with open(os.path.join(self.folder, 'runner.py'), 'w') as f:
            f.write(RUNNER)
        for host in sorted({s.host for s in self.steps}):
            base = os.path.join(self.folder, host)
            mine = [dict(index=i, argv=list(s.argv), stdin=s.stdin or '', at=s.at,
                         timeout_s=s.timeout_s)
                    for i, s in enumerate(self.steps) if s.host == host]
            with open(base + '.json', 'w') as f:
                json.dump({'t0': self.t0, 'steps': mine}, f)
            commands.append((self.net.get(host), [sys.executable, '-I',
                             os.path.join(self.folder, 'runner.py'), base + '.json'], base))
        try:
            self.jobs = dict(zip((h for h in sorted({s.host for s in self.steps})),
                                 start_on(commands, self.state, 'timeline')))
        except BaseException:
            self._clean()
            raise

    def finish(self):
        """Every runner awaited (killed past its bound); the steps' records."""
        if not self.steps:
            return None
        jobs = [j for j in self.jobs.values() if j]
        bound = max(s.at + s.timeout_s for s in self.steps) + SLACK_S
        try:
            while any(j.running() for j in jobs) and time.time() - self.t0 < bound:
                time.sleep(0.02)
            stop([j.target for j in jobs if j.running()], 0.5)
            for _job in ended([j for j in jobs if j.wait_line]):
                pass
            return self._records()
        finally:
            self._clean()

    def abort(self):
        """Every runner stopped now (its remaining steps never fire), its files gone."""
        try:
            stop([j.target for j in self.jobs.values() if j and j.running()], 0.5)
        finally:
            self._clean()

    def _records(self):
        """One record a step, from the runners' output lines (read strictly: a line
        that is not what the runner writes leaves its step unrun, saying so)."""
        said = {}
        for host in self.jobs:
            for line in read_output(os.path.join(self.folder, host + '.out')).splitlines():
                try:
                    got = json.loads(line)
                    said[int(got['index'])] = got
                except (ValueError, KeyError, TypeError):
                    continue
        out = []
        for i, step in enumerate(self.steps):
            got = said.get(i)
            rec = {'kind': 'timed', 'host': step.host, 'argv': list(step.argv),
                   'why': step.why, 'at': step.at, 'fired_s': None, 'done_s': None}
            if got is None:
                rec.update(ok=False, error='never ran (its runner ended before it)')
            else:
                rec.update(fired_s=round(float(got['fired_s']), 3),
                           done_s=round(float(got['done_s']), 3), ok=got['rc'] == 0,
                           error=None if got['rc'] == 0 else
                           f'exit {got["rc"]}: {got.get("error") or "no message"}')
            out.append(rec)
        return out

    def _clean(self):
        self.state.drop_pids([j.pid for j in self.jobs.values() if j])
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
