"""Fix the seed's Errno 99 the way the lab sheet does, and see the cell turn green.

Each test here changes its network, so each takes its own from the plugin's
`bindlab_net` (built for the test, torn down after it); the marker names the
scenario.
"""

import pytest

pytestmark = pytest.mark.bindlab('wrong-host')


def test_moving_the_address_to_h2_fixes_its_bind(bindlab_net):
    h1, h2 = bindlab_net.host('h1'), bindlab_net.host('h2')
    assert h1.run(['ip', 'addr', 'del', '10.0.0.1/24', 'dev', 'h1-eth0']).returncode == 0
    assert h2.run(['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'h2-eth0']).returncode == 0
    assert bindlab_net.bind('h2', '10.0.0.1', 6677, expect='OK').verdict == 'pass'
    assert bindlab_net.bind('h1', '10.0.0.1', 6677).actual == 'EADDRNOTAVAIL'
