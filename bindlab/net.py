"""A scenario's live network for code outside the harness; ad-hoc probes become cells.

    with network('wrong-host') as net:
        net.bind('h2', '10.0.0.1', 6677).actual            # 'EADDRNOTAVAIL'
        net.connect('h1', '10.0.0.2', 7001).peer           # 'h2'
        net.host('h2').run(['ip', '-br', 'addr'])          # a CompletedProcess

network() is the harness's own pipeline (harness/runner.py LiveNetwork) inside a
Session (harness/net/session.py), as a run and a lab use it: the run lock (one network
at a time on a machine; a second one is refused at once), the refusal of a killed
run's leftovers (`bindlab clean-net`), the switch, the state file, SIGTERM turned
into a teardown; then build -> setup -> ready -> faults -> servers.  When the `with`
ends -- normally, on an exception, Ctrl-C or SIGTERM -- the programs started with
Host.popen() are stopped by PID and the network is torn down as after a run.

Probing: Net.bind() and Net.connect() make one case (harness/scenario.py), probe it
with netprobe's own prober (probe.Batches: one `netprobe batch` in the host, so every
plan option works) and judge it with the one judge (harness/judge/judging.py).  The cell's
expectation is, in this order: the one given (`expect='OK'`, an errno name, or an
Expect such as explicit('OK', 'why', peer='h2')); else the scenario's own case for
the same call (same kind, host, addr, port, proto and options), with its reason and
rule; else none: `expected`, `reason` and `rule` are then None and so is `verdict`
(a call that could not be measured is still verdict 'error').  Net.cells() probes
every case of the scenario, as a run does.
"""

import collections
import os
import subprocess
from contextlib import contextmanager
from dataclasses import replace

from harness.judge import Cell as JudgeCell, cells
from harness.scenarios import derive
from harness.net import machine
from harness import probe
from harness.scenarios import suite
from harness.report.console import log
from harness.errors import UsageError
from harness.lab import probe_cells
from harness.ledger.procs import stop
from harness.report.results import new_run_id
from harness.runner import LiveNetwork
from harness.scenario import ERROR, OK, Expect, bind, connect, explicit, validate
from harness.net.session import Session

# The last cells probed in this process, oldest first: the pytest plugin clears it
# before each test and shows what a failed test probed.
PROBED = collections.deque(maxlen=200)
UNJUDGED = Expect(None, None, None)
_open_net = None        # the Net of this process while network() has one open
# What validate() sees for a case that has no expectation (it checks the call alone).
_STAND_IN = explicit('OK', 'a stand-in: no expectation given')


class NetworkError(UsageError):
    """The scenario's network could not be built or made ready (the message says why)."""


def scenario_for(name, scenario_files=(), topo=None, custom=()):
    """The Scenario called name, from the installed topologies/ or scenario_files;
    or, with topo, the one derived from that Mininet topology (--custom FILE
    --topo NAME,ARGS as the harness and mn take them: harness/scenarios/derive.py)."""
    if topo:
        return derive.derived(topo, [os.path.abspath(p) for p in custom])
    return suite.find(name, scenario_files)


@contextmanager
def network(scenario=None, switch='auto', scenario_files=(), topo=None, custom=()):
    """The live network of the scenario named, a Net, for the `with` body.

    Raises UsageError (not root, Mininet missing, unknown scenario, another run holds
    the lock: harness.ledger.state.LockBusy) before anything is built, and NetworkError when
    the network was built but never got ready (then it is already torn down).
    """
    global _open_net
    if _open_net is not None:
        raise UsageError(f'this process already has the {_open_net.scenario.name} network '
                         'open, and there is one network at a time: end it first (a '
                         'module-scoped fixture keeps its network until the module ends)')
    machine.check_root('run as root, e.g. sudo /usr/bin/python3 -m pytest')
    machine.check_environment(switch)
    sc = scenario_for(scenario, scenario_files, topo, custom)
    netprobe = probe.netprobe_path()
    with Session(switch, log, 'net-' + new_run_id()) as session:
        suite.fitting([sc], session.switch, log, machine.missing_modules)
        net = _open_net = Net(sc, session.switch, session.state, netprobe)
        try:
            net.open()
            yield net
        finally:
            _open_net = None
            net.close()


def _key(case):
    """What makes two cases the same call."""
    return (case.kind, case.host, case.addr, case.port, case.proto, tuple(case.options))


class Net:
    """One live network: its hosts, ad-hoc probes as cells, the scenario's own cells.

    scenario: the Scenario; mininet: the Mininet object (for what this class does not
    cover); switch: the switch kind used.
    """

    def __init__(self, scenario, switch, state, netprobe):
        self.scenario, self.switch, self.state, self.netprobe = (scenario, switch, state,
                                                                 netprobe)
        self.live, self.mininet = None, None
        self._procs = []
        self._topo = scenario.topo()
        self._cases = {_key(case): case for case in scenario.cases}

    def open(self):
        """Build and prepare the network and start its servers; NetworkError if not."""
        self.live = LiveNetwork(self.scenario, self.switch, self.state, self.netprobe,
                                log).open()
        self.mininet = self.live.net
        if self.live.problem is None and self.scenario.derived:
            self.scenario = self.live.derive()
            self._cases = {_key(case): case for case in self.scenario.cases}
        problem = self.live.problem or '; '.join(self.live.start_servers())
        if problem:
            raise NetworkError(f'{self.scenario.name}: {problem}')

    def close(self):
        """Stop what Host.popen() started (by PID), then tear the network down."""
        try:
            stop(self._procs)
            self.state.drop_pids([proc.pid for proc in self._procs])
            self._procs = []
        finally:
            if self.live is not None:
                self.live.close()
            self.live, self.mininet = None, None

    # -- hosts ----------------------------------------------------------------------------

    def host(self, name):
        """The Host called name; KeyError naming the hosts there are."""
        names = [h.name for h in self.mininet.hosts]
        if name not in names:
            raise KeyError(f'{self.scenario.name} has no host {name!r} (it has '
                           f'{", ".join(names)})')
        return Host(self, self.mininet.get(name))

    def track(self, proc, marker):
        """Record a process started in a host: stopped by PID when the network ends."""
        self.state.add_pid(proc.pid, marker)
        self._procs.append(proc)

    def untrack(self, proc):
        """Forget a process that has ended."""
        self.state.drop_pid(proc.pid)
        self._procs.remove(proc)

    # -- probes ---------------------------------------------------------------------------

    def bind(self, host, addr, port, proto='tcp', options=(), expect=None):
        """host binds addr:port now (TCP: and listens, as a server would); the Cell."""
        return self._probe(bind(host, addr, port, UNJUDGED, proto, options), expect)

    def connect(self, host, addr, port, proto='tcp', options=(), expect=None):
        """host connects to addr:port now (options: src=, sport=, timeout= ...); the
        Cell, whose `peer` says which host answered."""
        return self._probe(connect(host, addr, port, UNJUDGED, proto, options), expect)

    def cells(self):
        """Every case of the scenario probed now and judged: [Cell], matrix order."""
        out = [Cell(c.to_json()) for c in probe_cells(self.mininet, self.scenario, self.state,
                                            self.netprobe)]
        PROBED.extend(out)
        return out

    def _probe(self, case, expect):
        """Probe one case now and judge it against its expectation (see module)."""
        given = self._expectation(case, expect)
        validate(replace(self.scenario, cases=(replace(case, expect=given or _STAND_IN),)),
                 self._topo)
        alone = replace(self.scenario, cases=(replace(case, expect=given or UNJUDGED),))
        cell = Cell(probe_cells(self.mininet, alone, self.state, self.netprobe)[0].to_json())
        if given is None and cell['verdict'] != 'error':
            cell['verdict'] = None          # nothing to judge it against
        PROBED.append(cell)
        return cell

    def _expectation(self, case, expect):
        """The Expect of an ad-hoc case: the one given, else the scenario's, else None."""
        if isinstance(expect, Expect):
            return expect
        if expect is not None:
            return explicit(str(expect), f'the test expects {expect}')
        same = self._cases.get(_key(case))
        return same.expect if same else None


class Host:
    """A host of the live network: run commands inside it (its network namespace)."""

    def __init__(self, net, node):
        self.net, self.node, self.name = net, node, node.name

    def popen(self, argv, **kwargs):
        """Start argv (a list, no shell) inside the host; the subprocess.Popen.

        Keyword arguments go to Popen (stdout and stderr are pipes unless given;
        stdin is /dev/null).  NETPROBE_HOST and BINDTRACE_HOST name the host in the
        environment.  The process is recorded in the run's state file and, if it is
        still running when the network ends, stopped by PID (its process group).
        """
        argv = [str(a) for a in argv]
        kwargs.setdefault('stdin', subprocess.DEVNULL)
        kwargs.setdefault('env', dict(os.environ, NETPROBE_HOST=self.name,
                                      BINDTRACE_HOST=self.name))
        proc = self.node.popen(argv, **kwargs)
        self.net.track(proc, os.path.basename(argv[0]))
        return proc

    def run(self, argv, timeout=60, input=None):
        """Run argv inside the host to its end; a CompletedProcess (text stdout and
        stderr).  Still running after timeout seconds: stopped, TimeoutExpired."""
        proc = self.popen(argv, stdin=subprocess.PIPE if input is not None else
                          subprocess.DEVNULL, text=True)
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except BaseException:
            stop([proc])
            raise
        finally:
            self.net.untrack(proc)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def __repr__(self):
        return f'<host {self.name} of {self.net.scenario.name}>'


class Cell(dict):
    """A cell as matrix.json holds it (the fields of harness/judge/cell.py: kind, host, addr, port, proto, options,
    column, expected, expected_peer, actual, peer, local, verdict, reason, rule,
    message, elapsed_us, method; a connect's after and expected_after), also readable
    as attributes: cell.actual, cell.after ('eof': connected, then closed).

    Its repr is one line with the call, what happened and why that was expected, so
    a failing `assert cell.actual == 'OK'` shows them in pytest's output.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f'a cell has no field {name!r}') from None

    def __repr__(self):
        return f'<cell {self.summary()}>'

    def summary(self):
        """'h2 bind tcp 10.0.0.1: EADDRNOTAVAIL (Cannot assign requested address);
        expected EADDRNOTAVAIL: 10.0.0.1 is not on h2 (h1 holds it); verdict pass'."""
        judged = JudgeCell(**{k: self.get(k) for k in (
            'kind', 'host', 'column', 'expected', 'actual', 'verdict', 'peer', 'after',
            'message')})
        what = cells.state(judged)
        if self['actual'] not in (OK, ERROR) and self.get('message'):
            what += f' ({self["message"]})'
        if self.get('expected') is None:
            return f'{cells.name(judged)}: {what}; no expectation given'
        expected = self['expected']
        if self.get('expected_peer'):
            expected += f' from {self["expected_peer"]}'
        return (f'{cells.name(judged)}: {what}; expected {expected}: {self.get("reason")}; '
                f'verdict {self["verdict"]}')
