"""Run setup and fault steps inside Mininet hosts, and prove each one applied.

A step is an argument list run in its host (hosts.run_on: through the host's shell,
every word quoted, or host.popen).  Exit status 0 is required; a step with
until='empty-stdout' is rerun until it prints nothing (bounded by its timeout).  The first step that does not apply stops the sequence and is
returned as an error: a scenario whose fault did not happen must not produce a
matrix that looks like the fault's effect.  Consecutive steps marked together
(scenario.at_once) are started all at once and then each is checked in order, as if
they had run one after the other.
"""

import time

from .hosts import run_on
from .retry import attempts


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
    """Run steps at once (hosts.run_on: through the hosts' shells).  A step whose first
    run is not yet what it waits for (until) is then run on its own, as run_step
    would.  Returns each step's result (None, or what went wrong)."""
    finished = run_on([(net.get(step.host), step.argv, step.stdin or '',
                        step.timeout_s + 5) for step in steps])
    results = []
    for step, (rc, out, err) in zip(steps, finished):
        failed = _failed(step, rc, out, err)
        if failed is not None or step.until is None or not out.strip():
            results.append(failed)
        else:
            results.append(run_step(net, step))
    return results


def run_step(net, step):
    """Run one step (rerun while until='empty-stdout' and it prints, pausing 0.1 s,
    up to its timeout); None when it applied, else what went wrong (text)."""
    host = net.get(step.host)
    for _ in attempts(deadline=time.monotonic() + step.timeout_s, pause=0.1):
        (rc, out, err), = run_on([(host, step.argv, step.stdin or '', step.timeout_s + 5)])
        failed = _failed(step, rc, out, err)
        if failed is not None or step.until is None or not out.strip():
            return failed
    return f'still printing after {step.timeout_s:.0f} s: {out.strip()[:200]}'


def _failed(step, rc, out, err):
    """None for a run that exited 0, else its error text (124: its timeout ended it)."""
    if rc == 124:
        return f'timed out after {step.timeout_s + 5:.0f} s'
    if rc != 0:
        return f'exit {rc}: {(err or out).strip()[:300] or "no message"}'
    return None
