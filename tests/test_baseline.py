"""Golden baselines on real runs: record then check passes; a changed network fails it.

Every run here is a real Mininet network (wrong-host, or a small variant of it from a
scenario file), so run these tests under the Mininet lock:

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_baseline.py

The "changed network" is the same scenario with h1's address deleted after start
(BINDLAB_TEST_FAULT=1 in the environment of the run): --check must exit 1 and name
the cell that changed, `wh-variant bind h1 tcp 10.0.0.1: OK -> EADDRNOTAVAIL`.
"""

import json
import os
import random
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from harness.ci import baseline  # noqa: E402

PYTHON = '/usr/bin/python3'
GUARD_S = 300        # a hung run fails the test; never an assertion about speed

VARIANT = '''
import os
from harness.scenario import Scenario, addr_del, bind, connect, expect_bind, explicit
from topologies.wrong_host import WrongHostTopo

_OWNERS = {'10.0.0.1': 'h1', '10.0.0.2': 'h2', '10.0.0.3': 'h3'}
_FAULTS = ()
if os.environ.get('BINDLAB_TEST_FAULT') == '1':
    _FAULTS = (addr_del('h1', '10.0.0.1/24', 'h1-eth0', why='the test changes the network'),)
if os.environ.get('BINDLAB_TEST_FAULT') == 'broken':
    from harness.scenario import run
    _FAULTS = (run('h1', ['false'], why='a fault that does not apply'),)

scenarios = [Scenario(
    name='wh-variant', title='wrong-host, small, optionally changed',
    topo=WrongHostTopo, faults=_FAULTS, ready=(('h2', '10.0.0.3'),),
    cases=tuple(bind(h, a, 6677, expect_bind(h, a, _OWNERS))
                for h in ('h1', 'h2', 'h3') for a in ('10.0.0.1', '0.0.0.0')) +
          (connect('h2', '10.0.0.3', 7009, explicit('ECONNREFUSED', 'nothing listens')),),
)]
'''


def harness(*args, fault=None):
    """`python3 -m harness ARGS` in the repository; returns the CompletedProcess."""
    env = dict(os.environ, NETPROBE=os.path.join(REPO, 'build', 'netprobe'))
    env.pop('BINDLAB_TEST_FAULT', None)
    if fault:
        env['BINDLAB_TEST_FAULT'] = fault
    return subprocess.run([PYTHON, '-m', 'harness'] + list(args), cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=GUARD_S)


def run_folder(out):
    return os.path.realpath(os.path.join(out, 'latest'))


@pytest.fixture(scope='module')
def variant(tmp_path_factory):
    """The variant scenario file and one real run of it, unchanged."""
    root = tmp_path_factory.mktemp('baseline')
    path = root / 'variant.py'
    path.write_text(VARIANT)
    res = harness('run', '--scenario-file', str(path), '--out', str(root / 'clean'))
    assert res.returncode == 0, res.stdout + res.stderr
    return {'file': str(path), 'root': root, 'run': run_folder(root / 'clean')}


@pytest.fixture(scope='module')
def faulted(variant):
    """One real run of the variant with h1's address deleted after start."""
    out = variant['root'] / 'faulted'
    res = harness('run', '--scenario-file', variant['file'], '--out', str(out), fault='1')
    assert res.returncode == 1, res.stdout + res.stderr   # the rules see the change too
    return run_folder(out)


def test_expectation_file_is_stable_and_one_cell_a_line(variant, tmp_path):
    """Recording the same run twice, or its cells in another order, gives the same bytes."""
    _folder, _summary, matrices = baseline.read_run(variant['run'])
    (m,) = matrices
    baseline.record(matrices, str(tmp_path / 'a'))
    shuffled = list(m['cells'])
    random.Random(5).shuffle(shuffled)
    text_a = (tmp_path / 'a' / 'wh-variant.json').read_text()
    assert text_a == baseline.baseline_text('wh-variant', shuffled)
    lines = text_a.splitlines()
    cell_lines = [ln for ln in lines if ln.strip().startswith('{"kind"')]
    assert len(cell_lines) == len(m['cells']) == 7
    assert json.loads(text_a)['cells'][0] == {'kind': 'bind', 'host': 'h1',
                                              'column': 'tcp 0.0.0.0', 'actual': 'OK',
                                              'method': 'netprobe'}
    h2 = [json.loads(ln.rstrip(',')) for ln in cell_lines if '"h2"' in ln and '10.0.0.1' in ln]
    assert h2 == [{'kind': 'bind', 'host': 'h2', 'column': 'tcp 10.0.0.1',
                   'actual': 'EADDRNOTAVAIL', 'method': 'netprobe'}]


def test_record_then_check_passes_and_a_changed_network_is_named(variant, faulted, tmp_path):
    """The pure functions over real run folders: same run passes, changed run names h1."""
    _f, _s, clean = baseline.read_run(variant['run'])
    _f, _s, changed = baseline.read_run(faulted)
    baseline.record(clean, str(tmp_path))
    assert baseline.check(clean, str(tmp_path)) == []
    assert baseline.check(changed, str(tmp_path)) == [
        'wh-variant bind h1 tcp 10.0.0.1: OK -> EADDRNOTAVAIL']


def test_cli_record_check_and_diff(variant, faulted, tmp_path):
    """`record`, `verify` and `diff` as a CI job calls them, with their exit statuses."""
    base = str(tmp_path / 'expect')
    res = harness('record', variant['run'], '--baseline', base)
    assert res.returncode == 0, res.stderr
    assert os.path.isfile(os.path.join(base, 'wh-variant.json'))
    res = harness('verify', variant['run'], '--baseline', base)
    assert res.returncode == 0, res.stdout + res.stderr
    res = harness('verify', faulted, '--baseline', base)
    assert res.returncode == 1, res.stdout + res.stderr
    assert 'wh-variant bind h1 tcp 10.0.0.1: OK -> EADDRNOTAVAIL' in res.stdout
    res = harness('diff', variant['run'], faulted)
    assert res.returncode == 1
    assert res.stdout.splitlines()[0] == \
        'wh-variant bind h1 tcp 10.0.0.1: OK -> EADDRNOTAVAIL'
    assert harness('diff', variant['run'], variant['run']).returncode == 0
    res = harness('diff', variant['run'], str(tmp_path / 'nothing-here'))
    assert res.returncode == 2 and 'not a run folder' in res.stderr
    res = harness('verify', variant['run'], '--baseline', str(tmp_path / 'empty'))
    assert res.returncode == 2 and 'no baseline for scenario wh-variant' in res.stderr


def test_run_record_then_run_check(variant, tmp_path):
    """`run --record` writes the file; a second real run with `--check` exits 0, and a
    run of the changed network with `--check` exits 1 naming the cell."""
    base = str(tmp_path / 'expect')
    common = ['run', '--scenario-file', variant['file'], '--baseline', base]
    res = harness(*common, '--record', '--out', str(tmp_path / 'r1'))
    assert res.returncode == 0, res.stdout + res.stderr
    assert 'recorded ' in res.stdout
    res = harness(*common, '--check', '--out', str(tmp_path / 'r2'))
    assert res.returncode == 0, res.stdout + res.stderr
    res = harness(*common, '--check', '--out', str(tmp_path / 'r3'), fault='1')
    assert res.returncode == 1, res.stdout + res.stderr
    assert 'wh-variant bind h1 tcp 10.0.0.1: OK -> EADDRNOTAVAIL' in res.stdout


def test_unmeasured_cells_are_never_recorded(variant, tmp_path):
    """A run whose fault did not apply has only error cells: --record refuses (exit 2)."""
    base = tmp_path / 'expect'
    res = harness('run', '--scenario-file', variant['file'], '--record', '--baseline',
                  str(base), '--out', str(tmp_path / 'r'), fault='broken')
    assert res.returncode == 2, res.stdout + res.stderr
    assert 'not recorded: 7 cells could not be measured' in res.stderr
    assert not base.exists() or not os.listdir(base)


def test_committed_wrong_host_baseline_holds(tmp_path):
    """expectations/wrong-host.json (committed) matches a fresh run: `--check` exits 0.

    When wrong-host's cases change on purpose, re-record it:
    `python3 -m harness run wrong-host --record` and review the diff."""
    res = harness('run', 'wrong-host', '--check', '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert 'no cell changed against' in res.stdout


def test_a_broken_expectation_file_is_bad_input_not_a_pass(variant, tmp_path):
    """A hand-edited file that lost a field, or lists a cell twice, is refused by name."""
    _f, _s, clean = baseline.read_run(variant['run'])
    baseline.record(clean, str(tmp_path))
    path = tmp_path / 'wh-variant.json'
    good = path.read_text()
    path.write_text(good.replace('"actual": "EADDRNOTAVAIL", ', '', 1))
    with pytest.raises(baseline.BadInput,
                       match=r'bad cell .* \(needs kind, host, column, actual\)'):
        baseline.check(clean, str(tmp_path))
    lines = good.splitlines()
    first_cell = next(i for i, ln in enumerate(lines) if ln.strip().startswith('{"kind"'))
    lines.insert(first_cell, lines[first_cell])
    path.write_text('\n'.join(lines))
    with pytest.raises(baseline.BadInput, match='listed twice'):
        baseline.check(clean, str(tmp_path))
