"""Run setup and fault steps inside Mininet hosts, and prove each one applied.

A step is an argument list run with host.popen (no shell).  Exit status 0 is
required; a step with until='empty-stdout' is rerun until it prints nothing (bounded
by its timeout).  The first step that does not apply stops the sequence and is
returned as an error: a scenario whose fault did not happen must not produce a
matrix that looks like the fault's effect.
"""

import subprocess
import time


def apply_steps(net, steps, kind):
    """Run steps in order; returns (applied records, error text or None)."""
    applied = []
    for step in steps:
        result = run_step(net, step)
        applied.append({'kind': kind, 'host': step.host, 'argv': list(step.argv),
                        'why': step.why, 'ok': result is None, 'error': result})
        if result is not None:
            return applied, f'{kind} step on {step.host} `{" ".join(step.argv)}` ' \
                            f'failed: {result}'
    return applied, None


def run_step(net, step):
    """Run one step; None when it applied, else what went wrong (text)."""
    host = net.get(step.host)
    deadline = time.monotonic() + step.timeout_s
    while True:
        rc, out, err = _run(host, step)
        if rc != 0:
            return f'exit {rc}: {(err or out).strip()[:300] or "no message"}'
        if step.until is None or not out.strip():
            return None
        if time.monotonic() > deadline:
            return f'still printing after {step.timeout_s:.0f} s: {out.strip()[:200]}'
        time.sleep(0.1)


def _run(host, step):
    """(status, stdout, stderr) of step.argv inside host."""
    proc = host.popen(list(step.argv), stdin=subprocess.PIPE)
    try:
        out, err = proc.communicate(step.stdin.encode() if step.stdin else b'',
                                    timeout=step.timeout_s + 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return 124, '', f'timed out after {step.timeout_s + 5:.0f} s'
    return proc.returncode, out.decode(errors='replace'), err.decode(errors='replace')
