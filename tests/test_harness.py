"""The harness end to end: real Mininet networks, the real probe, the real CLI.

Run under the machine's Mininet lock:
    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_harness.py
Each test runs `python3 -m harness` as a user would and checks what a user relies on:
the matrix, the exit status, the JUnit file, the message of a refusal, and that
nothing is left on the machine.
"""

import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

import harness_util as hu


# Every test needs root, starts on a clean machine and must leave it clean.
root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)


def load(path):
    with open(path) as f:
        return json.load(f)


def cell(matrix, kind, host, addr, port, proto='tcp', options=()):
    """The one cell of matrix matching the arguments."""
    found = [c for c in matrix['cells'] if c['kind'] == kind and c['host'] == host
             and c['addr'] == addr and c['port'] == port and c['proto'] == proto
             and tuple(c['options']) == tuple(options)]
    assert len(found) == 1, f'{len(found)} cells for {kind} {host} {addr}:{port}'
    return found[0]


# -- the wrong-host matrix ---------------------------------------------------------------

def test_wrong_host_matrix_holds(tmp_path):
    res = hu.harness('run', 'wrong-host', '--switch', 'lxbr', '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert 'passed, 0 failed' in res.stdout.splitlines()[-1]
    run = tmp_path / 'latest'
    assert run.is_symlink()
    matrix = load(run / 'wrong-host' / 'matrix.json')
    # Each server's record is its own readiness line (not one left in the work folder
    # by the ready servers before it: 1 run in 6 once read h2's 10.0.0.2:65432 there).
    assert len(matrix['servers']) == 6
    for server in matrix['servers']:
        rec = server['record']
        assert (rec['op'], rec['host'], rec['proto'], rec['addr'], rec['port']) == \
            ('serve', server['host'], server['proto'], server['addr'], server['port']), server
    # The seed's case, and its neighbours, as the kernel answered them.
    assert cell(matrix, 'bind', 'h2', '10.0.0.1', 6677)['actual'] == 'EADDRNOTAVAIL'
    assert cell(matrix, 'bind', 'h1', '10.0.0.1', 6677)['actual'] == 'OK'
    for host in ('h1', 'h2', 'h3'):
        assert cell(matrix, 'bind', host, '0.0.0.0', 6677)['actual'] == 'OK'
        assert cell(matrix, 'bind', host, '::', 6677)['actual'] == 'OK'
    assert cell(matrix, 'bind', 'h1', 'fd00::2', 6677, 'udp')['actual'] == 'EADDRNOTAVAIL'
    # Connects: answered by the right host; a foreign source is the seed's error too.
    c = cell(matrix, 'connect', 'h1', '10.0.0.3', 7001)
    assert (c['actual'], c['peer']) == ('OK', 'h3')
    assert cell(matrix, 'connect', 'h2', '10.0.0.3', 7001,
                options=('src=10.0.0.1',))['actual'] == 'EADDRNOTAVAIL'
    assert all(c['verdict'] == 'pass' for c in matrix['cells'])
    assert matrix['environment']['switch'] == 'lxbr'
    assert [h['name'] for h in matrix['topology']['hosts']] == ['h1', 'h2', 'h3']
    for name in ('summary.json', 'summary.md', 'junit.xml', 'report.html'):
        assert (run / name).stat().st_size > 0, name
    bind_csv = (run / 'wrong-host' / 'bind.csv').read_text().splitlines()
    assert len(bind_csv) == 1 + sum(c['kind'] == 'bind' for c in matrix['cells'])


def test_wrong_expectation_exits_1_and_junit_names_the_cell(tmp_path):
    scenario = hu.wrong_expectation_file(tmp_path)
    out = tmp_path / 'out'
    res = hu.harness('run', '--scenario-file', scenario, '--switch', 'lxbr',
                     '--out', str(out))
    assert res.returncode == 1, res.stdout + res.stderr
    assert '2 passed, 1 failed' in res.stdout
    suite = ET.parse(out / 'latest' / 'junit.xml').getroot().find('testsuite')
    assert suite.get('name') == 'wrong-expectation'
    assert (suite.get('tests'), suite.get('failures')) == ('3', '1')
    failed = [tc for tc in suite.iter('testcase') if tc.find('failure') is not None]
    assert [tc.get('name') for tc in failed] == ['h2 bind tcp 10.0.0.1']
    message = failed[0].find('failure').get('message')
    assert 'expected OK, got EADDRNOTAVAIL' in message


# -- interrupts and leftovers ---------------------------------------------------------------

def test_sigint_mid_run_tears_everything_down(tmp_path):
    proc = hu.start('run', '--scenario-file', hu.slow_scenario_file(tmp_path),
                    '--switch', 'lxbr', '--out', str(tmp_path / 'out'))
    st = hu.wait_for_state(proc, hu.probing)
    status, _out, err = hu.interrupt(proc, signal.SIGINT)
    assert status == 2, err
    assert 'interrupted' in err
    for pid, marker in st['pids'].items():
        assert not hu.alive(pid, marker), f'{pid} ({marker}) survived'
    assert not (set(st['links']) | set(st['bridges'])) & hu.links()
    assert not (tmp_path / 'out' / 'latest').exists(), 'no result files after Ctrl-C'


def test_sigterm_mid_run_tears_everything_down(tmp_path):
    proc = hu.start('run', '--scenario-file', hu.slow_scenario_file(tmp_path),
                    '--switch', 'lxbr', '--out', str(tmp_path / 'out'))
    st = hu.wait_for_state(proc, lambda s: len(s['pids']) >= 2)
    status, _out, err = hu.interrupt(proc, signal.SIGTERM)
    assert status == 2, err
    for pid, marker in st['pids'].items():
        assert not hu.alive(pid, marker), f'{pid} ({marker}) survived'
    assert not (set(st['links']) | set(st['bridges'])) & hu.links()


SLOW_BRIDGE_IP = """#!/bin/sh
# ip, but a batch that creates a bridge runs its first line, waits, then the rest:
# the moment between a bridge's creation and its mark, made long enough to hit.
if [ "$1" = -force ] && [ "$2" = -batch ] && grep -q 'type bridge' "$3"; then
    head -n 1 "$3" | /usr/sbin/ip -force -batch - || exit 1
    sleep 1
    tail -n +2 "$3" | exec /usr/sbin/ip -force -batch -
fi
exec /usr/sbin/ip "$@"
"""


def test_sigterm_between_a_bridges_creation_and_its_mark_leaves_nothing(tmp_path):
    """A CI trial left a bridge that was created but never marked: the interrupt
    killed the root namespace's ip batch between the two lines, and teardown and
    clean-net rightly refused an unmarked interface.  The batch now runs to its end."""
    wrapper = tmp_path / 'bin' / 'ip'
    wrapper.parent.mkdir()
    wrapper.write_text(SLOW_BRIDGE_IP)
    wrapper.chmod(0o755)
    env = dict(hu.env(), PATH=f'{wrapper.parent}:{os.environ["PATH"]}')
    proc = subprocess.Popen([hu.PYTHON, '-m', 'harness', 'run', 'wrong-host', '--switch',
                             'lxbr', '--out', str(tmp_path / 'out')], cwd=hu.REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not hu.links() & {'s1'} and time.monotonic() < deadline:
        time.sleep(0.01)
    assert 's1' in hu.links(), 'the bridge was never created'
    status, _out, err = hu.interrupt(proc, signal.SIGTERM)
    assert status == 2, err
    assert 's1' not in hu.links() and hu.read_state() is None, err


def test_sigkill_leaves_a_record_and_clean_net_removes_it(tmp_path):
    proc = hu.start('run', '--scenario-file', hu.slow_scenario_file(tmp_path),
                    '--switch', 'lxbr', '--out', str(tmp_path / 'out'))
    st = hu.wait_for_state(proc, hu.probing)
    hu.interrupt(proc, signal.SIGKILL)
    created = set(st['links']) | set(st['bridges'])
    assert created & hu.links(), 'SIGKILL should have left the network behind'
    # A new run sees the leftovers and refuses, building nothing.
    before = hu.snapshot()
    res = hu.harness('run', 'wrong-host', '--switch', 'lxbr', '--out', str(tmp_path))
    assert res.returncode == 2
    assert 'clean-net' in res.stderr and 'left' in res.stderr
    after = hu.snapshot()   # the killed run's hosts may still be dying: a subset
    assert after[0] <= before[0] and after[1] <= before[1], 'the refused run built'

    # clean-net removes exactly what was recorded.
    res = hu.harness('clean-net')
    assert res.returncode == 0, res.stdout + res.stderr
    for pid, marker in st['pids'].items():
        assert not hu.alive(pid, marker), f'{pid} ({marker}) survived clean-net'
    # Also the processes spawned after the snapshot, or killed before their PID was
    # written down: nothing may still run in the namespaces the run created.
    assert st['netns'] and not hu.processes_in(st['netns'])
    assert not created & hu.links()
    assert hu.read_state() is None
    assert hu.harness('clean-net').returncode == 0   # idempotent: nothing recorded


def test_concurrent_run_is_refused(tmp_path):
    proc = hu.start('run', '--scenario-file', hu.slow_scenario_file(tmp_path),
                    '--switch', 'lxbr', '--out', str(tmp_path / 'out'))
    try:
        hu.wait_for_state(proc, hu.probing)
        res = hu.harness('run', 'wrong-host', '--switch', 'lxbr', '--out', str(tmp_path))
        assert res.returncode == 2
        assert 'another bindlab run' in res.stderr
    finally:
        out, err = proc.communicate(timeout=hu.RUN_GUARD_S)
    assert proc.returncode == 0, out + err     # the first run was not disturbed


# -- bad input: exit 2, a message, nothing built ----------------------------------------------

@pytest.mark.parametrize('args, message', [
    (['run', 'no-such-scenario'], 'unknown scenario no-such-scenario'),
    (['run', '--switch', 'vde'], "invalid choice: 'vde'"),
    (['run', '--shard', '3/2'], 'need 1 <= K <= N'),
    (['run', '--shard', 'half'], 'expected K/N'),
    (['frobnicate'], "invalid choice: 'frobnicate'"),
])
def test_bad_usage_exits_2(args, message):
    before = hu.snapshot()
    res = hu.harness(*args)
    assert res.returncode == 2
    assert message in res.stderr
    assert res.stdout == ''
    assert hu.snapshot() == before


def test_not_root_exits_2():
    res = hu.harness('run', 'wrong-host', preexec=hu.as_nobody())
    assert res.returncode == 2
    assert 'must run as root' in res.stderr


def kernel_has_module(name):
    """Whether this kernel has module name loaded, built in, or on disk to load, read
    from the kernel's own files: the test loads nothing on the host (no modprobe)."""
    if os.path.isdir(f'/sys/module/{name}'):
        return True
    base = os.path.join('/lib/modules', os.uname().release)
    for index in ('modules.builtin', 'modules.dep'):
        try:
            with open(os.path.join(base, index)) as f:
                paths = [line.split(':', 1)[0].strip() for line in f]
        except OSError:
            continue
        if any(os.path.basename(p).split('.')[0] in (name, name.replace('_', '-'))
               for p in paths):
            return True
    return False


def test_scenario_needing_a_missing_module_is_skipped_naming_it(tmp_path):
    """vrf-bind needs the vrf module: where the kernel lacks it, a notice names it
    (and with nothing else selected, exit 2 before anything is built)."""
    if kernel_has_module('vrf'):
        pytest.skip('needs a kernel without the vrf module; this one has it (loaded, '
                    'built in or in modules.dep): vrf-bind runs here instead')
    before = hu.snapshot()
    res = hu.harness('run', 'vrf-bind', '--switch', 'lxbr', '--out', str(tmp_path))
    assert res.returncode == 2
    assert ('vrf-bind: skipped, needs the kernel module vrf, which this kernel lacks'
            in res.stdout + res.stderr)
    assert 'Traceback' not in res.stderr
    assert hu.snapshot() == before


def test_a_skipped_scenario_is_in_every_result_file_with_its_reason(tmp_path):
    """Issue 27, item 5: vrf-bind (skipped, no vrf module) beside wrong-host: the run
    passes (exit 0) and every result file says vrf-bind was not run, and why, in its
    place: summary.json, summary.md, junit.xml (a <skipped> per case), report.html,
    its matrix.json; record leaves it out and verify says it was not compared."""
    if kernel_has_module('vrf'):
        pytest.skip('needs a kernel without the vrf module; this one has it')
    res = hu.harness('run', 'vrf-bind', 'wrong-host', '--switch', 'lxbr',
                     '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    run = tmp_path / 'latest'
    summary = load(run / 'summary.json')
    assert [s['name'] for s in summary['scenarios']] == ['vrf-bind', 'wrong-host']
    vrf, wrong = summary['scenarios']
    why = ("needs the kernel module vrf, which this kernel lacks (sudo make vm-test runs "
           "it on Debian's kernel)")
    assert (vrf['skipped'], vrf['cells'], wrong['skipped']) == (why, 0, None)
    cases = vrf['cases']
    assert cases > 0 and summary['skipped'] == cases
    assert f'{wrong["cells"]} passed, 0 failed, {cases} skipped (vrf-bind)' in \
        res.stdout + res.stderr
    matrix = load(run / 'vrf-bind' / 'matrix.json')
    assert (matrix['skipped'], matrix['cells'], len(matrix['cases'])) == (why, [], cases)
    assert ({'kind': 'bind', 'host': 'h1', 'column': 'tcp 10.0.0.1'} in matrix['cases'])
    md = (run / 'summary.md').read_text()
    assert f'| vrf-bind | - | - | - | skipped: {why} |' in md
    assert f'skipped, {cases} cases not run: {why}' in md
    suites = {s.get('name'): s for s in ET.parse(run / 'junit.xml').getroot()}
    assert suites['wrong-host'].get('skipped') == '0'
    vrf_suite = suites['vrf-bind']
    assert (vrf_suite.get('tests'), vrf_suite.get('skipped'), vrf_suite.get('failures'),
            vrf_suite.get('errors')) == (str(cases), str(cases), '0', '0')
    assert [[(x.tag, x.get('message')) for x in case] for case in vrf_suite] == \
        [[('skipped', f'vrf-bind skipped: {why}')]] * cases
    assert 'h1 bind tcp 10.0.0.1' in [case.get('name') for case in vrf_suite]
    page = (run / 'report.html').read_text()
    assert 'data-scenario="vrf-bind" data-status="skipped"' in page
    assert f'{cases} cases not run: needs the kernel module vrf' in page
    recorded = hu.harness('record', str(run), '--baseline', str(tmp_path / 'expect'))
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert os.listdir(tmp_path / 'expect') == ['wrong-host.json']
    assert f'vrf-bind: skipped ({why}), not recorded' in recorded.stdout
    verified = hu.harness('verify', str(run), '--baseline', str(tmp_path / 'expect'))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f'vrf-bind: skipped ({why}), not compared' in verified.stdout
    same = hu.harness('diff', str(run), str(run))       # skipped in both: no change
    assert same.returncode == 0 and 'vrf-bind' not in same.stdout, same.stdout


def test_missing_probe_exits_2(monkeypatch):
    monkeypatch.setattr(hu, 'env', lambda: dict(os.environ, NETPROBE='/nonexistent/np'))
    res = hu.harness('run', 'wrong-host', '--switch', 'lxbr')
    assert res.returncode == 2
    assert 'netprobe not found at /nonexistent/np' in res.stderr


@pytest.mark.parametrize('body, message', [
    ('def broken(:', 'SyntaxError'),
    ('from harness.scenario import *\nfrom topologies.wrong_host import WrongHostTopo\n'
     "scenarios = [Scenario('x', 't', WrongHostTopo, (bind('h9', '10.0.0.1', 1, "
     "explicit('OK', 'r')),))]", "unknown host 'h9'"),
    ('from harness.scenario import *\nfrom topologies.wrong_host import WrongHostTopo\n'
     "scenarios = [Scenario('x', 't', WrongHostTopo, (bind('h1', '10.0.0.1', 70000, "
     "explicit('OK', 'r')),))]", 'port 70000 is not 0-65535'),
    ('from harness.scenario import *\nfrom topologies.wrong_host import WrongHostTopo\n'
     "scenarios = [Scenario('x', 't', WrongHostTopo, (bind('h1', '10.0.0.300', 1, "
     "explicit('OK', 'r')),))]", "'10.0.0.300' is not a numeric"),
    ('from harness.scenario import *\nfrom topologies.wrong_host import WrongHostTopo\n'
     "scenarios = [Scenario('x', 't', WrongHostTopo, (bind('h1', '10.0.0.1', 1, "
     "explicit('MAYBE', 'r')),))]", "outcome 'MAYBE' is not OK or an errno name"),
    ('from harness.scenario import *\nfrom topologies.wrong_host import WrongHostTopo\n'
     "scenarios = [Scenario('x', 't', WrongHostTopo, (bind('h1', '10.0.0.1', 1, "
     "explicit('OK', 'r')), bind('h1', '10.0.0.1', 2, explicit('OK', 'r'))))]",
     "share the column 'tcp 10.0.0.1'"),
    # issue 28, item 8: readiness pairs (a bad host was "KeyError: 'hx'" after building)
    ('from harness.scenario import *\nfrom topologies.wrong_host import WrongHostTopo\n'
     "scenarios = [Scenario('x', 't', WrongHostTopo, (bind('h1', '10.0.0.1', 1, "
     "explicit('OK', 'r')),), ready=(('h1', '10.0.0.2'), ('hx', '10.0.0.1')))]",
     "scenario 'x': ready pair ('hx', '10.0.0.1'): unknown host 'hx'"),
    ('from harness.scenario import *\nfrom topologies.wrong_host import WrongHostTopo\n'
     "scenarios = [Scenario('x', 't', WrongHostTopo, (bind('h1', '10.0.0.1', 1, "
     "explicit('OK', 'r')),), ready=(('h1', '10.0.0.x'),))]",
     "scenario 'x': ready pair ('h1', '10.0.0.x'): '10.0.0.x' is not a numeric"),
    ('from harness.scenario import *\nfrom topologies.wrong_host import WrongHostTopo\n'
     "scenarios = [Scenario('x', 't', WrongHostTopo, (bind('h1', '10.0.0.1', 1, "
     "explicit('OK', 'r')),), ready=(('h1',),))]",
     "scenario 'x': ready pair ('h1',) is not (host, address)"),
])
def test_bad_scenario_file_exits_2(tmp_path, body, message):
    path = tmp_path / 'bad_scenario.py'
    path.write_text(f'import sys\nsys.path.insert(0, {hu.REPO!r})\n{body}\n')
    before = hu.snapshot()
    res = hu.harness('run', '--scenario-file', str(path), '--switch', 'lxbr')
    assert res.returncode == 2
    assert str(path) in res.stderr and message in res.stderr
    assert hu.snapshot() == before


TOGETHER = """import sys
sys.path.insert(0, {repo!r})
from harness.scenario import *
from topologies.wrong_host import WrongHostTopo
HOSTILE = 'a;touch {mark}'
steps = at_once([
    run('h1', ['ip', '-batch', '-'], 'an address fed on stdin',
        stdin='addr add 10.0.9.1/32 dev lo\\n'),
    run('h2', ['test', HOSTILE, '=', HOSTILE], 'every word arrives as it was given'),
    run('h3', ['sh', '-c', 'test -e {flag} || {{ touch {flag}; echo not yet; }}'],
        'printing at first: run again until it prints nothing', until='empty-stdout'),
])
scenarios = [
    Scenario('together-ok', 'steps at once', WrongHostTopo, (
        bind('h1', '10.0.9.1', 5000, explicit('OK', 'h1 got it on lo')),
        bind('h2', '10.0.9.1', 5000, explicit('EADDRNOTAVAIL', 'only h1 has it')),
    ), setup=steps),
    Scenario('together-fail', 'one of them fails', WrongHostTopo, (
        bind('h1', '10.0.0.1', 5000, explicit('OK', 'r')),), setup=at_once([
            run('h1', ['true'], 'fine'),
            run('h2', ['sh', '-c', 'echo broken >&2; exit 3'], 'fails'),
            run('h3', ['true'], 'fine too'),
        ])),
]
"""


def test_steps_at_once_apply_and_fail_as_one_after_the_other(tmp_path):
    """Steps run at once (scenario.at_once, through the hosts' shells) are applied
    and checked one by one: stdin is fed, every word arrives unquoted by any shell,
    an until-step is repeated, and a failing one makes the cells errors naming it
    and its message."""
    mark, flag = tmp_path / 'injected', tmp_path / 'flag'
    path = tmp_path / 'together.py'
    path.write_text(TOGETHER.format(repo=hu.REPO, mark=mark, flag=flag))
    res = hu.harness('run', 'together-ok', 'together-fail', '--scenario-file', str(path),
                     '--switch', 'lxbr', '--out', str(tmp_path / 'out'))
    assert res.returncode == 1, res.stdout[-2000:] + res.stderr[-2000:]
    run_dir = tmp_path / 'out' / 'latest'
    ok = load(run_dir / 'together-ok' / 'matrix.json')
    assert ok['problem'] is None
    assert [(s['host'], s['ok']) for s in ok['steps']] == [('h1', True), ('h2', True),
                                                           ('h3', True)]
    assert {c['host']: (c['actual'], c['verdict']) for c in ok['cells']} == {
        'h1': ('OK', 'pass'), 'h2': ('EADDRNOTAVAIL', 'pass')}
    assert flag.exists() and not mark.exists()
    bad = load(run_dir / 'together-fail' / 'matrix.json')
    assert [(s['host'], s['ok']) for s in bad['steps']] == [('h1', True), ('h2', False)]
    assert 'setup step on h2 `sh -c echo broken >&2; exit 3` failed: exit 3: broken' \
        in bad['problem']
    assert [c['verdict'] for c in bad['cells']] == ['error']


NEVER_READY = """import sys
sys.path.insert(0, {repo!r})
from harness.scenario import *
from topologies.wrong_host import WrongHostTopo
scenarios = [Scenario('never-ready', 'pings pass, TCP does not', WrongHostTopo, (
    bind('h1', '10.0.0.1', 5000, explicit('OK', 'r')),), setup=(
    nft('h2', 'table inet t {{\\n chain i {{\\n type filter hook input priority 0\\n'
              ' tcp dport 65432 reject with tcp reset\\n }}\\n}}\\n',
              'TCP to the ready port is refused'),),
    ready=(('h1', '10.0.0.2'), ('h3', '10.0.0.1')))]
"""


def test_a_network_that_never_gets_ready_says_which_pair_and_how(tmp_path):
    """Readiness is a TCP connect per ready pair; one that never connects while its
    ping answers (refused here: a reset is as stuck as a drop, without each try's 1 s
    wait) is named as TCP stuck (a pair no ping gets through is named as
    unreachable, the older text: network.unreachable), the others are fine."""
    path = tmp_path / 'never.py'
    path.write_text(NEVER_READY.format(repo=hu.REPO))
    res = hu.harness('run', 'never-ready', '--scenario-file', str(path), '--switch',
                     'lxbr', '--out', str(tmp_path / 'out'))
    assert res.returncode == 1, res.stdout[-2000:] + res.stderr[-2000:]
    matrix = load(tmp_path / 'out' / 'latest' / 'never-ready' / 'matrix.json')
    assert matrix['problem'] == ('data plane never got ready: h1 cannot open a TCP '
                                 'connection to 10.0.0.2')
    assert [c['verdict'] for c in matrix['cells']] == ['error']


def test_shard_runs_only_its_slice(tmp_path):
    res = hu.harness('run', 'wrong-host', 'lost-address', '--shard', '2/2', '--switch',
                     'lxbr', '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    summary = load(tmp_path / 'latest' / 'summary.json')
    assert [s['name'] for s in summary['scenarios']] == ['lost-address']
    assert summary['shard'] == '2/2'
