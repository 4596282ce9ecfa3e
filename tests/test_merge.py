"""Shard and merge: `--shard 1/2` + `--shard 2/2` merged equal the unsharded run.

Three real Mininet runs of the same selection (wrong-host, vrf-bind and lost-address):
unsharded, shard 1/2, shard 2/2.  Where the kernel lacks the vrf module, vrf-bind is
skipped, a result with its reason: shard 2/2 holds nothing else, still writes its run
folder, and the skip survives the merge in its place.  The merged folder must have the same summary, junit.xml,
summary.md, matrices and CSV files as the unsharded run, apart from what differs
between any two runs (run id, times, ephemeral source ports).  Bad shard sets are
refused with exit 2 and a message naming the problem.  Run under the Mininet lock:

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_merge.py
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from harness.ci import merge  # noqa: E402
from harness.ci.baseline import BadInput  # noqa: E402

PYTHON = '/usr/bin/python3'
GUARD_S = 300
SELECTION = ('wrong-host', 'vrf-bind', 'lost-address')
# What differs between any two runs of the same network, and so is not compared.
RUN_FIELDS = ('run_id', 'started', 'finished', 'argv', 'shard', 'merged_from')
CELL_NOISE = ('elapsed_us', 'local')


def harness(*args):
    env = dict(os.environ, NETPROBE=os.path.join(REPO, 'build', 'netprobe'))
    return subprocess.run([PYTHON, '-m', 'harness'] + list(args), cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=GUARD_S)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """{'full': run folder, '1/2': ..., '2/2': ...}, each a real run."""
    root = tmp_path_factory.mktemp('merge')
    out = {}
    for shard in ('1/1', '1/2', '2/2'):
        dest = root / shard.replace('/', 'of')
        res = harness('run', *SELECTION, '--shard', shard, '--out', str(dest))
        assert res.returncode == 0, res.stdout + res.stderr
        out['full' if shard == '1/1' else shard] = os.path.realpath(dest / 'latest')
    out['root'] = root
    return out


def load(folder, name):
    with open(os.path.join(folder, name), encoding='utf-8') as f:
        return f.read()


def summary_view(folder):
    data = json.loads(load(folder, 'summary.json'))
    for key in RUN_FIELDS:
        data.pop(key, None)
    for s in data['scenarios']:
        s.pop('timings')
    return data


def matrix_view(folder, scenario):
    data = json.loads(load(folder, os.path.join(scenario, 'matrix.json')))
    data.pop('timings')
    for cell in data['cells']:
        for key in CELL_NOISE:
            cell.pop(key, None)
    for server in data['servers']:
        if server.get('record'):
            for key in ('elapsed_us', 'pid'):
                server['record'].pop(key, None)
    return data


def csv_view(folder, scenario, kind):
    rows = list(csv.DictReader(io.StringIO(load(folder, os.path.join(scenario,
                                                                     f'{kind}.csv')))))
    for row in rows:
        row.pop('local', None)
    return rows


def junit_view(folder):
    root = ET.fromstring(load(folder, 'junit.xml'))
    out = []
    for suite in root:
        cases = [(c.get('classname'), c.get('name'),
                  tuple((x.tag, x.get('message')) for x in c)) for c in suite]
        out.append((suite.get('name'), suite.get('tests'), suite.get('failures'),
                    suite.get('errors'), suite.get('skipped'), cases))
    return out


def md_view(folder):
    return load(folder, 'summary.md').split('\n', 1)[1]     # line 1 holds the run id


def assert_same_run(merged, full):
    assert summary_view(merged) == summary_view(full)
    assert junit_view(merged) == junit_view(full)
    assert md_view(merged) == md_view(full)
    for scenario in SELECTION:
        assert matrix_view(merged, scenario) == matrix_view(full, scenario)
        for kind in ('bind', 'connect'):
            assert csv_view(merged, scenario, kind) == csv_view(full, scenario, kind)


def test_shards_hold_disjoint_halves(runs):
    """The shards really are partial runs (else the merge test proves nothing)."""
    names = {k: [s['name'] for s in json.loads(load(runs[k], 'summary.json'))['scenarios']]
             for k in ('1/2', '2/2', 'full')}
    assert names == {'1/2': ['wrong-host', 'lost-address'], '2/2': ['vrf-bind'],
                     'full': list(SELECTION)}


def test_merged_shards_equal_the_unsharded_run(runs, tmp_path):
    """Given in either order, the shards merge into the unsharded run's files."""
    run_dir, summary = merge.merge([runs['2/2'], runs['1/2']], str(tmp_path))
    assert os.path.realpath(os.path.join(tmp_path, 'latest')) == os.path.realpath(run_dir)
    assert summary['merged_from'] == [os.path.basename(runs['1/2']),
                                      os.path.basename(runs['2/2'])]
    assert_same_run(run_dir, runs['full'])


def test_a_skipped_scenario_survives_the_merge(runs, tmp_path):
    """vrf-bind, skipped where the kernel lacks vrf (shard 2/2 skipped all it had),
    is in the merged summary.json, junit.xml and its matrix.json, in its place and
    with its reason, as in the unsharded run."""
    from test_harness import kernel_has_module
    if kernel_has_module('vrf'):
        pytest.skip('this kernel has the vrf module: vrf-bind runs here, nothing is skipped')
    run_dir, summary = merge.merge([runs['1/2'], runs['2/2']], str(tmp_path))
    assert [(s['name'], bool(s['skipped'])) for s in summary['scenarios']] == \
        [('wrong-host', False), ('vrf-bind', True), ('lost-address', False)]
    vrf = summary['scenarios'][1]
    assert 'needs the kernel module vrf' in vrf['skipped'] and vrf['cells'] == 0
    assert summary['skipped'] == vrf['cases'] > 0
    suites = {s[0]: s for s in junit_view(run_dir)}
    assert suites['vrf-bind'][1] == suites['vrf-bind'][4] == str(vrf['cases'])
    assert {x for *_names, tags in suites['vrf-bind'][5] for x in tags} == \
        {('skipped', f'vrf-bind skipped: {vrf["skipped"]}')}
    assert matrix_view(run_dir, 'vrf-bind')['skipped'] == vrf['skipped']


def test_cli_merge_and_its_refusals(runs, tmp_path):
    """`harness merge` exits 0 with the merged run; 2 with a message when refused."""
    res = harness('merge', runs['1/2'], runs['2/2'], '--out', str(tmp_path / 'm'))
    assert res.returncode == 0, res.stdout + res.stderr
    assert_same_run(os.path.realpath(tmp_path / 'm' / 'latest'), runs['full'])
    res = harness('merge', runs['1/2'], '--out', str(tmp_path / 'bad'))
    assert res.returncode == 2
    assert 'merge refused: missing shards: 2/2' in res.stderr
    assert not (tmp_path / 'bad').exists()


@pytest.mark.parametrize('pick, message', [
    (('1/2', '1/2'), 'overlapping shards: shard 1/2 given twice'),
    (('1/2',), 'missing shards: 2/2'),
    (('full', '2/2'), 'mismatched shards'),
])
def test_bad_shard_sets_are_refused(runs, tmp_path, pick, message):
    with pytest.raises(BadInput, match=message):
        merge.merge([runs[p] for p in pick], str(tmp_path))
    assert not os.path.exists(tmp_path / 'latest')


def test_same_scenario_in_two_shards_is_refused(runs, tmp_path):
    """A shard folder relabelled by hand (2/2 holding wrong-host again) overlaps 1/2."""
    fake = tmp_path / 'fake'
    shutil.copytree(runs['1/2'], fake)
    data = json.loads((fake / 'summary.json').read_text())
    data['shard'] = '2/2'
    (fake / 'summary.json').write_text(json.dumps(data))
    with pytest.raises(BadInput, match='overlapping shards: scenario wrong-host is in both'):
        merge.merge([runs['1/2'], str(fake)], str(tmp_path / 'out'))


def test_shards_of_another_command_are_refused(runs, tmp_path):
    """Shards from different selections (another argv) must not be merged."""
    fake = tmp_path / 'other'
    shutil.copytree(runs['2/2'], fake)
    data = json.loads((fake / 'summary.json').read_text())
    data['argv'] = ['run', 'lost-address', 'scale', '--shard', '2/2']
    (fake / 'summary.json').write_text(json.dumps(data))
    with pytest.raises(BadInput, match='mismatched shards: .* ran `run wrong-host vrf-bind '
                                       'lost-address` but .* ran `run lost-address scale`'):
        merge.merge([runs['1/2'], str(fake)], str(tmp_path / 'out'))
