"""Run setup and fault steps inside Mininet hosts, and prove each one applied.

A step is an argument list run with host.popen (no shell; steps run together go
through the hosts' shells, every word quoted).  Exit status 0 is
required; a step with until='empty-stdout' is rerun until it prints nothing (bounded
by its timeout).  The first step that does not apply stops the sequence and is
returned as an error: a scenario whose fault did not happen must not produce a
matrix that looks like the fault's effect.  Consecutive steps marked together
(scenario.at_once) are started all at once and then each is checked in order, as if
they had run one after the other.
"""

import subprocess
import time

from .nsbatch import run_in_shells


def apply_steps(net, steps, kind):
    """Run steps in order; returns (applied records, error text or None)."""
    applied = []
    for group in _groups(steps):
        results = run_together(net, group) if len(group) > 1 else [run_step(net, group[0])]
        for step, result in zip(group, results):
            applied.append({'kind': kind, 'host': step.host, 'argv': list(step.argv),
                            'why': step.why, 'ok': result is None, 'error': result})
            if result is not None:
                return applied, f'{kind} step on {step.host} `{" ".join(step.argv)}` ' \
                                f'failed: {result}'
    return applied, None


def _groups(steps):
    """steps in runs: each together-run of consecutive steps is one group, every
    other step a group of its own."""
    groups = []
    for step in steps:
        if step.together and groups and groups[-1][-1].together:
            groups[-1].append(step)
        else:
            groups.append([step])
    return groups


def run_together(net, steps):
    """Run steps at once, through the hosts' shells (nsbatch.run_in_shells: no
    process of the harness's own per step).  A step whose first run is not yet what
    it waits for (until) is then run on its own, as run_step would.  Returns each
    step's result (None, or what went wrong)."""
    finished = run_in_shells([(net.get(step.host), step.argv, step.stdin or '',
                               step.timeout_s + 5) for step in steps])
    results = []
    for step, (rc, out, err) in zip(steps, finished):
        if rc == 124:
            results.append(f'timed out after {step.timeout_s + 5:.0f} s')
        elif rc != 0:
            results.append(_failed(rc, out, err))
        elif step.until is None or not out.strip():
            results.append(None)
        else:
            results.append(run_step(net, step))
    return results


def run_step(net, step):
    """Run one step; None when it applied, else what went wrong (text)."""
    host = net.get(step.host)
    deadline = time.monotonic() + step.timeout_s
    while True:
        rc, out, err = _finish(_start(host, step), step)
        if rc != 0:
            return _failed(rc, out, err)
        if step.until is None or not out.strip():
            return None
        if time.monotonic() > deadline:
            return f'still printing after {step.timeout_s:.0f} s: {out.strip()[:200]}'
        time.sleep(0.1)


def _failed(rc, out, err):
    """The error text of a step that exited rc."""
    return f'exit {rc}: {(err or out).strip()[:300] or "no message"}'


def _start(host, step):
    """step.argv started inside host, its stdin a pipe."""
    return host.popen(list(step.argv), stdin=subprocess.PIPE)


def _finish(proc, step):
    """(status, stdout, stderr) of a started step: its stdin fed, its end awaited."""
    try:
        out, err = proc.communicate(step.stdin.encode() if step.stdin else b'',
                                    timeout=step.timeout_s + 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return 124, '', f'timed out after {step.timeout_s + 5:.0f} s'
    return proc.returncode, out.decode(errors='replace'), err.decode(errors='replace')
