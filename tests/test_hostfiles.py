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
reaches its files.  Run under the Mininet flock.
"""

import glob
import hashlib
import json
import os
import signal
import subprocess

import socket

import pytest

import harness_util as hu
from harness.net import enter_argv, own_mounts, own_uts

PROBE = os.path.join(hu.REPO, 'tests', 'hostfiles_probe.py')
ETC = ('/etc/hosts', '/etc/resolv.conf', '/etc/gai.conf')


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
