"""pytest fixtures for your own test suites: a bindlab scenario's network for a test.

Load it with `pytest -p bindlab.pytest_plugin`, or from your top conftest.py:

    pytest_plugins = ['bindlab.pytest_plugin']

    @pytest.mark.bindlab('wrong-host')
    def test_seed(bindlab_net):
        assert bindlab_net.bind('h2', '10.0.0.1', 6677).actual == 'EADDRNOTAVAIL'
        assert bindlab_net.connect('h1', '10.0.0.2', 7001).actual == 'OK'

`bindlab_net` is the scenario's live network (bindlab.net.Net: host(name).run(argv)
/ .popen(argv), bind(...), connect(...), cells()), built for the test and torn
down after it, pass or fail, exactly as after a run.  The scenario is named by the
test's `bindlab` marker (`pytestmark = pytest.mark.bindlab('wrong-host')` names it
for a whole module; keywords switch= and scenario_files=), else by
--bindlab-scenario.  For a network shared by several tests, make a wider fixture
from bindlab.network() (see examples/pytest/conftest.py).

Options: --bindlab-scenario NAME, --bindlab-switch KIND (auto, ovs, ovs-user, lxbr;
default auto), --bindlab-scenario-file FILE (repeatable: your own scenarios).

A failed test's report gets a section `bindlab cells`: every cell the test probed,
each with its outcome, its expectation and the reason.  Networks need root and
Mininet, and there is one at a time on a machine (the harness's run lock: a second
one is refused at once, so no pytest-xdist workers building networks side by
side).  A SIGTERM while a network is up tears it down and ends the session.
"""

import pytest

import bindlab
from bindlab import net as _net
from harness.errors import Interrupted, UsageError
from harness.net.machine import SWITCH_KINDS
from harness.ledger.state import LockBusy


def pytest_addoption(parser):
    group = parser.getgroup('bindlab', 'bindlab networks (bindlab_net)')
    group.addoption('--bindlab-scenario', metavar='NAME',
                    help='the scenario of tests without a bindlab marker')
    group.addoption('--bindlab-switch', default='auto', choices=SWITCH_KINDS,
                    help='the switch kind (default auto)')
    group.addoption('--bindlab-scenario-file', action='append', default=[],
                    metavar='FILE', help='also load the scenarios of FILE')
    group.addoption('--bindlab-topo', metavar='NAME[,ARG...]',
                    help='a Mininet topology (mn --topo syntax) instead of a scenario')
    group.addoption('--bindlab-custom', action='append', default=[], metavar='FILE',
                    help='a Mininet custom file (topos = {...}) for --bindlab-topo')


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'bindlab(scenario, switch=None, scenario_files=(), topo=None, '
        'custom=()): the scenario (or, with topo, the Mininet topology) whose network '
        'the bindlab_net fixture builds for the test')


def network_choice(request):
    """The keyword arguments of bindlab.network() for a test: its marker, else the
    options (scenario, switch, scenario_files; or topo and custom)."""
    marker = request.node.get_closest_marker('bindlab')
    args, kwargs = (marker.args, marker.kwargs) if marker else ((), {})
    option = request.config.getoption
    scenario = args[0] if args else option('--bindlab-scenario')
    topo = kwargs.get('topo') or (None if args else option('--bindlab-topo'))
    if not scenario and not topo:
        pytest.fail('bindlab_net: name the scenario: @pytest.mark.bindlab("wrong-host") '
                    'or --bindlab-scenario NAME (or a topology: topo="linear,4", '
                    '--bindlab-topo)', pytrace=False)
    return {'scenario': scenario, 'topo': topo,
            'switch': kwargs.get('switch') or option('--bindlab-switch'),
            'scenario_files': list(kwargs.get('scenario_files', ())) +
            option('--bindlab-scenario-file'),
            'custom': list(kwargs.get('custom', ())) + option('--bindlab-custom')}


@pytest.fixture
def bindlab_net(request):
    """The live network of the test's scenario (see the module), torn down after it."""
    problem = None
    try:
        with bindlab.network(**network_choice(request)) as net:
            yield net
    except (UsageError, LockBusy) as exc:    # not root, no such scenario, lock held ...
        problem = f'bindlab: {exc}'
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _net.PROBED.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report: every cell it probed.  SIGTERM: end the session."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and call.excinfo.errisinstance(Interrupted):
        item.session.shouldstop = 'bindlab: SIGTERM; the network was torn down'
    if report.failed and _net.PROBED:
        report.sections.append(('bindlab cells',
                                '\n'.join(cell.summary() for cell in _net.PROBED)))
