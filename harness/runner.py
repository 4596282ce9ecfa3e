"""The one live-network pipeline, and one scenario from build to judged cells.

    build -> setup -> ready -> faults      LiveNetwork (a context manager)
    -> servers                             live.start_servers(): readiness lines
    -> probers -> observations             netprobe batches, the user's programs
    -> one judge -> cells                  harness/judge/judging.py
    -> teardown (always)                   on success, failure, Ctrl-C, SIGTERM

A run (run_scenario), a mutation run (harness/mutations.py), a lab
(harness/lab/lab.py) and the benchmarks (bench/) all use LiveNetwork.  Anything that goes wrong before the probes is `live.problem` and turns
every cell into an `error` naming it; a server that must listen and did not turns
netprobe's connect cells into errors.  Teardown is Mininet's net.stop() followed by
removing whatever the state file still records, so a failed stop() leaves nothing
behind either; SIGINT and SIGTERM wait until it is done.

Probe-phase order with the user's programs (harness/probe/programs.py): the server programs
that choose their own address and port, on a network nobody has used yet (the
harness's own servers must not be in their way); netprobe's servers (a bind case that
meets a scenario server needs it listening); the server programs told the address, in
netprobe's place; netprobe's batches; the client programs, while the servers still
listen.  A case whose precondition a program cannot have (a socket held earlier in the
batch) stays netprobe's, and the cell says why.  When the scenario has timed steps, the
server programs that choose their own address start at the timeline's t=0 instead,
beside netprobe's batches, and are judged after the probe phase from their tracer's
records over time (harness/probe/intime.py).
"""

import os
import shutil
import signal
import time

from . import advice, gcpause
from .errors import EnvError, UsageError
from .judge import judge, ScenarioResult
from .ledger import clean as clean_state, work_folder
from .net import (apply_steps, build, builder_of, check_names_free, DEFAULT_BUILDER,
                  kernel_datapath_ports, mount_host_files, not_ready, own_uts_hosts, start,
                  start_dns_servers, stop, stop_dns_servers, Timeline, untimed)
from .probe import Batches, cases_of, InTime, ProgramRun, Servers, TcpCheck
from .scenarios import apply_control, complete, HostFiles, NotApplicable


class LiveNetwork:
    """A scenario's network, built and prepared, until close() (or the `with` ends).

    After open(): net (the Mininet object), topology (as built), steps (setup and
    faults as applied), problem (None, or why the network is not fit to probe),
    timings (build_s, prepare_s; teardown_s after close; run_scenario adds judge_s,
    the cells made of the observations), built_by (the builder
    that built it: network.BUILDERS; builder is the one asked for).  start_servers() starts
    the scenario's servers and sets connect_problem when one that must listen did not.
    """

    def __init__(self, scenario, switch, state, netprobe, log,
                 builder=DEFAULT_BUILDER):
        self.scenario, self.switch, self.state = scenario, switch, state
        self.netprobe, self.log = netprobe, log
        self.builder, self.built_by = builder, None
        self.net, self.topology, self.steps = None, None, []
        self.timeline = None        # the timed steps as they took effect (Timeline)
        self.problem, self.connect_problem = None, None
        self.timings = {'build_s': 0.0, 'prepare_s': 0.0, 'servers_s': 0.0,
                        'probe_s': 0.0, 'teardown_s': 0.0}
        self.servers = Servers(state)
        self.dns_jobs = []              # the scenario's DNS servers (net/resolvers.py)
        self.touched = set()            # the hosts a mutation's steps and holders ran on
        self.workdir = None
        # derive()'s World: read before the mutation (read_from); world, when set (by
        # a mutation run that proved its undo), is known to hold and is not read again
        self.world, self.read_from = None, None

    def __enter__(self):
        return self.open()

    def __exit__(self, *_exc):
        self.close()
        return False

    def open(self):
        """Build, set up, check readiness, apply the faults; problem says what failed."""
        self.workdir = work_folder('work-')
        t0 = time.monotonic()
        try:
            self._open(t0)
        except BaseException:       # Ctrl-C, SIGTERM: never leave half a network
            self.close()
            raise
        return self

    def _open(self, t0):
        try:
            topo = self.scenario.topo()
            check_names_free(topo)
            own_uts_hosts(topo, self.scenario.host_files)
            self.net = build(topo, self.switch, self.state, self.builder,
                                     self.log)
            self.built_by = builder_of(self.net)
            start(self.net, self.switch)
            self.topology = topology_as_built(self.net)
            self.timings['build_s'] = time.monotonic() - t0
            self.problem = self._prepare()
        except Exception as exc:  # a broken build must become error cells, not a traceback
            self.problem = str(exc) if isinstance(exc, EnvError) else \
                f'{type(exc).__name__}: {exc}'
        self.timings['prepare_s'] = time.monotonic() - t0 - self.timings['build_s']

    def _prepare(self):
        """Each host's own resolver files and DNS servers, setup steps, readiness checks (ping, then
        TCP), faults; an error text or None."""
        sc = self.scenario
        err = mount_host_files(self.net, sc.host_files, self.workdir) or \
            start_dns_servers(self.net, sc.dns_servers, self.state, self.workdir,
                              self.dns_jobs)
        if err:
            return err
        steps, err = apply_steps(self.net, self.scenario.setup, 'setup')
        self.steps += steps
        if err:
            return err
        failures = self._ready()
        if failures:
            return 'data plane never got ready: ' + '; '.join(failures[:5])
        if self.switch == 'ovs':
            on_kernel_datapath(self.net, self.topology)
        steps, err = apply_steps(self.net, untimed(self.scenario.faults), 'fault')
        self.steps += steps
        return err

    def _ready(self):
        """The network's readiness check (net/readiness.py: a TCP connect a ready
        pair, netprobe's servers listening; a ping where an address has no owner);
        what never worked, as text."""
        return not_ready(self.net, self.scenario,
                         TcpCheck(self.netprobe, self.state, self.workdir))

    def reuse(self, scenario):
        """Ready for another scenario on the same network (a mutation after the last
        one was undone): its own steps, problems, timings, servers and work folder
        (a program's output and trace files are named by its case, the same in every
        mutation: they must not meet the last one's)."""
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = work_folder('work-')
        self.scenario, self.steps, self.timeline = scenario, [], None
        self.problem, self.connect_problem = None, None
        self.timings = dict.fromkeys(self.timings, 0.0)
        self.servers, self.touched = Servers(self.state), set()

    def derive(self):
        """A derived scenario completed from the built network (derive.complete), its
        mutation's resolver files mounted, faults applied and port holders started:
        the scenario."""
        made = complete(self.scenario, self.net, self.world)
        self.scenario, self.read_from = made.scenario, made.world
        self.touched = {s.host for s in made.steps} | {s.host for s in made.holders}
        files = [h for h in made.holders if isinstance(h, HostFiles)]   # a name mutation's
        holders = [h for h in made.holders if not isinstance(h, HostFiles)]
        if files:           # mounted as a scenario's; the undo unmounts them (net/undo.py)
            folder = os.path.join(self.workdir, 'mutation')    # beside the scenario's own
            os.mkdir(folder)
            self.problem = mount_host_files(self.net, files, folder)
        if untimed(made.steps) and self.problem is None:  # timed steps: the timeline's
            applied, err = apply_steps(self.net, untimed(made.steps), 'fault')
            self.steps += applied
            if err:
                self.problem = err
        if holders and self.problem is None:  # there before any program or probe runs
            errors = self.servers.start_all(self.net, holders, self.netprobe,
                                            self.workdir)
            if errors:
                self.problem = 'the mutation could not hold its ports: ' + '; '.join(errors)
        return self.scenario

    def start_servers(self):
        """Start the scenario's servers, each awaited by its readiness line."""
        errors = self.servers.start_all(self.net, self.scenario.servers, self.netprobe,
                                        self.workdir)
        self.connect_problem = '; '.join(errors) if errors else None
        return errors

    def close(self):
        """Stop servers and the network, then remove whatever the state still records.

        SIGINT and SIGTERM are ignored meanwhile: a second Ctrl-C must not leave half
        a network behind.
        """
        t0 = time.monotonic()
        old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT,
                                                                     signal.SIGTERM)}
        try:
            self.servers.stop()
            stop_dns_servers(self.dns_jobs, self.state)
            stop(self.net, self.log)
            self.net = None
            left = clean_state(self.state.data, self.log)
            if left:
                self.log('could not remove: ' + ', '.join(left) +
                         f' (run: {advice("clean-net")})')
            else:
                self.state.forget_all()
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)
            if self.workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
                self.workdir = None
        self.timings['teardown_s'] = time.monotonic() - t0


@gcpause.pausing
def run_scenario(scenario, switch, state, netprobe, log, programs=(), prober=None,
                 builder=DEFAULT_BUILDER):
    """Run scenario on a fresh network; its ScenarioResult.

    programs: the user's programs (userprog.Program), run as probers beside netprobe.
    prober: a function scenario -> the netprobe-side prober (default probe.Batches);
    the benchmark passes its by-hand prober here to compare both on the same network.
    A derived scenario (scenario.derived) is completed once its network is built.
    builder: network.BUILDERS; the result's `builder` says which one built it.
    """
    with LiveNetwork(scenario, switch, state, netprobe, log, builder) as live:
        probed = probe_live(live, programs, prober)
    return judged(live, probed)


class Probed:
    """What probe_live saw: the scenario as completed, its observations and control
    measurements, the programs' run, why a mutation was skipped, the servers."""

    def __init__(self, scenario):
        self.scenario, self.observations, self.controls = scenario, {}, {}
        self.program_run, self.skipped, self.servers = None, None, []


def probe_live(live, programs=(), prober=None):
    """live.scenario on the open network live: completed if derived (its mutation
    applied), its servers, netprobe's batches and the programs; every server stopped
    after.  A prober that breaks, or a mutation this network cannot take, is
    live.problem (every cell an error naming it; a skip says so)."""
    make = prober or (lambda sc: Batches(sc, live.netprobe, live.state))
    got = Probed(live.scenario)
    try:
        if live.problem is None and got.scenario.derived:
            got.scenario = live.derive()
        if live.problem is None:
            got.program_run = ProgramRun(got.scenario, programs, live.state) \
                if programs else None
            got.observations, got.controls = probe_phase(live, make(got.scenario),
                                                         got.program_run)
    except NotApplicable as exc:   # a mutation this network cannot take
        got.skipped = live.problem = str(exc)
    except UsageError:
        raise
    except Exception as exc:  # a prober that broke: error cells naming it
        live.problem = f'{type(exc).__name__}: {exc}'
    finally:
        got.servers = live.servers.summary()
        live.servers.stop()
    return got


def judged(live, probed):
    """The ScenarioResult of what probe_live saw on live."""
    t0 = time.monotonic()
    scenario, program_run = probed.scenario, probed.program_run
    cases = apply_control(cases_of(scenario), probed.controls)
    if program_run is not None:
        cases += program_run.extra_cases()
    cells = judge(cases, probed.observations, live.problem, live.connect_problem)
    live.timings['judge_s'] = time.monotonic() - t0
    return ScenarioResult(
        scenario=scenario.name, title=scenario.title, switch=live.switch, cells=cells,
        builder=live.built_by, topology=live.topology, steps=live.steps,
        servers=probed.servers, problem=live.problem or live.connect_problem,
        timings=live.timings, source=scenario.source, skipped=probed.skipped,
        programs=program_run.logs if program_run is not None else None,
        timeline=live.timeline,
        not_reproduced=list(scenario.replica.not_reproduced)
        if scenario.replica is not None else None)


def probe_phase(live, prober, programs=None):
    """Servers, then every prober in order: ({case id: Observation}, the control
    measurement {case id: Observation} of the cases whose rule is `control`).

    timings: servers_s (listeners started and ready, batches started), probe_s (plans
    in, every record out), programs_s (the user's programs, when there are any).
    With timed steps, the server programs that choose their own address run through
    the timeline instead of first (probe/intime.py), and netprobe's plain binds on
    their hosts just before it (InTime.before_t0).
    """
    timeline = Timeline(live.net, live.scenario.faults, live.state)
    in_time = InTime(programs, live.scenario) \
        if programs is not None and timeline.steps else None
    early = in_time.before_t0() if in_time is not None else []
    early = prober.take(early) if early and hasattr(prober, 'take') else None
    spent = _timed(programs if in_time is None else None, live, 'server', False)
    t0 = time.monotonic()
    live.start_servers()
    prober.prepare(live.net)
    t1 = time.monotonic()
    spent += _timed(programs, live, 'server', True)
    t2 = time.monotonic()
    before = early.observe(live.net) if early is not None else {}
    observations = dict(before, **_in_time(live, prober, timeline, in_time))
    live.timings.update(servers_s=t1 - t0, probe_s=time.monotonic() - t2)
    if in_time is not None:
        t3 = time.monotonic()
        in_time.finish()            # judged after the probe phase, over its time
        spent += time.monotonic() - t3
        observations = in_time.spare(observations)
    if programs is not None:
        live.timings['programs_s'] = spent + _timed(programs, live, 'client', None)
        observations = programs.merge(observations)
    control = [cid for cid, c in cases_of(live.scenario) if c.expect.rule == 'control']
    controls = Batches(live.scenario, live.netprobe, live.state,
                             only=control).observe(live.net) if control else {}
    live.servers.stop()
    return observations, controls


def _in_time(live, prober, timeline, in_time):
    """The probers' observations, with the timeline's steps firing meanwhile and the
    in-time server programs (if any) started at its t=0; live.timeline set."""
    timeline.start()            # t = 0 of the scenario's timed steps
    try:
        if in_time is not None:
            in_time.start(live.net, live.workdir, timeline.t0_mono)
        observations = prober.observe(live.net)
    except BaseException:       # a prober that broke, Ctrl-C: no step fires after it
        timeline.abort()
        if in_time is not None:
            in_time.abort()
        raise
    try:
        live.timeline = timeline.finish()
    except BaseException:
        if in_time is not None:
            in_time.abort()
        raise
    return {cid: obs.on_timeline(timeline.t0) for cid, obs in observations.items()}


def _timed(programs, live, role, per_case):
    """programs.run(...) when there are programs; the seconds it took."""
    if programs is None:
        return 0.0
    t0 = time.monotonic()
    programs.run(live, role, per_case)
    return time.monotonic() - t0


def on_kernel_datapath(net, topology):
    """Each OVS switch's ports that the kernel datapath lists, taken once the data plane
    answered: matrix.json's proof that `--switch ovs` forwarded in the kernel."""
    listed = kernel_datapath_ports()
    for entry in topology['switches']:
        names = [entry['name']] + net.get(entry['name']).intfNames()
        entry['kernel_datapath_ports'] = sorted(n for n in names if n in listed)


def topology_as_built(net):
    """Hosts (interfaces and addresses), switches and links of a started network."""
    hosts = []
    for host in net.hosts:
        intfs = [{'name': i.name, 'ip': i.IP(),
                  'prefixlen': int(i.prefixLen) if i.prefixLen else None, 'mac': i.MAC()}
                 for i in host.intfList() if i.name != 'lo']
        hosts.append({'name': host.name, 'interfaces': intfs})
    switches = [{'name': s.name, 'class': type(s).__mro__[1].__name__}
                for s in net.switches]
    links = [[link.intf1.name, link.intf2.name] for link in net.links]
    return {'hosts': hosts, 'switches': switches, 'links': links}
