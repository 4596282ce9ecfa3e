"""The bindlab builder (--builder fast) builds the network stock Mininet builds.

For `--topo single,3`, default scenarios of different shapes (one switch; a router
between two subnets with default routes; a host on two bridges with an outside
network) and `scale` at 50 hosts (leaf bridges under a root bridge): every host's
links, addresses, routes and neighbours and the root namespace's veth ends and
bridges, read with `ip -j` (tests/netdump.py, normalised there), are equal; and
wrong-host, scale-50 and single,3 run by `harness run --builder fast` and `--builder mininet` give the
same cells.  A run SIGKILLed while its network is being built in batches leaves
nothing behind after `clean-net`.

Needs root and the Mininet lock: run under `flock /tmp/bindlab-mininet.lock`.
About 90 s.
"""

import json
import os
import signal
import subprocess

import pytest

import harness_util as hu

# single,3 stands for the one-switch scenarios (wrong-host's network is the same three
# hosts on s1); the others add routers, IPv6, Docker's bridge, and 50 hosts.
NETWORKS = [('--topo', 'single,3'), ('--scenario', 'routed-subnets'),
            ('--scenario', 'docker-bridge'), ('--scale', '50')]
# The cells of both builders' runs: one switch and 50 hosts under a root bridge (the
# router and Docker shapes are compared link by link above: the same network).
SCENARIOS = ['wrong-host', 'scale-50']
SCALE_50 = '''
import sys
sys.path.insert(0, %r)
from topologies.scale import scale_scenario
scenarios = [scale_scenario(50, name='scale-50', default=False)]
''' % hu.REPO
CELL_FIELDS = ('id', 'kind', 'host', 'addr', 'port', 'proto', 'options', 'expected',
               'actual', 'peer', 'verdict', 'rule')

# Every test needs root, starts on a clean machine and must leave it clean.
root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)


def netdump(builder, what, value):
    """The normalised `ip -j` picture of one network built by builder."""
    res = subprocess.run([hu.PYTHON, os.path.join(hu.REPO, 'tests', 'netdump.py'),
                          '--builder', builder, what, value], cwd=hu.REPO, env=hu.env(),
                         capture_output=True, text=True, timeout=hu.RUN_GUARD_S)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.mark.parametrize('what,value', NETWORKS, ids=[v for _w, v in NETWORKS])
def test_the_fast_builder_builds_what_mininet_builds(what, value):
    fast, stock = netdump('fast', what, value), netdump('mininet', what, value)
    assert (fast['builder'], stock['builder']) == ('fast', 'mininet')
    assert sorted(fast['dump']) == sorted(stock['dump'])
    for node in sorted(stock['dump']):
        for part in sorted(stock['dump'][node]) if node != 'root' else ['root']:
            got = fast['dump'][node] if node == 'root' else fast['dump'][node][part]
            want = stock['dump'][node] if node == 'root' else stock['dump'][node][part]
            assert got == want, f'{node} {part} differ between the builders'


def cells_of(run_dir, name):
    with open(os.path.join(run_dir, name, 'matrix.json')) as f:
        matrix = json.load(f)
    assert matrix['environment']['builder'] in ('fast', 'mininet')
    return matrix['environment']['builder'], [
        {k: c.get(k) for k in CELL_FIELDS} for c in matrix['cells']]


def run_both(tmp_path, *args):
    """{builder: run folder} of the same `harness run ARGS` by both builders."""
    out = {}
    for builder in ('fast', 'mininet'):
        res = hu.harness('run', '--switch', 'lxbr', '--builder', builder,
                         '--out', str(tmp_path / builder), *args)
        assert res.returncode in (0, 1), res.stdout + res.stderr
        out[builder] = os.path.realpath(str(tmp_path / builder / 'latest'))
    return out


def test_both_builders_give_the_same_cells(tmp_path):
    scale = tmp_path / 'scale50.py'
    scale.write_text(SCALE_50)
    runs = run_both(tmp_path, '--scenario-file', str(scale), *SCENARIOS)
    for name in SCENARIOS:
        fast, stock = cells_of(runs['fast'], name), cells_of(runs['mininet'], name)
        assert (fast[0], stock[0]) == ('fast', 'mininet'), name
        assert fast[1] and fast[1] == stock[1], f'{name}: the cells differ'
    runs = run_both(tmp_path / 'topo', '--topo', 'single,3')
    fast, stock = (cells_of(runs[b], 'single-3') for b in ('fast', 'mininet'))
    assert fast[1] and fast[1] == stock[1], 'single,3: the cells differ'


def building(st):
    """True once the run's shells are recorded and before any probe started: the
    batched build (links, host batches, bridges) follows the shells' record."""
    return bool(st['netns']) and not hu.probing(st)


def test_sigkill_during_a_batched_build_leaves_nothing_after_clean_net(tmp_path):
    scale = tmp_path / 'scale50.py'
    scale.write_text(SCALE_50)
    proc = hu.start('run', '--switch', 'lxbr', '--builder', 'fast', '--scenario-file',
                    str(scale), '--out', str(tmp_path / 'out'))
    st = hu.wait_for_state(proc, building)
    hu.interrupt(proc, signal.SIGKILL)
    res = hu.harness('clean-net')
    assert res.returncode == 0, res.stdout + res.stderr
    created = set(st['links']) | set(st['bridges'])
    assert created and not created & hu.links(), 'interfaces survived clean-net'
    assert not hu.processes_in(st['netns']), 'processes survived in the namespaces'
    assert hu.read_state() is None


# -- someone else's interface under a name the builder is about to use -----------------

@pytest.fixture
def run_state(tmp_path, monkeypatch):
    """A State of this test's own (its state file in tmp_path), for an in-process build."""
    from harness.ledger import State, workdirs
    monkeypatch.setattr(workdirs, 'RUN_DIR', str(tmp_path))
    workdirs._work_root.cache_clear()
    yield State('test-foreign')
    workdirs._work_root.cache_clear()


def link_view(name):
    """(alias, up, master or enslaved ports) of root-namespace interface name."""
    base = f'/sys/class/net/{name}'
    with open(f'{base}/ifalias') as f:
        alias = f.read().strip()
    with open(f'{base}/flags') as f:
        up = bool(int(f.read(), 16) & 1)
    ports = os.listdir(f'{base}/brif') if os.path.isdir(f'{base}/brif') else []
    return alias, up, os.path.exists(f'{base}/master') or bool(ports)


@pytest.mark.parametrize('name', ['s1-eth1', 's1'])
def test_an_interface_made_by_someone_else_after_the_names_check_is_left_alone(
        name, run_state):
    """Between the names check and the root batch someone else creates a veth s1-eth1
    (or a bridge s1).  The fast builder fails with EnvError naming it, never marks it,
    sets it up or enslaves it, and the teardown leaves it in place; everything of the
    run's own is gone afterwards."""
    from harness.net import network
    from harness.ledger import clean
    from harness.errors import EnvError
    from topologies.wrong_host import WrongHostTopo
    topo = WrongHostTopo()
    network.check_names_free(topo)
    kind = ['bridge'] if name == 's1' else ['veth', 'peer', 'name', f'blt{os.getpid()}f']
    subprocess.run(['ip', 'link', 'add', 'name', name, 'type'] + kind, check=True)
    said, net = [], None
    try:
        with pytest.raises(EnvError, match=rf'interfaces {name} were made by someone else'):
            net = network.build(topo, 'lxbr', run_state, 'fast', said.append)
            network.start(net, 'lxbr')
        assert network.builder_of(net) == 'fast'
        network.stop(net, said.append)
        net = None
        assert os.path.exists(f'/sys/class/net/{name}'), 'the teardown deleted it'
        assert link_view(name) == ('', False, False)
        assert clean(run_state.data, said.append) == []
        recorded = set(run_state.data['links'] + run_state.data['bridges'])
        assert recorded & hu.links() == {name}, 'the run left its own interfaces'
    finally:
        network.stop(net, said.append)
        clean(run_state.data, said.append)
        subprocess.run(['ip', 'link', 'del', 'dev', name], capture_output=True)


def test_the_teardowns_second_pass_deletes_only_what_still_carries_the_mark(monkeypatch):
    """delete_together deletes what is left after its batch by name: if the name is
    someone else's interface by then (ours gone, theirs made), that one stays."""
    from harness.net import nsbatch
    name, peer, mark = f'blt{os.getpid()}d', f'blt{os.getpid()}e', 'bindlab:test-pass2'
    add = ['ip', 'link', 'add', 'name', name, 'type', 'veth', 'peer', 'name', peer]
    subprocess.run(add, check=True)
    subprocess.run(['ip', 'link', 'set', 'dev', name, 'alias', mark], check=True)
    real, passes = nsbatch.run_batches, []

    def racing(batches, log=None):
        real(batches, log)
        if not passes:          # right after the first pass someone takes the name
            assert not os.path.exists(f'/sys/class/net/{name}')
            subprocess.run(add, check=True)
        passes.append(batches)
    monkeypatch.setattr(nsbatch, 'run_batches', racing)
    try:
        nsbatch.delete_together([name], {name: mark})
        assert len(passes) == 2
        assert os.path.exists(f'/sys/class/net/{name}'), 'the second pass deleted it'
    finally:
        subprocess.run(['ip', 'link', 'del', 'dev', name], capture_output=True)
