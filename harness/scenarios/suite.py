"""The suite: scenario files loaded and validated, selected by name, cut into shards.

Scenario files are the Python modules in topologies/ (not starting with `_`) plus
those given with --scenario-file; each exposes `scenarios = [...]` (harness/scenario.py).
A file that fails to import, or a scenario that fails validate(), is a UsageError
(exit 2) naming the file.  Selection: the names asked for, else the scenarios of the
extra files, else the default suite; `--shard K/N` keeps positions K-1, K-1+N, ...
of the selection, so N machines together run the selection exactly once.
"""

import glob
import importlib.util
import os
from dataclasses import replace

from .. import REPO
from ..errors import BadInput, UsageError
from .checks import validate
from .model import ScenarioError

MAX_SHARDS = 1000


def parse_shard(text, where='--shard'):
    """'K/N' -> (K, N) with 1 <= K <= N <= MAX_SHARDS; BadInput naming where."""
    try:
        k, n = (int(x) for x in str(text).split('/'))
    except ValueError:
        raise BadInput(f'{where} {text!r}: expected K/N, e.g. 2/4') from None
    if not 1 <= k <= n:
        raise BadInput(f'{where} {text!r}: need 1 <= K <= N')
    if n > MAX_SHARDS:
        raise BadInput(f'{where} {text!r}: at most {MAX_SHARDS} shards')
    return k, n


def load_file(path):
    """The scenarios of one scenario file; raises UsageError naming the file."""
    name = 'bindlab_scenarios_' + os.path.splitext(os.path.basename(path))[0]
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except FileNotFoundError:
        raise UsageError(f'scenario file {path}: not found') from None
    except Exception as exc:
        raise UsageError(f'scenario file {path}: {type(exc).__name__}: {exc}') from None
    found = getattr(module, 'scenarios', [])
    if not isinstance(found, (list, tuple)):
        raise UsageError(f'scenario file {path}: `scenarios` is not a list')
    out = []
    for sc in found:
        try:
            validate(sc, sc.topo())
        except ScenarioError as exc:
            raise UsageError(f'scenario file {path}: {exc}') from None
        except Exception as exc:
            raise UsageError(f'scenario file {path}: scenario '
                             f'{getattr(sc, "name", sc)!r}: {type(exc).__name__}: '
                             f'{exc}') from None
        out.append(replace(sc, source=os.path.relpath(path, REPO)))
    return out


def load_all(extra_files):
    """(repository scenarios sorted by order, scenarios from extra files)."""
    repo = []
    for path in sorted(glob.glob(os.path.join(REPO, 'topologies', '*.py'))):
        if not os.path.basename(path).startswith('_'):
            repo += load_file(path)
    extra = [sc for path in extra_files for sc in load_file(os.path.abspath(path))]
    names = [sc.name for sc in repo + extra]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f'scenario names used twice: {", ".join(dup)}')
    return sorted(repo, key=lambda s: (s.order, s.name)), extra


def select(repo, extra, names, shard=(1, 1)):
    """The scenarios to run, in order, for the names asked and the shard."""
    known = {sc.name: sc for sc in repo + extra}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f'unknown scenario {", ".join(unknown)}; known: '
                         f'{", ".join(known)} (python3 -m harness list)')
    if names:
        chosen = [known[n] for n in dict.fromkeys(names)]
    elif extra:
        chosen = extra
    else:
        chosen = [sc for sc in repo if sc.default]
    k, n = shard
    return [sc for i, sc in enumerate(chosen) if i % n == k - 1]


def find(name, scenario_files=()):
    """The one scenario called name, from topologies/ or the given files."""
    repo, extra = load_all(scenario_files)
    return select(repo, extra, [name])[0]


def fitting(chosen, switch, log, missing_modules, none_ok=False):
    """(the scenarios that fit the switch kind and this kernel, {name: why} of those
    that do not: skipped, a result of the run); missing_modules(names): those this
    kernel lacks, machine.missing_modules.  Says which are skipped, why; UsageError
    when none fits, unless none_ok (a shard: its skips are its results, which the
    merge needs)."""
    keep, skipped = [], {}
    for sc in chosen:
        missing = missing_modules(sc.modules)
        if switch not in sc.switches:
            skipped[sc.name] = (f'does not fit switch {switch} '
                                f'(fits {", ".join(sc.switches)})')
        elif missing:
            skipped[sc.name] = (f'needs the kernel module {", ".join(missing)}, which this '
                                'kernel lacks (sudo make vm-test runs it on Debian\'s kernel)')
        else:
            keep.append(sc)
            continue
        log(f'{sc.name}: skipped, {skipped[sc.name]}')
    if not keep and not none_ok:
        raise UsageError(f'no selected scenario can run here (switch {switch}, this '
                         'kernel\'s modules): see the notices above')
    return keep, skipped
