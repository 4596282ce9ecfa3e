"""The state file and clean-net: what a run records, what clean-net removes, what it
leaves alone.  Real processes, namespaces and interfaces; the real command line.

Run under the machine's Mininet lock:
    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_state.py
Most tests plant a state file in a folder of their own ($BINDLAB_RUN_DIR) naming
processes and interfaces the test made, run `python3 -m harness clean-net`, and check
which of them are still there.  One test SIGKILLs a real run.
"""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

import harness_util as hu
from harness.ledger import procs, read_state, State, state_path, workdirs

# Every test needs root, starts on a clean machine and must leave it clean.
root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)

RUN_ID = 'test-run'
NAME_PREFIX = f'blt{os.getpid()}'     # interfaces made here (tests/nsutil.py's prefix)


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    """A run folder of this test's own: the harness's runs and clean-net use it."""
    path = tmp_path / 'run'
    path.mkdir()
    base = hu.env()
    monkeypatch.setattr(hu, 'env', lambda: dict(base, BINDLAB_RUN_DIR=str(path)))
    return path


@pytest.fixture
def spawn():
    """spawn(argv, **popen_kwargs) -> Popen of a process leading its own session;
    after the test each one's process group is killed and the process reaped."""
    started = []

    def start(argv, **kwargs):
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
        started.append(proc)
        return proc
    yield start
    for proc in started:
        try:
            os.killpg(proc.pid, signal.SIGKILL)    # what it started goes too
        except ProcessLookupError:
            pass
        proc.wait()


@pytest.fixture
def made_links():
    """A list to append root-namespace interface names to; deleted after the test."""
    names = []
    yield names
    for name in names:
        subprocess.run(['ip', 'link', 'del', 'dev', name], capture_output=True)


def plant(run_dir, **fields):
    """Write a state file (version 2, run RUN_ID) with fields overriding the empty one."""
    data = {'version': 2, 'run_id': RUN_ID, 'pid': 999999, 'pids': {}, 'netns': [],
            'links': [], 'bridges': [], 'ovs_bridges': []}
    data.update(fields)
    write(run_dir, json.dumps(data))
    return data


def write(run_dir, text):
    (run_dir / 'state.json').write_text(text)


def wait_until(predicate, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f'never happened: {what}'
        time.sleep(0.01)


def words(pid):
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            return [w.decode() for w in f.read().split(b'\0') if w]
    except OSError:
        return []


def running(proc, argv0):
    """Wait until proc has exec'd argv0 (its cmdline says so); returns proc."""
    wait_until(lambda: words(proc.pid)[:1] == [argv0], f'{proc.pid} runs {argv0}')
    return proc


def recorded(proc, marker, start_shift=0):
    """A state-file identity of proc (start time shifted: an earlier process)."""
    return {'pid': proc.pid, 'start': hu.start_time(proc.pid) + start_shift,
            'marker': marker}


def pids_of(*idents):
    return {str(i['pid']): i for i in idents}


def new_netns(spawn):
    """A process alone in a new network namespace (a host shell, for the tests)."""
    proc = spawn(['unshare', '-n', 'sleep', '600'])
    running(proc, 'sleep')
    wait_until(lambda: hu.netns_ino(proc.pid) not in (None, hu.netns_ino('self')),
               'the new namespace')
    return proc


def enter(spawn, host_proc, argv):
    """A process started inside host_proc's network namespace."""
    proc = spawn(['nsenter', f'--net=/proc/{host_proc.pid}/ns/net', '--'] + argv)
    return running(proc, argv[0])


def fake_netprobe(tmp_path):
    """A program called netprobe (it sleeps): what clean-net looks for in a netns."""
    path = tmp_path / 'netprobe'
    path.symlink_to('/bin/sleep')
    return str(path)


def netns_entry(host, proc, ino=None):
    return {'host': host, 'pid': proc.pid, 'start': hu.start_time(proc.pid),
            'ino': ino or hu.netns_ino(proc.pid)}


def clean_net():
    res = hu.harness('clean-net')
    assert 'Traceback' not in res.stderr, res.stderr
    return res


# -- 6: a state file that is not one is refused, never taken for an empty one ----------

GOOD = {'version': 2, 'run_id': RUN_ID, 'pid': 1, 'pids': {}, 'netns': [], 'links': [],
        'bridges': [], 'ovs_bridges': []}


@pytest.mark.parametrize('text, problem', [
    ('{"run_id": "x", "pids": {', 'not JSON'),
    ('', 'not JSON'),
    ('{}', 'the file has no "version"'),
    ('[]', 'the file is an array, not an object'),
    ('"state"', 'the file is a string, not an object'),
    (json.dumps(dict(GOOD, pids=[])), '"pids" is an array, not an object'),
    (json.dumps(dict(GOOD, links='s1-eth1')), '"links" is a string, not an array'),
    (json.dumps(dict(GOOD, pid='1')), '"pid" is a string, not a number'),
    (json.dumps(dict(GOOD, links=[7])), "links holds 7, not an interface name"),
    (json.dumps(dict(GOOD, bridges=['../..'])), "bridges holds '../..'"),
    (json.dumps(dict(GOOD, pids={'12': 'mininet:h1'})), 'pids["12"] is a string'),
    (json.dumps(dict(GOOD, pids={'12': {'pid': 12, 'marker': 'x'}})),
     'pids["12"] has no "start"'),
    (json.dumps(dict(GOOD, netns=[{'host': 'h1', 'pid': 5, 'start': 9}])),
     'netns[0] has no "ino"'),
    (json.dumps(dict(GOOD, version=1)), 'version 1'),
    (json.dumps(dict(GOOD, fw_rules={})), '"fw_rules" is not an array'),
    (json.dumps(dict(GOOD, fw_rules=[{'cmd': 'sh', 'chain': 'FORWARD', 'bridge': 's1'}])),
     "fw_rules[0]: 'sh' 'FORWARD' is not a table and chain"),
    (json.dumps(dict(GOOD, fw_rules=[{'cmd': 'iptables', 'chain': 'INPUT',
                                      'bridge': 's1'}])), "'INPUT' is not a table"),
    (json.dumps(dict(GOOD, fw_rules=[{'cmd': 'iptables', 'chain': 'FORWARD',
                                      'bridge': '-j DROP'}])),
     "fw_rules[0]: bridge '-j DROP' is not an interface name"),
    (json.dumps(dict(GOOD, fw_rules=[{'cmd': 'iptables', 'chain': 'FORWARD',
                                      'bridge': 's1', 'rule': ['-F']}])),
     'fw_rules[0] is not an object with cmd, chain and bridge'),
    (json.dumps({k: v for k, v in GOOD.items() if k != 'version'}), 'no "version"'),
])
def test_clean_net_refuses_a_state_file_that_is_not_one(run_dir, text, problem):
    write(run_dir, text)
    res = clean_net()
    assert res.returncode == 2, res.stdout + res.stderr
    path = str(run_dir / 'state.json')
    assert f'{path} is not a bindlab state file' in res.stderr
    assert problem in res.stderr
    assert 'inspect it' in res.stderr
    assert (run_dir / 'state.json').read_text() == text, 'the file must stay for a look'


@pytest.mark.skipif(not shutil.which('iptables'), reason='iptables is not installed')
def test_clean_net_deletes_the_runs_accept_rule_and_no_other(run_dir):
    """A killed run's accept rule (harness/ledger/fwrules.py) goes; the same rule with
    another run's mark, which the state file does not name, stays."""
    from harness.ledger import fwrules
    bridge, other = f'{NAME_PREFIX}b', f'{NAME_PREFIX}c'
    ours, theirs = fwrules.rule_args(RUN_ID, bridge), fwrules.rule_args('another-run', other)
    table = subprocess.run(['nft', 'list', 'table', 'ip', 'filter'], capture_output=True)
    for rule in (ours, theirs):
        subprocess.run(['iptables', '-w', '5', '-I', 'FORWARD', '1'] + rule, check=True)
    try:
        plant(run_dir, fw_rules=[{'cmd': 'iptables', 'chain': 'FORWARD', 'bridge': bridge},
                                 {'cmd': 'iptables', 'chain': 'FORWARD', 'bridge': other}])
        res = clean_net()
        assert res.returncode == 0, res.stdout + res.stderr
        listing = subprocess.run(['iptables', '-w', '5', '-S', 'FORWARD'], check=True,
                                 capture_output=True, text=True).stdout
        assert f'bindlab:{RUN_ID}' not in listing
        assert 'bindlab:another-run' in listing
    finally:
        for rule in (ours, theirs):
            while subprocess.run(['iptables', '-w', '5', '-D', 'FORWARD'] + rule,
                                 capture_output=True).returncode == 0:
                pass
        if table.returncode != 0:       # iptables-nft made the table: it goes too
            subprocess.run(['nft', 'delete', 'table', 'ip', 'filter'], capture_output=True)


def test_a_forward_drop_the_run_cannot_open_is_refused_naming_it(run_dir, tmp_path):
    """A bridge-family forward chain that drops by default is no iptables FORWARD
    (which a run opens for its bridges): exit 2 before anything is built, naming it."""
    table = f'{NAME_PREFIX}fw'
    subprocess.run(['nft', '-f', '-'], check=True, text=True, input=(
        f'table bridge {table} {{\n chain bltfwd {{\n  type filter hook forward priority 0; '
        'policy drop;\n }\n}\n'))
    try:
        res = hu.harness('run', 'wrong-host', '--switch', 'lxbr', '--out', str(tmp_path))
    finally:
        subprocess.run(['nft', 'delete', 'table', 'bridge', table], check=True)
    assert res.returncode == 2, res.stdout + res.stderr
    assert f'nft chain bridge {table} bltfwd' in res.stderr
    assert 'Linux-bridge network would be silent' in res.stderr
    assert not (run_dir / 'state.json').exists()


def test_run_refuses_a_corrupt_state_file_and_builds_nothing(run_dir, tmp_path):
    write(run_dir, '{"run_id": ')
    before = hu.snapshot()
    res = hu.harness('run', 'wrong-host', '--switch', 'lxbr', '--out', str(tmp_path))
    assert res.returncode == 2, res.stdout + res.stderr
    assert 'Traceback' not in res.stderr
    assert f'{run_dir / "state.json"} is not a bindlab state file (not JSON' in res.stderr
    assert hu.snapshot() == before
    assert (run_dir / 'state.json').read_text() == '{"run_id": '


def test_state_write_never_follows_a_planted_symlink(tmp_path, monkeypatch):
    monkeypatch.setattr(workdirs, 'RUN_DIR', str(tmp_path))
    victim = tmp_path / 'victim'
    victim.write_text('precious')
    os.symlink(victim, f'{state_path()}.tmp{os.getpid()}')   # the old temp name
    run = State(RUN_ID)
    run.add_names(links=['s1-eth1'])
    assert victim.read_text() == 'precious'
    assert read_state()['links'] == ['s1-eth1']


@pytest.mark.parametrize('planted', [None, 'symlink', 'open folder'])
def test_work_folders_go_to_memory_never_to_a_planted_folder(tmp_path, monkeypatch, planted):
    """Where RUN_DIR is on disk and /dev/shm in memory, work folders go to SHM_DIR,
    unless something else stands at that name: a symlink (to a folder another user
    owns) or a folder open to others; then RUN_DIR, and nothing is made in it."""
    if workdirs._fs_type('/dev/shm') != 'tmpfs':
        pytest.skip('/dev/shm is not a tmpfs on this machine')
    monkeypatch.setattr(workdirs, 'RUN_DIR', str(tmp_path / 'run'))
    os.mkdir(workdirs.RUN_DIR)
    monkeypatch.setattr(workdirs, '_fs_type', lambda p: 'ext4' if p == workdirs.RUN_DIR
                        else 'tmpfs')           # a RUN_DIR on disk, as /run here
    shm = f'/dev/shm/bindlab-test-{os.getpid()}'
    monkeypatch.setattr(workdirs, 'SHM_DIR', shm)
    workdirs._work_root.cache_clear()
    target = tmp_path / 'elsewhere'
    target.mkdir(mode=0o777)
    try:
        if planted == 'symlink':
            os.symlink(target, shm)
        elif planted == 'open folder':
            os.mkdir(shm)
            os.chmod(shm, 0o777)
        folder = workdirs.work_folder('work-')
        want = workdirs.RUN_DIR if planted else shm
        assert os.path.dirname(folder) == want
        assert os.stat(folder).st_mode & 0o777 == 0o700
        assert list(target.iterdir()) == []
    finally:
        workdirs._work_root.cache_clear()
        if os.path.islink(shm):
            os.unlink(shm)
        elif os.path.isdir(shm):
            shutil.rmtree(shm)


def test_ctrl_c_just_after_the_state_rename_stays_a_ctrl_c(tmp_path, monkeypatch):
    """A SIGINT that lands between the rename and the end of the write (a CI run hit
    it: the cells said "could not be measured: FileNotFoundError", exit 1 not 2): the
    KeyboardInterrupt goes on, the state file is whole, no temp file is left."""
    monkeypatch.setattr(workdirs, 'RUN_DIR', str(tmp_path))
    run = State(RUN_ID)
    real_replace = os.replace

    def replace_then_sigint(src, dst):
        real_replace(src, dst)
        os.kill(os.getpid(), signal.SIGINT)     # the real signal, at that moment

    os.replace = replace_then_sigint
    # The disposition this test relies on, even when the suite runs in the background
    # (SIGINT ignored there, and inherited).
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            run.add_names(links=['s1-eth1'])
    finally:
        os.replace = real_replace
        signal.signal(signal.SIGINT, before)
    assert read_state()['links'] == ['s1-eth1']
    assert sorted(os.listdir(tmp_path)) == ['state.json']


# -- 10: a recorded PID is stopped only while it is the recorded process ---------------

def test_clean_net_stops_only_the_recorded_processes(run_dir, spawn):
    ours = running(spawn(['sleep', '600']), 'sleep')
    shell = running(spawn(['bash', '--norc', '--noediting', '-is', 'mininet:h1'],
                          stdin=subprocess.PIPE, stderr=subprocess.DEVNULL), 'bash')
    reused = running(spawn(['sleep', '600']), 'sleep')
    other_shell = running(spawn(['sh', '-c', 'sleep 600; :']), 'sh')
    h10 = running(spawn(['/usr/bin/python3', '-c', 'import time; time.sleep(600)',
                         'mininet:h10']), '/usr/bin/python3')
    keep = [recorded(reused, 'sleep', -1),          # same PID, an earlier process
            recorded(other_shell, 'sh', -1),
            recorded(h10, 'mininet:h1')]             # h1's marker is not h10's
    stop = [recorded(ours, 'sleep'), recorded(shell, 'mininet:h1')]
    plant(run_dir, pids=pids_of(*keep, *stop))
    res = clean_net()
    assert res.returncode == 0, res.stdout + res.stderr
    for proc in (reused, other_shell, h10):
        assert proc.poll() is None, f'{words(proc.pid)} was killed but is not ours'
    for ident in stop:
        assert not hu.alive(ident['pid'], ident), f'{ident} survived clean-net'
    assert not (run_dir / 'state.json').exists()


def test_stop_reaps_a_popen_and_ends_its_process_group(spawn):
    leader = running(spawn(['sh', '-c', 'sleep 600 & wait']), 'sh')
    wait_until(lambda: children(leader.pid), 'the sleep child')
    child = children(leader.pid)[0]
    assert procs.stop([leader], grace_s=5) == []
    assert leader.returncode == -signal.SIGTERM     # reaped: no zombie left
    wait_until(lambda: hu.start_time(child) is None, 'the child ends with its group')


def test_stop_kills_what_ignores_sigterm_after_the_grace(spawn):
    proc = running(spawn(['sh', '-c', 'trap "" TERM; echo trapped; sleep 600; :'],
                         stdout=subprocess.PIPE), 'sh')
    assert proc.stdout.readline() == b'trapped\n'   # SIGTERM ignored from here on
    assert procs.stop([proc], grace_s=0.2) == []
    assert proc.returncode == -signal.SIGKILL


def test_stop_never_signals_a_pid_that_is_no_longer_the_recorded_process(spawn):
    proc = running(spawn(['sleep', '600']), 'sleep')
    assert procs.stop([recorded(proc, 'sleep', -1), recorded(proc, 'slee')]) == []
    assert proc.poll() is None


def children(pid):
    with open(f'/proc/{pid}/task/{pid}/children') as f:
        return [int(p) for p in f.read().split()]


# -- 11: a namespace is the run's only while something the run put there proves it -----

def test_a_reused_namespace_inode_is_not_the_runs(run_dir, spawn, tmp_path):
    old_shell = new_netns(spawn)
    entry = netns_entry('h1', old_shell)
    old_shell.kill()
    old_shell.wait()
    new_host = new_netns(spawn)        # the kernel may hand out the same inode again
    stranger = enter(spawn, new_host, [fake_netprobe(tmp_path), '600'])
    # What the reuse looks like: the recorded inode is now the new namespace's.
    plant(run_dir, netns=[dict(entry, ino=hu.netns_ino(new_host.pid))])
    res = clean_net()
    assert res.returncode == 0, res.stdout + res.stderr
    assert stranger.poll() is None and new_host.poll() is None, \
        'clean-net killed processes of a namespace the run did not make'


def test_clean_net_empties_a_namespace_whose_shell_is_still_the_runs(run_dir, spawn,
                                                                     tmp_path):
    shell = new_netns(spawn)
    unrecorded = enter(spawn, shell, [fake_netprobe(tmp_path), '600'])
    plant(run_dir, pids=pids_of(recorded(shell, 'sleep')),
          netns=[netns_entry('h1', shell)])
    res = clean_net()
    assert res.returncode == 0, res.stdout + res.stderr
    wait_until(lambda: unrecorded.poll() is not None and shell.poll() is not None,
               'both processes of the namespace end')


def test_a_recorded_process_proves_the_namespace_when_its_shell_is_gone(run_dir, spawn,
                                                                      tmp_path):
    shell = new_netns(spawn)
    probe = enter(spawn, shell, [fake_netprobe(tmp_path), '600'])
    unrecorded = enter(spawn, shell, ['sleep', '600'])
    entry = netns_entry('h1', shell)
    shell.kill()
    shell.wait()
    plant(run_dir, pids=pids_of(recorded(probe, 'netprobe')), netns=[entry])
    res = clean_net()
    assert res.returncode == 0, res.stdout + res.stderr
    wait_until(lambda: unrecorded.poll() is not None and probe.poll() is not None,
               'the recorded and the unrecorded process end')


# -- 12: only interfaces carrying the run's mark are deleted ---------------------------

def test_clean_net_deletes_marked_interfaces_and_leaves_others(run_dir, made_links):
    ours, unmarked, other_run = (f'{NAME_PREFIX}b{n}' for n in range(3))
    for name, alias in ((ours, f'bindlab:{RUN_ID}'), (unmarked, None),
                        (other_run, 'bindlab:another-run')):
        made_links.append(name)
        subprocess.run(['ip', 'link', 'add', 'name', name, 'type', 'bridge'], check=True)
        if alias:
            subprocess.run(['ip', 'link', 'set', 'dev', name, 'alias', alias], check=True)
    plant(run_dir, bridges=[ours, unmarked, other_run])
    res = clean_net()
    assert res.returncode == 0, res.stdout + res.stderr
    assert not os.path.exists(f'/sys/class/net/{ours}')
    for name in (unmarked, other_run):
        assert os.path.exists(f'/sys/class/net/{name}'), f'{name} is not ours'
        assert f"interface {name} exists but is not this run's" in res.stdout + res.stderr
    assert not (run_dir / 'state.json').exists()


OVS_CTL = '/usr/share/openvswitch/scripts/ovs-ctl'


@pytest.fixture
def ovs():
    """Open vSwitch answering (started here if it was not, and stopped again)."""
    if not os.path.exists(OVS_CTL):
        pytest.skip('needs Open vSwitch (openvswitch-switch)')
    answers = subprocess.run(['ovs-vsctl', '--timeout=3', 'show'],
                             capture_output=True).returncode == 0
    if not answers:
        subprocess.run([OVS_CTL, 'start'], check=True, capture_output=True, timeout=60)
    made = []
    yield made
    for name in made:
        subprocess.run(['ovs-vsctl', '--if-exists', 'del-br', name], capture_output=True)
    if not answers:
        subprocess.run([OVS_CTL, 'stop'], capture_output=True, timeout=60)


def ovs_bridge_exists(name):
    return subprocess.run(['ovs-vsctl', 'br-exists', name]).returncode == 0


def test_clean_net_deletes_only_the_ovs_bridge_marked_as_the_runs(run_dir, ovs):
    ours, unmarked = f'{NAME_PREFIX}o0', f'{NAME_PREFIX}o1'
    for name, mark in ((ours, [f'external-ids:bindlab={RUN_ID}']), (unmarked, [])):
        ovs.append(name)
        subprocess.run(['ovs-vsctl', 'add-br', name, '--', 'set', 'bridge', name,
                        'datapath_type=netdev'] + mark, check=True)
    plant(run_dir, ovs_bridges=[ours, unmarked])
    res = clean_net()
    assert res.returncode == 0, res.stdout + res.stderr
    assert not ovs_bridge_exists(ours)
    assert ovs_bridge_exists(unmarked)
    assert f"ovs bridge {unmarked} exists but is not this run's" in res.stdout + res.stderr


TWO_SWITCHES = '''
"""h1 - s1 - s2 - h2, with one connect that waits 2 s: time to SIGKILL the run."""
import sys
sys.path.insert(0, %r)
from mininet.topo import Topo
from harness.scenario import Scenario, connect, explicit

class _TwoSwitches(Topo):
    def build(self):
        s1, s2 = self.addSwitch('s1'), self.addSwitch('s2')
        self.addLink(self.addHost('h1', ip='10.0.0.1/24'), s1)
        self.addLink(s1, s2)
        self.addLink(self.addHost('h2', ip='10.0.0.2/24'), s2)

scenarios = [Scenario(
    name='two-switches', title='a switch-to-switch veth', topo=_TwoSwitches,
    cases=(connect('h1', '10.0.0.99', 7001, explicit('ETIMEDOUT', 'nobody holds .99'),
                   options=('timeout=2000',)),),
)]
''' % hu.REPO


def test_sigkilled_run_marked_what_it_made_and_clean_net_spares_a_foreign_s2(
        tmp_path, made_links):
    scenario = tmp_path / 'two_switches.py'
    scenario.write_text(TWO_SWITCHES)
    proc = hu.start('run', '--scenario-file', str(scenario), '--switch', 'lxbr',
                    '--out', str(tmp_path / 'out'))
    st = hu.wait_for_state(proc, hu.probing)
    hu.interrupt(proc, signal.SIGKILL)
    made_links.append('s2')
    names = st['links'] + st['bridges']
    # The bridges and the switch-to-switch veth stay when the run dies; each of them,
    # and every other recorded interface still there, carries the run's mark.
    assert {'s1', 's2', 's1-eth2', 's2-eth1'} <= set(names) & hu.links()
    for name in set(names) & hu.links():
        try:
            with open(f'/sys/class/net/{name}/ifalias') as f:
                alias = f.read().strip()
        except FileNotFoundError:   # a veth whose namespace's death is deleting it now
            continue
        assert alias == f'bindlab:{st["run_id"]}', name
    # Someone else takes the name s2 (the run's bridge is gone, a new one is not ours).
    subprocess.run(['ip', 'link', 'del', 'dev', 's2'], check=True)
    subprocess.run(['ip', 'link', 'add', 'name', 's2', 'type', 'bridge'], check=True)
    res = clean_net()
    assert res.returncode == 0, res.stdout + res.stderr
    assert "interface s2 exists but is not this run's" in res.stdout + res.stderr
    assert hu.links() & set(names) == {'s2'}
    assert st['netns'] and not hu.processes_in(st['netns'])
    assert hu.read_state() is None



# -- work folders: clean-net under another BINDLAB_RUN_DIR spares a live run's ---------

HELD_OPEN = '''
import sys
sys.path.insert(0, %r)
from harness.scenario import Scenario, connect, explicit, nft
from topologies.wrong_host import WrongHostTopo

scenarios = [Scenario(
    name='held-open', title='one connect whose SYNs h3 drops (6 s)', topo=WrongHostTopo,
    faults=(nft('h3', 'table inet t {\\n chain i {\\n  type filter hook input priority 0;\\n'
                '  tcp dport 7001 drop\\n }\\n}\\n', why='h3 drops SYNs to 7001'),),
    cases=(connect('h2', '10.0.0.3', 7001, explicit('ETIMEDOUT', 'h3 drops the SYN'),
                   options=('timeout=6000',)),),
)]
''' % hu.REPO


def run_folder_files(path):
    """The run's own folder ('work-' + ...) among the names in path: the one made when
    the network opens and removed when it closes (not a step's short-lived one)."""
    return {os.path.join(path, n) for n in os.listdir(path) if n.startswith('work-')
            and not n.startswith(('work-shell-', 'work-batch', 'work-script-'))}


def test_clean_net_under_another_run_dir_spares_a_live_runs_work_folder(tmp_path, spawn):
    """Where RUN_DIR is on disk, every run's work folders go to /dev/shm/bindlab, shared
    by all run folders, whose locks do not see each other: clean-net under run folder B
    removes a folder only when the process that made it is gone, so a run probing
    under run folder A keeps its folder and passes; an ended process's folder goes."""
    dirs = {k: tmp_path / k for k in ('a', 'b')}
    for path in dirs.values():
        path.mkdir()
    if workdirs._fs_type(str(dirs['a'])) == 'tmpfs' or \
            workdirs._fs_type('/dev/shm') != 'tmpfs':
        pytest.skip('work folders go to the run folder itself here, not to /dev/shm')
    shm = workdirs.SHM_DIR
    os.makedirs(shm, mode=0o700, exist_ok=True)
    env = {k: dict(hu.env(), BINDLAB_RUN_DIR=str(path)) for k, path in dirs.items()}
    scenario = tmp_path / 'held_open.py'
    scenario.write_text(HELD_OPEN)
    ended = running(spawn(['sleep', '600']), 'sleep')
    gone = os.path.join(shm, f'work-{ended.pid}.{hu.start_time(ended.pid)}.'
                             f'{os.stat("/proc/self/ns/pid").st_ino}-test')
    os.killpg(ended.pid, signal.SIGKILL)
    ended.wait()
    before = run_folder_files(shm)
    proc = subprocess.Popen([hu.PYTHON, '-m', 'harness', 'run', '--switch', 'lxbr',
                             '--scenario-file', str(scenario), '--out', str(tmp_path / 'out')],
                            cwd=hu.REPO, env=env['a'], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        def probing():
            assert proc.poll() is None, proc.stderr.read()
            try:
                return hu.probing(json.loads((dirs['a'] / 'state.json').read_text()))
            except (FileNotFoundError, ValueError):
                return False
        wait_until(probing, 'the run under A probes', timeout=120)
        live = run_folder_files(shm) - before
        assert len(live) == 1, live
        os.mkdir(gone, 0o700)
        res = subprocess.run([hu.PYTHON, '-m', 'harness', 'clean-net'], cwd=hu.REPO,
                             env=env['b'], capture_output=True, text=True,
                             timeout=hu.RUN_GUARD_S)
        assert res.returncode == 0, res.stdout + res.stderr
        assert proc.poll() is None, 'the run ended before clean-net did: no test\n' + \
            proc.stdout.read()[-2000:] + proc.stderr.read()[-2000:]
        assert all(os.path.isdir(p) for p in live), \
            'clean-net under B removed the live run\'s work folder'
        assert not os.path.exists(gone), 'the ended process\'s work folder is still there'
    finally:
        out, err = proc.communicate(timeout=hu.RUN_GUARD_S)
        shutil.rmtree(gone, ignore_errors=True)
    assert proc.returncode == 0, out[-2000:] + err[-2000:]
    assert not any(os.path.exists(p) for p in live), 'the run left its work folder'


# -- 7: what a SIGKILLed run leaves in memory is swept by the next session -------------

def owned_folders():
    """The work folders (in RUN_DIR and in memory) and lab bin folders there are now."""
    roots = {workdirs.RUN_DIR, workdirs.SHM_DIR}
    return {os.path.join(root, d) for root in roots if os.path.isdir(root)
            for d in os.listdir(root) if d.startswith(('work-', 'bin-'))}


def test_the_next_run_sweeps_a_sigkilled_runs_work_folders(tmp_path):
    """A run killed with SIGKILL mid-run (wrong-host, one connect waiting 2 s) leaves
    its work folders; the next run (refused: the killed run left its network)
    removes them, as its session starts."""
    before = owned_folders()
    proc = hu.start('run', '--scenario-file', hu.slow_scenario_file(tmp_path), '--switch',
                    'lxbr', '--out', str(tmp_path / 'out'))
    hu.wait_for_state(proc, hu.probing)
    hu.interrupt(proc, signal.SIGKILL)
    dead = owned_folders() - before
    try:
        assert dead, 'the killed run had no work folder'
        res = hu.harness('run', 'wrong-host', '--switch', 'lxbr', '--out',
                         str(tmp_path / 'next'))
        assert res.returncode == 2 and 'clean-net' in res.stderr, res.stderr
        assert not dead & owned_folders(), 'the next run left dead work folders'
    finally:
        assert clean_net().returncode == 0


def test_the_next_run_sweeps_a_sigkilled_labs_bin_folder(tmp_path):
    """The lab's bin folder (netprobe and seed-server on the hosts' PATH) of a lab
    killed with SIGKILL goes with the next session; a lab that ends removes it."""
    before = owned_folders()
    with open(tmp_path / 'lab.out', 'w') as out:
        lab = subprocess.Popen([hu.PYTHON, '-m', 'harness.lab', 'wrong-host', '--switch',
                                'lxbr'], cwd=hu.REPO, env=hu.env(), stdin=subprocess.PIPE,
                               stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: any(os.path.basename(p).startswith('bin-')
                               for p in owned_folders() - before) or lab.poll() is not None,
                   'the lab made its bin folder', timeout=120)
        assert lab.poll() is None, (tmp_path / 'lab.out').read_text()
    finally:
        lab.kill()
        lab.wait()
    dead = {p for p in owned_folders() - before if os.path.basename(p).startswith('bin-')}
    try:
        res = hu.harness('run', 'wrong-host', '--switch', 'lxbr', '--out', str(tmp_path))
        assert res.returncode == 2 and 'clean-net' in res.stderr, res.stderr
        assert not dead & owned_folders(), 'the next run left the dead lab\'s bin folder'
    finally:
        assert clean_net().returncode == 0
        lab_file = os.path.join(workdirs.RUN_DIR, 'lab.json')
        if os.path.exists(lab_file):
            with open(lab_file) as f:
                if json.load(f).get('pid') == lab.pid:
                    os.unlink(lab_file)     # the killed lab's own record of itself
