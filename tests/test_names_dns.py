"""A DNS server in the network: the names-dns scenario (dnsmasq on h3, its records
from the scenario), with both builders.

The scenario's names go through h1's and h2's own resolv.conf to h3's dnsmasq: a name
it has a record of resolves (a connect reaches h2's app; h2 binds it, h1 binding it
is EADDRNOTAVAIL), a name of its domain without a record is EAI_NONAME, any other is
refused (EAI_AGAIN).  No dnsmasq of the run is left afterwards.  dnsmasq is installed
here if missing (scripts/install-debs dnsmasq-base); where it cannot be, the test is
skipped saying so.  Run under the Mininet flock.
"""

import glob
import json
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = '/usr/bin/python3'
MARK = b'--host-record=api.example.test,10.0.0.2'


@pytest.fixture(scope='module')
def dnsmasq():
    res = subprocess.run([os.path.join(REPO, 'scripts', 'install-debs'), 'dnsmasq-base'],
                         capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        pytest.skip(f'dnsmasq-base cannot be installed here: {res.stderr.strip()}')


def ours_running():
    """PIDs of dnsmasq processes with this scenario's record on their command line."""
    found = []
    for path in glob.glob('/proc/[0-9]*/cmdline'):
        try:
            with open(path, 'rb') as f:
                if MARK in f.read():
                    found.append(path.split('/')[2])
        except OSError:
            pass
    return found


@pytest.mark.parametrize('builder', ['fast', 'mininet'])
def test_names_through_a_dns_server_in_the_network(builder, dnsmasq, tmp_path):
    env = dict(os.environ, NETPROBE=os.path.join(REPO, 'build', 'netprobe'))
    res = subprocess.run([PYTHON, '-m', 'harness', 'run', 'names-dns', '--builder', builder,
                          '--out', str(tmp_path)], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    with open(os.path.join(os.path.realpath(tmp_path / 'latest'), 'names-dns',
                           'matrix.json')) as f:
        cells = {(c['host'], c['column']): c for c in json.load(f)['cells']}
    reached = cells[('h1', 'tcp api.example.test:7001')]
    assert (reached['actual'], reached['peer'], reached['resolved']) == \
        ('10.0.0.2 OK', 'h2', ['10.0.0.2'])
    assert cells[('h1', 'tcp api.example.test')]['actual'] == '10.0.0.2 EADDRNOTAVAIL'
    assert cells[('h1', 'tcp nosuch.example.test:7001')]['actual'] == 'EAI_NONAME'
    assert cells[('h1', 'tcp api.other.test:7001')]['actual'] == 'EAI_AGAIN'
    assert 'stopping process' not in res.stdout + res.stderr   # its own, not a leftover
    assert ours_running() == []


GO_CLIENT = os.path.join(REPO, 'build', 'programs', 'go', 'client')


def test_a_static_go_client_says_what_its_own_resolver_got(dnsmasq, tmp_path):
    """A static Go client (its own DNS client, no getaddrinfo: bindtrace-sys traces
    it) given each name: its cells carry the addresses of the DNS answers it read,
    and a name that did not resolve is the answer's EAI_ name, not NOCALL."""
    if not os.access(GO_CLIENT, os.X_OK):
        pytest.skip(f'{GO_CLIENT} is not built (make programs: needs golang-go)')
    env = dict(os.environ, NETPROBE=os.path.join(REPO, 'build', 'netprobe'))
    res = subprocess.run([PYTHON, '-m', 'harness', 'run', 'names-dns', '--out',
                          str(tmp_path), '--client', f'{GO_CLIENT} {{name}} {{port}} 0.0.0.0'],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    with open(os.path.join(os.path.realpath(tmp_path / 'latest'), 'names-dns',
                           'matrix.json')) as f:
        cells = {(c['host'], c['column']): c for c in json.load(f)['cells']}
    reached = cells[('h1', 'tcp api.example.test:7001')]
    assert (reached['method'], reached['actual'], reached['resolved']) == \
        ('syscall', '10.0.0.2 OK', ['10.0.0.2']), reached
    nosuch = cells[('h1', 'tcp nosuch.example.test:7001')]
    assert (nosuch['method'], nosuch['actual'], nosuch['verdict']) == \
        ('syscall', 'EAI_NONAME', 'pass'), nosuch
    assert 'NXDOMAIN' in nosuch['message'], nosuch
    other = cells[('h1', 'tcp api.other.test:7001')]
    assert (other['actual'], other['verdict']) == ('EAI_AGAIN', 'pass'), other
    assert 'REFUSED' in other['message'], other
