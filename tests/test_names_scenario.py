"""The names scenario with a user's own client given {name}, and name cases checked.

A Python client (tests/programs/python/client.py: asyncio.open_connection) given
`{name}` resolves `localhost` itself, inside h1 with h1's own hosts file: it meets
the Docker Errno 99 at ::1 (the cell says `::1 EADDRNOTAVAIL`, by the tracer, and
carries what libbindtrace.so saw the program's getaddrinfo() return), and once the
hosts file is fixed (the lab's own fix: `127.0.0.1 localhost` added) it connects to
127.0.0.1.  A name that does not resolve makes no call at all: the cell is the
resolver's EAI_AGAIN, from the traced getaddrinfo().  Without a network: what
validate() refuses in a name case.
Run under the Mininet flock.
"""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from harness.scenario import (Expect, ScenarioError, bind, connect,  # noqa: E402
                              validate)
from harness.scenarios import suite  # noqa: E402

PYTHON = '/usr/bin/python3'
CLIENT = f'python3 {REPO}/tests/programs/python/client.py {{name}} {{port}} 0.0.0.0'
FIXED = '''
import dataclasses, sys
sys.path.insert(0, %r)
from harness.scenario import Expect, HostFiles
from topologies import names as _names

_sc = _names.scenarios[0]
_h1 = HostFiles('h1', hosts='127.0.0.1 localhost\\n' + _names._H1_HOSTS)


def _fixed(case):
    if case.host == 'h1' and case.addr == 'localhost':
        return dataclasses.replace(case, expect=Expect(
            '127.0.0.1 OK', 'the hosts file has localhost on 127.0.0.1 again'))
    return case


scenarios = [dataclasses.replace(_sc, name='names-fixed', host_files=(_h1,) +
                                 _sc.host_files[1:],
                                 cases=tuple(_fixed(c) for c in _sc.cases))]
''' % REPO


def run(tmp_path, *args):
    env = dict(os.environ, NETPROBE=os.path.join(REPO, 'build', 'netprobe'))
    res = subprocess.run([PYTHON, '-m', 'harness', 'run', '--out', str(tmp_path)] +
                         list(args), cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    folder = os.path.realpath(tmp_path / 'latest')
    name = args[0] if not args[0].startswith('-') else 'names-fixed'
    with open(os.path.join(folder, name, 'matrix.json')) as f:
        cells = json.load(f)['cells']
    return res, {(c['host'], c['column']): c for c in cells}


def test_a_python_client_by_name_gets_errno_99_until_the_hosts_file_is_fixed(tmp_path):
    res, cells = run(tmp_path / 'a', 'names', '--client', CLIENT)
    assert res.returncode == 0, res.stderr
    v6 = cells[('h1', 'tcp localhost:6379')]
    assert (v6['method'], v6['actual'], v6['verdict'], v6['resolved']) == \
        ('tracer', '::1 EADDRNOTAVAIL', 'pass', ['::1']), v6
    assert 'client.py localhost 6379' in v6['program']
    assert cells[('h2', 'tcp app:7001')]['actual'] == '127.0.1.1 ECONNREFUSED'
    dns = cells[('h2', 'tcp api.example.test:6379')]
    assert (dns['method'], dns['actual'], dns['verdict']) == ('tracer', 'EAI_AGAIN', 'pass')
    assert 'Temporary failure in name resolution' in dns['message'], dns
    # netprobe's own cells of the same scenario carry the resolved list
    assert cells[('h1', 'tcp localhost')]['resolved'] == ['::1']
    # the server behind NAT, binding the public name: the router's public address
    public = cells[('web', 'tcp www.example.test')]
    assert (public['actual'], public['verdict'], public['resolved']) == \
        ('203.0.113.1 EADDRNOTAVAIL', 'pass', ['203.0.113.1']), public
    assert cells[('web', 'tcp 192.168.1.50')]['actual'] == 'OK'

    scenario_file = tmp_path / 'fixed.py'
    scenario_file.write_text(FIXED)
    res, cells = run(tmp_path / 'b', '--scenario-file', str(scenario_file), '--client',
                     CLIENT)
    fixed = cells[('h1', 'tcp localhost:6379')]
    assert (fixed['method'], fixed['actual'], fixed['verdict']) == \
        ('tracer', '127.0.0.1 OK', 'pass'), fixed
    assert fixed['resolved'][0] == '127.0.0.1'      # ::1 sorted last: h1 has no IPv6
    bound = cells[('h1', 'tcp localhost')]
    assert bound['actual'] == '127.0.0.1 OK' and bound['resolved'][0] == '127.0.0.1'


@pytest.mark.parametrize('case, why', [
    (bind('h1', 'localhost', 80, Expect('EADDRNOTAVAIL', 'x', 'explicit')),
     "not an EAI_ name or 'ADDR OK|ERRNO'"),
    (bind('h1', 'localhost', 80, Expect('::1 ENOSUCH', 'x', 'explicit')), 'ADDR OK|ERRNO'),
    (connect('h1', 'db.test', 80, Expect('EAI_NONAME', 'x', 'explicit'),
             options=('hold',)), 'takes no hold'),
    (bind('h1', 'localhost', 80, Expect('EAI_AGAIN', 'x', 'explicit'),
          options=('resolve=some',)), 'unknown option'),
    (connect('h1', 'localhost', 80, Expect('EAI_AGAIN', 'x', 'explicit'),
             options=('resolve=all',)), 'is for a bind'),
    (bind('h1', 'local host', 80, Expect('OK', 'x', 'explicit')), 'space'),
])
def test_a_malformed_name_case_is_refused(case, why):
    names = suite.find('names')
    bad = type(names)(**{**names.__dict__, 'cases': (case,)})
    with pytest.raises(ScenarioError, match=why.replace('|', '\\|').replace('(', '\\(')):
        validate(bad, bad.topo())
