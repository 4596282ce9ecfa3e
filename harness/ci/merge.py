"""Merge the run folders of shards (`run --shard K/N`) into one run folder.

    python3 -m harness merge SHARD_DIR ... --out DIR

Each SHARD_DIR is a run folder (or a results folder whose `latest` points at one).
The merged folder, DIR/<new run id>, holds the same summary, junit.xml, summary.md,
report.html and per-scenario files as one unsharded run of the same selection would:
the scenarios are put back in the order the unsharded run would have used (shard K of
N ran the scenarios at positions K-1, K-1+N, ... of the selection), and every file is
written by results.write_run, the harness's one writer, from the shards' matrix.json
and the program logs its cells name (`log`); nothing else of a shard is copied.
A scenario a shard skipped (its matrix.json says why) stays skipped in the merge.
Shards come from CI artifacts: every file is read through reader.read_run (fields
checked), a symlink anywhere in a shard's scenario folder is refused, and a log path
must be `programs/NAME` inside its scenario folder.  Nothing is written until every
shard has been read; a merge that fails while writing leaves no run folder.

Refused with exit 2 and a message naming the folders: a folder that is not a run, a
run that was not sharded the same way (different N, switch, kernel, Mininet or OVS
version, or command line apart from --shard and --out), the same shard twice, a
missing shard, and a scenario present in two shards.
"""

import os
import re
import sys

from .. import PREFIX
from ..errors import BadInput
from ..files import make_folders, read_bytes
from ..judge import all_cells, ScenarioResult
from ..report import new_run_id, read_run, summary_data, write_run
from ..scenarios import parse_shard

EXIT_OK, EXIT_BAD = 0, 2
RESULT_KEYS = ('run_id', 'scenarios', 'counts', 'passed', 'failed', 'skipped')
SAME_ENV = ('kernel', 'mininet', 'ovs', 'switch')


def cmd_merge(args):
    """`harness merge DIR ... --out DIR`: 0 merged, 2 refused (message on stderr)."""
    try:
        run_dir, summary = merge(args.shards, args.out)
    except BadInput as exc:
        print(f'{PREFIX}merge refused: {exc}', file=sys.stderr, flush=True)
        return EXIT_BAD
    print(f'{PREFIX}merged {len(args.shards)} shards into {run_dir}', flush=True)
    print(f'{PREFIX}{summary["passed"]} passed, {summary["failed"]} failed', flush=True)
    return EXIT_OK


# -- reading and checking the shards -------------------------------------------------------

def unsharded_argv(argv):
    """A run's command line without --shard and --out (and their values)."""
    out, skip = [], False
    for arg in argv or []:
        if skip:
            skip = False
            continue
        if arg in ('--shard', '--out'):
            skip = True
            continue
        if arg.startswith(('--shard=', '--out=')):
            continue
        out.append(arg)
    return out


def read_shards(paths):
    """[(k, folder, summary, matrices)] sorted by k, and N; BadInput when they do not fit."""
    shards, n_seen = {}, None
    for path in paths:
        folder, summary, matrices = read_run(path)
        check_run_fields(folder, summary)
        k, n = parse_shard(summary.get('shard', '1/1'), f'{folder}/summary.json: shard')
        if n_seen is not None and n != n_seen:
            raise BadInput(f'mismatched shards: {folder} is shard {k}/{n}, another is of '
                           f'{n_seen}')
        n_seen = n
        if k in shards:
            raise BadInput(f'overlapping shards: shard {k}/{n} given twice '
                           f'({shards[k][0]} and {folder})')
        shards[k] = (folder, summary, matrices)
    missing = [f'{k}/{n_seen}' for k in range(1, n_seen + 1) if k not in shards]
    if missing:
        raise BadInput(f'missing shards: {", ".join(missing)} (the merge would not equal '
                       'an unsharded run)')
    ordered = [(k,) + shards[k] for k in sorted(shards)]
    check_alike(ordered)
    check_disjoint(ordered)
    return ordered, n_seen


def check_run_fields(folder, summary):
    """BadInput unless summary has what every run writes and the merged summary is
    made of: switch, and environment with kernel."""
    for key in ('switch', 'environment'):
        if key not in summary:
            raise BadInput(f'{folder}/summary.json: no field "{key}"')
    if 'kernel' not in summary['environment']:
        raise BadInput(f'{folder}/summary.json: no field "environment.kernel"')


def check_alike(shards):
    """BadInput unless every shard ran the same command on the same kind of machine."""
    _k, folder0, first, _m = shards[0]
    env0 = dict(first.get('environment') or {}, switch=first.get('switch'))
    argv0 = unsharded_argv(first.get('argv'))
    for _k, folder, summary, _m in shards[1:]:
        env = dict(summary.get('environment') or {}, switch=summary.get('switch'))
        for key in SAME_ENV:
            if env.get(key) != env0.get(key):
                raise BadInput(f'mismatched shards: {key} is {env0.get(key)!r} in '
                               f'{folder0} but {env.get(key)!r} in {folder}')
        argv = unsharded_argv(summary.get('argv'))
        if argv != argv0:
            raise BadInput(f'mismatched shards: {folder0} ran `{" ".join(argv0)}` but '
                           f'{folder} ran `{" ".join(argv)}`')


def check_disjoint(shards):
    """BadInput if a scenario appears in two shards."""
    seen = {}
    for _k, folder, _summary, matrices in shards:
        for m in matrices:
            name = m['scenario']
            if name in seen:
                raise BadInput(f'overlapping shards: scenario {name} is in both '
                               f'{seen[name]} and {folder}')
            seen[name] = folder


def unsharded_order(shards, n):
    """The matrices in the order one unsharded run uses (round robin over the shards).

    Selection position i went to shard (i mod N) + 1, so taking one scenario from each
    shard in turn rebuilds the selection: a scenario a shard skipped (the switch, a
    kernel module) is a result in its place, so the turns stay in step, and the
    merged run says it was skipped, and why, as the shard did.
    """
    queues = [list(m) for _k, _f, _s, m in shards]
    out = []
    while any(queues):
        for q in queues[:n]:
            if q:
                out.append(q.pop(0))
    return out


# -- writing ---------------------------------------------------------------------------------

def scenario_result(matrix, programs):
    """The runner's ScenarioResult of one scenario, rebuilt from its matrix.json (and
    mutations.json), with its programs' logs (program_logs)."""
    env = matrix.get('environment') or {}
    return ScenarioResult(
        scenario=matrix['scenario'], title=matrix.get('title', ''),
        switch=env.get('switch'), builder=env.get('builder'), cells=matrix['cells'],
        topology=matrix.get('topology'), steps=matrix.get('steps', []),
        servers=matrix.get('servers', []), problem=matrix.get('problem'),
        timings=matrix.get('timings') or {}, source=matrix.get('source', ''),
        programs=programs, mutations=matrix.get('mutations'),
        skipped=matrix.get('skipped'), cases=matrix.get('cases'),
        timeline=matrix.get('timeline'))


def merged_meta(shards):
    """summary.json's run-level fields for the merged run."""
    first = shards[0][2]
    meta = {k: v for k, v in first.items() if k not in RESULT_KEYS}
    meta['argv'] = unsharded_argv(first.get('argv'))
    meta['shard'] = '1/1'
    meta['started'] = min(s.get('started') or '' for _k, _f, s, _m in shards)
    meta['finished'] = max(s.get('finished') or '' for _k, _f, s, _m in shards)
    meta['merged_from'] = [s.get('run_id') for _k, _f, s, _m in shards]
    return meta


_LOG = re.compile(r'programs/[A-Za-z0-9._-]{1,200}')
LOG_EXTS = ('.out', '.err', '.trace.jsonl')
LOG_CAP = 1024 * 1024


def check_no_symlinks(folder):
    """BadInput if folder holds a symlink anywhere (a shard must not point outside)."""
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            if os.path.islink(os.path.join(root, name)):
                raise BadInput(f'{os.path.join(root, name)}: a symlink in a shard; '
                               'refusing to merge it')


def program_logs(folder, matrix):
    """The program logs a shard's cells name, read back: [{'scenario','log','files'}]."""
    out = []
    sdir = os.path.join(folder, matrix['scenario'])
    for cell in all_cells(matrix['cells'], matrix.get('mutations')):
        log = cell.log
        if log is None:
            continue
        if not _LOG.fullmatch(log) or '..' in log:
            raise BadInput(f'{sdir}/matrix.json: cell log {log!r} is not programs/NAME')
        files = {}
        for ext in LOG_EXTS:
            data = read_bytes(os.path.join(sdir, log + ext), 'program log', cap=LOG_CAP,
                              missing_ok=True, truncate=True)
            if data is not None:
                files[ext] = data.decode(errors='replace')
        out.append({'scenario': matrix['scenario'], 'log': log, 'files': files})
    return out


def merge(paths, out_dir):
    """Merge shard folders into out_dir/<run-id>; returns (run folder, summary)."""
    shards, n = read_shards(paths)
    logs = {}
    for _k, folder, _s, mats in shards:
        for m in mats:
            check_no_symlinks(os.path.join(folder, m['scenario']))
            logs[m['scenario']] = program_logs(folder, m)
    matrices = unsharded_order(shards, n)
    run_id = new_run_id()
    meta = merged_meta(shards)
    make_folders(out_dir)
    scenario_results = [scenario_result(m, logs[m['scenario']]) for m in matrices]
    run_dir = write_run(out_dir, run_id, meta, scenario_results)
    summary = summary_data(run_id, meta, scenario_results)
    return run_dir, summary
