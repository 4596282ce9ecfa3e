"""Any Mininet topology as a test network: `topo=` takes what `mn --topo` takes (and
`custom=[FILE]` what `mn --custom` takes).  Every host serves TCP on 7001 and UDP on
7002 (harness/scenarios/derive.py), so a connect has someone to answer it.
"""

import pytest


@pytest.mark.bindlab(topo='linear,3')
def test_a_linear_topology_has_the_seeds_errno_99(bindlab_net):
    assert bindlab_net.bind('h2', '10.0.0.1', 6677).actual == 'EADDRNOTAVAIL'
    assert bindlab_net.bind('h1', '10.0.0.1', 6677).actual == 'OK'
    cell = bindlab_net.connect('h1', '10.0.0.3', 7001)
    assert (cell.actual, cell.peer) == ('OK', 'h3')
