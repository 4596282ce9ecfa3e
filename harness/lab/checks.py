"""What a lab's `check` says, inside the lab or from another terminal: the cells
probed again on the live network, what changed since the last check, whether the
goal of the lab sheet holds and what a fix broke (the guard), and the student's
record appended (harness/lab/records.py).  harness/lab/lab.py opens the lab and
calls these; bindlab's pytest plugin (bindlab/net.py) probes with probe_cells.
"""

import os
import time

from .. import PREFIX
from ..judge import judge, name as cell_name
from ..probe import Batches, cases_of
from . import records
from .goals import broke_line, changes, guard_words, judge_goal, judge_guard


def probe_cells(net, scenario, run_state, netprobe):
    """Every case of scenario probed now on net; the judged cells (harness format).
    A lab fires no timed step (its network stays at the moment before them); a cell
    in time has its tries in seconds from this probe's start."""
    t0 = time.time()
    observed = Batches(scenario, netprobe, run_state).observe(net)
    return judge(cases_of(scenario), {cid: obs.on_timeline(t0)
                                      for cid, obs in observed.items()})


def report_check(before, after, reqs, out=print, guard=None, guarded=()):
    """Print what changed, whether the goal holds and what the fix broke (the guard:
    the cells of `guarded`, which passed when the lab opened, outside the goal, keep
    their outcome); (solved, changed, missing, broken lines)."""
    changed = changes(before, after)
    what = (f'{len(changed)} cell{"s" if len(changed) > 1 else ""} changed since the '
            'last check:') if changed else 'no cell changed since the last check'
    out(f'{PREFIX}check: {len(after)} cells probed; {what}')
    for line in changed:
        out(f'    {line}')
    if not reqs:
        out(f'{PREFIX}this lab has no goal block in its sheet: compare the cells yourself '
            '(`matrix`)')
        return False, changed, [], []
    holds, missing = judge_goal(reqs, after)
    broken = judge_guard(guard, reqs, guarded, after)
    if holds and not broken:
        out(f'{PREFIX}SOLVED: the goal holds ({"; ".join(r["text"] for r in reqs)}) and '
            'nothing else broke')
    elif holds:
        out(f'{PREFIX}not solved: the goal holds, but the fix broke '
            f'{len(broken)} other cell(s), which must keep the outcome they had when the '
            'lab opened:')
    else:
        out(f'{PREFIX}not solved yet: {len(missing)} requirement(s) of the goal do not hold')
        for line in missing[:10]:
            out(f'    {line}')
        if broken:
            out(f'{PREFIX}and {len(broken)} other cell(s) broke, which must keep the '
                'outcome they had when the lab opened:')
    report_broken(broken, guard, out)
    return holds and not broken, changed, missing, [broke_line(c) for c in broken]


def report_broken(broken, guard, out=print):
    """The broken cells, each with why in the sheet's words (said once per reason)."""
    said = set()
    for cell in broken[:10]:
        out(f'    {broke_line(cell)}')
        words = guard_words(guard, cell)
        if words not in said:
            said.add(words)
            out(f'      why: {words}')
    if len(broken) > 10:
        out(f'    ... and {len(broken) - 10} more (`matrix` shows them)')
    if broken:
        out(f'    `explain {cell_name(broken[0])}` says what the network does there now; '
            'the sheet\'s "Wrong fixes" section says what to undo')


def record_check(info, where, after, reqs, outcome, out=print):
    """Count the check in info (the lab file's dict, updated in place), say how many
    hints were used, and append the student's record when the lab has a student."""
    solved, changed, missing, broken = outcome
    info['checks'] = info.get('checks', 0) + 1
    used, total = info.get('hints_used', 0), info.get('hints_total', 0)
    if total:
        out(f'{PREFIX}hints used: {used} of {total}')
    if info.get('student'):
        rec = records.record(info['scenario'], info['student'], info.get('variant'),
                             info['checks'], where, after, changed, solved, reqs,
                             missing, used, total, info.get('commands', []),
                             broken=broken, goal_held=bool(reqs) and not missing)
        path = records.append_record(info['results'], rec)
        shown = os.path.relpath(path)
        out(f'{PREFIX}recorded for {info["student"]}: '
            f'{path if shown.startswith("..") else shown}')
    info['commands'] = []

