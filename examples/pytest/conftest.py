"""bindlab's pytest plugin for the tests of this folder, and one shared network.

`pytest_plugins` works in the top conftest.py of a run (run pytest on this folder,
or put the line in your own project's conftest.py); `pytest -p
bindlab.pytest_plugin` does the same from the command line.

`shared_wrong_host` is one wrong-host network for every test of a module that only
looks at it (a network takes seconds to build); a test that changes its network
takes its own from the plugin's `bindlab_net`.
"""

import pytest

import bindlab

pytest_plugins = ['bindlab.pytest_plugin']


@pytest.fixture(scope='module')
def shared_wrong_host():
    """The wrong-host network, built once per module and torn down after it."""
    with bindlab.network('wrong-host') as net:
        yield net
