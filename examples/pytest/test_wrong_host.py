"""The seed's Errno 99 as a pytest suite of your own, on the wrong-host network.

    sudo /usr/bin/python3 -m pytest examples/pytest        (in a clone, after make)

h1, h2 and h3 sit on one switch at 10.0.0.1, .2 and .3; every host serves TCP on
port 7001.  Copy this folder into your project and write your own tests the same
way: a cell (net.bind, net.connect) carries what happened (`actual`, an errno name
or OK; `peer`, who answered) and, where the scenario has the same case, what was
expected and why (`expected`, `reason`, `verdict`).
"""

import os

SEED_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                           'seed_server.py')


def test_h2_cannot_bind_the_address_of_h1(shared_wrong_host):
    cell = shared_wrong_host.bind('h2', '10.0.0.1', 6677)
    assert cell.actual == 'EADDRNOTAVAIL'
    assert cell.verdict == 'pass', cell          # the scenario expects it, and says why
    assert shared_wrong_host.bind('h1', '10.0.0.1', 6677).actual == 'OK'


def test_a_connect_is_answered_by_the_host_holding_the_address(shared_wrong_host):
    cell = shared_wrong_host.connect('h1', '10.0.0.2', 7001)
    assert cell.actual == 'OK'
    assert cell.peer == 'h2'


def test_the_seed_server_dies_with_errno_99_on_h2(shared_wrong_host):
    done = shared_wrong_host.host('h2').run(['/usr/bin/python3', SEED_SERVER])
    assert done.returncode != 0
    assert '[Errno 99] Cannot assign requested address' in done.stderr
