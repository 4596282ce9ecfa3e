"""Each host's own resolver files, in both builders, and nothing of them left behind.

A scenario's HostFiles give one host its own /etc/hosts and /etc/resolv.conf,
bind-mounted in that host's own mount namespace, and its own hostname, in a UTS
namespace of its own (harness/net/hostfiles.py).  Built
by tests/hostfiles_probe.py with each builder, h1 must see its files through its
shell and through a process started from outside (the path of the user's programs),
h2 the machine's own; the machine's /etc, mount table and hostname stay as they were, and no
process anywhere still has a mount of the run's files once the run ended, or once a
SIGKILLed run was cleaned up by `clean-net`.  From another process (a lab's check),
net.own_mounts tells the host with files from the one without, and enter_argv
reaches its files.

Whatever the machine's nsswitch.conf says, a host given its own hosts or resolv.conf
resolves by `files dns` (a pinned copy is mounted beside them): the `names` scenario
is run in a private mount namespace of the test's own whose nsswitch.conf says
`hosts: dns` (the hosts files never read) or `hosts: files` (DNS never asked, as
after `files myhostname`), and in one with no nsswitch.conf at all (glibc 2.35 and
later resolve by `files dns` without one), and every name cell still gives the
scenario's outcome; so do the name mutations on one network, each undone.  Run under the Mininet flock.
"""

import glob
import hashlib
import json
import os
import signal
import stat
import subprocess

import socket

import pytest

import harness_util as hu
from harness.net import enter_argv, own_mounts, own_uts
from harness.net.hostfiles import pinned_nsswitch

PROBE = os.path.join(hu.REPO, 'tests', 'hostfiles_probe.py')
ETC = ('/etc/hosts', '/etc/resolv.conf', '/etc/gai.conf', '/etc/nsswitch.conf')
# The names scenario's name cells and what each gives through its host's own files.
NAME_CELLS = {
    ('h1', 'tcp localhost'): '::1 EADDRNOTAVAIL',
    ('h1', 'tcp localhost:6379'): '::1 EADDRNOTAVAIL',
    ('h2', 'tcp app'): '127.0.1.1 OK',
    ('h2', 'tcp app:7001'): '127.0.1.1 ECONNREFUSED',
    ('h2', 'tcp api.example.test:6379'): 'EAI_AGAIN',
    ('h3', 'tcp db.test'): '10.0.0.30 EADDRNOTAVAIL',
    ('h3', 'tcp db1'): 'EAI_AGAIN',
    ('web', 'tcp www.example.test'): '203.0.113.1 EADDRNOTAVAIL'}
# In a private mount namespace (unshare -m: it dies with the run), $1 over
# /etc/nsswitch.conf, checked there, then the command.
HOSTILE = 'mount --bind "$1" /etc/nsswitch.conf && cmp -s "$1" /etc/nsswitch.conf || ' \
          'exit 3; shift; exec "$@"'
# The same with no /etc/nsswitch.conf: a read-only overlay of /etc whose top layer
# ($1) holds its whiteout.
WITHOUT = 'mount -t overlay overlay -o "lowerdir=$1:/etc" /etc && ' \
          '! test -e /etc/nsswitch.conf || exit 3; shift; exec "$@"'


def machine():
    """What must not change: the root mount table, the machine's resolver files and
    its hostname."""
    digest = {'hostname': socket.gethostname()}
    for path in ('/proc/self/mountinfo',) + ETC:
        try:
            with open(path, 'rb') as f:
                digest[path] = hashlib.sha256(f.read()).hexdigest()
        except FileNotFoundError:
            digest[path] = None
    return digest


def mounted_anywhere(folder):
    """/proc/PID of every process that still has a mount of a file under folder."""
    base = os.path.basename(folder.rstrip('/'))
    found = []
    for path in glob.glob('/proc/[0-9]*/mountinfo'):
        try:
            with open(path, errors='replace') as f:
                if base in f.read():
                    found.append(os.path.dirname(path))
        except OSError:
            pass
    return found


@pytest.fixture(scope='module')
def before():
    return machine()


@pytest.mark.parametrize('builder', ['fast', 'mininet'])
def test_a_host_sees_its_own_files_and_only_it(builder, before):
    proc = subprocess.run([hu.PYTHON, PROBE, '--builder', builder], cwd=hu.REPO,
                          env=hu.env(), capture_output=True, text=True,
                          timeout=hu.RUN_GUARD_S)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen['built_by'] == builder
    for how in ('shell', 'popen'):
        h1, h2 = seen['h1'][how], seen['h2'][how]
        assert 'only-h1.test' in h1['hosts'] and '10.0.0.9' in h1['getent'], (how, h1)
        assert h1['resolv'].startswith('nameserver 127.0.0.1'), (how, h1)
        with open('/etc/hosts') as f:
            assert h2['hosts'] == f.read(), (how, h2)
        assert h2['getent'] == '', (how, h2)
        assert h1['hostname'] == 'only-h1\n', (how, h1)
        assert h1['self'].startswith('127.0.1.1 '), (how, h1)   # its own name, its file
        assert h2['hostname'] == socket.gethostname() + '\n', (how, h2)
    assert machine() == before
    assert not mounted_anywhere(seen['folder'])


def test_a_sigkilled_run_leaves_no_mount_after_clean_net(before):
    proc = subprocess.Popen([hu.PYTHON, PROBE, '--builder', 'fast', '--hold'], cwd=hu.REPO,
                            env=hu.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        ready = json.loads(proc.stdout.readline() or '{}')
        assert ready.get('ready'), proc.stderr.read() if proc.poll() is not None else ready
        assert mounted_anywhere(ready['folder']), 'the files were never mounted'
        # what a lab's check, from another process, goes by (labfile.NsHost)
        assert own_mounts(ready['pids']['h1']) and not own_mounts(ready['pids']['h2'])
        with subprocess.Popen(enter_argv(ready['pids']['h1'], True) + ['cat', '/etc/hosts'],
                              stdout=subprocess.PIPE, text=True) as cat:
            assert 'only-h1.test' in cat.communicate(timeout=10)[0]
        h1_uts = enter_argv(ready['pids']['h1'], True, own_uts(ready['pids']['h1']))
        assert own_uts(ready['pids']['h1']) and not own_uts(ready['pids']['h2'])
        assert subprocess.run(h1_uts + ['hostname'], capture_output=True, text=True,
                              timeout=10).stdout == 'only-h1\n'
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    res = hu.harness('clean-net')
    assert res.returncode == 0, res.stdout + res.stderr
    assert not mounted_anywhere(ready['folder'])
    assert not os.path.exists(ready['folder'])
    assert machine() == before


def names_run(tmp_path, script, arg):
    """The names scenario run in a private mount namespace set up by script (given
    arg); {(host, column): cell} of its matrix."""
    res = hu.harness('run', '--out', str(tmp_path / 'out'), 'names', prefix=(
        'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', arg))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    with open(os.path.join(os.path.realpath(tmp_path / 'out' / 'latest'), 'names',
                           'matrix.json')) as f:
        return {(c['host'], c['column']): c for c in json.load(f)['cells']}


@pytest.mark.parametrize('line', ['hosts: dns', 'hosts: files'])
def test_own_files_resolve_by_files_dns_whatever_the_machine_nsswitch_says(
        tmp_path, line, before):
    hostile = tmp_path / 'nsswitch.conf'
    hostile.write_text(f'passwd: files\n{line}\n')
    cells = names_run(tmp_path, HOSTILE, str(hostile))
    assert {k: cells[k]['actual'] for k in NAME_CELLS} == NAME_CELLS
    assert all(c['verdict'] == 'pass' for c in cells.values())
    assert machine() == before      # the hostile file lived in the test's namespace only


def test_name_mutations_resolve_by_files_dns_and_are_undone(tmp_path, before):
    """The name mutations on one network under a machine file saying `hosts: dns`:
    each target's own files are read (every cell the rules' outcome), and each undo,
    the pinned nsswitch.conf's unmount included, is proved (the network stays
    shared)."""
    hostile = tmp_path / 'nsswitch.conf'
    hostile.write_text('hosts: dns\n')
    out = tmp_path / 'out'
    res = hu.harness('run', '--out', str(out), '--topo', 'single,2', '--mutate',
                     'localhost-v6,hosts-stale,name-public,dns-down', '--mutate-hosts', 'h1',
                     '--mutate-networks', 'shared', prefix=(
                         'unshare', '-m', '--propagation', 'private', 'sh', '-c', HOSTILE,
                         'sh', str(hostile)))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    with open(os.path.join(os.path.realpath(out / 'latest'), 'single-2',
                           'mutations.json')) as f:
        entries = json.load(f)['mutations']
    assert [(e['name'], e['network'], e['problem']) for e in entries] == [
        (name, 'shared', None) for name in ('localhost-v6', 'hosts-stale', 'name-public',
                                            'dns-down')]
    for entry in entries:
        assert [c for c in entry['cells'] if c['verdict'] != 'pass'] == [], entry['name']
    assert machine() == before


def test_without_an_nsswitch_conf_a_new_glibc_needs_none(tmp_path, before):
    """glibc 2.35 and later resolve by `files dns` without an nsswitch.conf: nothing
    is pinned and the cells are the scenario's; an older one is refused, naming the
    fix."""
    top = tmp_path / 'top'
    top.mkdir()
    os.mknod(top / 'nsswitch.conf', 0o600 | stat.S_IFCHR, os.makedev(0, 0))  # a whiteout
    check = subprocess.run(
        ['unshare', '-m', '--propagation', 'private', 'sh', '-c', WITHOUT, 'sh', str(top),
         hu.PYTHON, '-c', 'import json; from harness.scenarios import nsswitch_unpinnable '
         "as u; print(json.dumps([u(), u('glibc 2.33'), u('glibc 2.40')]))"],
        cwd=hu.REPO, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    here, old, new = json.loads(check.stdout)
    assert 'create /etc/nsswitch.conf with the line `hosts: files dns`' in old, old
    assert new is None
    glibc = tuple(int(n) for n in os.confstr('CS_GNU_LIBC_VERSION').split()[1].split('.')[:2])
    if glibc < (2, 35):             # its built-in order asks DNS first: refused
        assert 'create /etc/nsswitch.conf' in here, here
        return
    assert here is None
    cells = names_run(tmp_path, WITHOUT, str(top))
    assert {k: cells[k]['actual'] for k in NAME_CELLS} == NAME_CELLS
    assert machine() == before


def test_the_pinned_nsswitch_keeps_every_other_line():
    ubuntu = (b'passwd:   files systemd\n# hosts: not this one\n'
              b'hosts:    files mdns4_minimal [NOTFOUND=return] dns myhostname\n'
              b'networks: files\n  HOSTS : files resolve [!UNAVAIL=return] dns\n')
    assert pinned_nsswitch(ubuntu) == (b'passwd:   files systemd\n# hosts: not this one\n'
                                       b'hosts: files dns\nnetworks: files\n'
                                       b'hosts: files dns\n')
    assert pinned_nsswitch(b'passwd: files') == b'passwd: files\nhosts: files dns\n'
