"""bindlab for your own Python code and test suites: a scenario's live network.

    import bindlab

    with bindlab.network('wrong-host') as net:           # root; one network at a time
        cell = net.bind('h2', '10.0.0.1', 6677)          # a cell, as in matrix.json
        assert cell.actual == 'EADDRNOTAVAIL', cell
        print(net.host('h1').run(['ip', '-br', 'addr']).stdout)

In pytest: `pytest -p bindlab.pytest_plugin` (or `pytest_plugins =
['bindlab.pytest_plugin']` in your conftest.py) gives the fixture `bindlab_net`; see
bindlab/pytest_plugin.py and examples/pytest/.

Modules:
    net.py            network(): the harness's own pipeline around one scenario's
                      network (lock, switch, build -> setup -> ready -> faults ->
                      servers, teardown); Net (host, bind, connect, cells), Host
                      (run, popen), Cell (a cell with its fields as attributes).
    pytest_plugin.py  the fixture, the marker, the options, the cells of a failed
                      test in its report.

This package sits on top of the harness (harness/, see harness/__init__.py) and is
found beside it in a clone.  An installed one lies where Python finds packages
($(pythondir)/bindlab) while the harness lies in $(datadir)/bindlab: HOME below is
the folder holding the harness, relative to this package's folder, and `make
install` rewrites it (as it does in bin/bindlab).
"""

import os
import sys

HOME = '..'     # make install: $(datadir)/bindlab, relative to $(pythondir)/bindlab


def _harness_home():
    """The folder holding the harness package, put on sys.path once."""
    home = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), HOME))
    if home not in sys.path:
        sys.path.insert(0, home)
    return home


HARNESS_HOME = _harness_home()

from harness import __version__  # noqa: E402  (found through HARNESS_HOME)
from harness.scenario import explicit  # noqa: E402
from .net import Cell, Host, Net, NetworkError, network  # noqa: E402

__all__ = ['Cell', 'Host', 'Net', 'NetworkError', 'network', 'explicit', '__version__']
