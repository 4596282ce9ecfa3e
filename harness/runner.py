"""One scenario from network build to judged cells, with the time of each phase.

build -> setup steps -> readiness -> faults -> servers + batches (the probe phase)
-> teardown (always).  Anything that goes wrong before the probes turns every cell
into an `error` naming it; a server that must listen and did not turns the connect
cells into errors.  Teardown is Mininet's net.stop() followed by removing whatever
the state file still records, so a failed stop() leaves nothing behind either.
"""

import shutil
import signal
import tempfile
import time

from . import faults, network, probe
from .state import RUN_DIR, clean as clean_state


def run_scenario(scenario, switch, state, netprobe, log, take=None):
    """Run scenario on a fresh network; returns its result dict (see results.py).

    take: the probe phase, (net, scenario, servers, state, netprobe, workdir, timings)
    -> (connect problem, {case index: record or error text}); default probe_phase.
    It sets timings['servers_s'] (listeners started and ready, batch processes
    started) and timings['probe_s'] (plans in, every record out).
    The benchmark passes the by-hand way here to compare both on the same network.
    """
    take = take or probe_phase
    topo = scenario.topo()
    timings = {'build_s': 0.0, 'prepare_s': 0.0, 'servers_s': 0.0, 'probe_s': 0.0,
               'teardown_s': 0.0}
    net, built, applied, server_info = None, None, [], []
    servers = probe.Servers(state)
    workdir = tempfile.mkdtemp(prefix='work-', dir=RUN_DIR)
    problem, connect_problem, records = None, None, {}
    try:
        t0 = time.monotonic()
        network.check_names_free(topo)
        net = network.build(topo, switch, state)
        network.start(net, switch)
        built = topology_as_built(net)
        timings['build_s'] = time.monotonic() - t0
        problem = prepare(net, scenario, applied, netprobe, state, workdir)
        timings['prepare_s'] = time.monotonic() - t0 - timings['build_s']
        if problem is None:
            connect_problem, records = take(net, scenario, servers, state, netprobe,
                                            workdir, timings)
    except network.EnvError as exc:
        problem = str(exc)
    except Exception as exc:  # a broken build must become error cells, not a traceback
        problem = f'{type(exc).__name__}: {exc}'
    finally:
        t2 = time.monotonic()
        server_info = servers.summary()
        teardown(net, servers, state, log)
        shutil.rmtree(workdir, ignore_errors=True)
        timings['teardown_s'] = time.monotonic() - t2
    cells = judge(scenario, records, problem, connect_problem)
    return {'scenario': scenario.name, 'title': scenario.title, 'switch': switch,
            'topology': built, 'steps': applied, 'servers': server_info,
            'problem': problem or connect_problem, 'timings': timings, 'cells': cells,
            'source': scenario.source}


def prepare(net, scenario, applied, netprobe, state, workdir):
    """Setup steps, readiness checks (ping, then TCP), faults; an error text or None."""
    steps, err = faults.apply_steps(net, scenario.setup, 'setup')
    applied += steps
    if err:
        return err
    pairs = network.ready_pairs(net, scenario)
    failures = network.wait_ready(net, pairs)
    if not failures:
        failures = probe.transport_ready(net, pairs, netprobe, state, workdir)
    if failures:
        return 'data plane never got ready: ' + '; '.join(failures[:5])
    steps, err = faults.apply_steps(net, scenario.faults, 'fault')
    applied += steps
    return err


def probe_phase(net, scenario, servers, state, netprobe, workdir, timings):
    """Start servers, run every host's batch; returns (connect problem, records)."""
    t0 = time.monotonic()
    plans = probe.make_plans(scenario)
    errors = servers.start_all(net, scenario.servers, netprobe, workdir)
    procs = probe.spawn_batches(net, plans, state, netprobe)
    t1 = time.monotonic()
    records = probe.feed_batches(procs, scenario, plans, state)
    timings.update(servers_s=t1 - t0, probe_s=time.monotonic() - t1)
    servers.stop()
    return ('; '.join(errors) if errors else None), records


def teardown(net, servers, state, log):
    """Stop servers and the network, then remove whatever the state still records.

    SIGINT and SIGTERM are ignored meanwhile: a second Ctrl-C must not leave half a
    network behind.
    """
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT,
                                                                 signal.SIGTERM)}
    try:
        servers.stop()
        network.stop(net, log)
        left = clean_state(state.data, log)
        if left:
            log('could not remove: ' + ', '.join(left) + ' (run: sudo make clean-net)')
        else:
            state.data.update(pids={}, netns=[], links=[], bridges=[], ovs_bridges=[])
            state.save()
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def topology_as_built(net):
    """Hosts (interfaces and addresses), switches and links of a started network."""
    hosts = []
    for host in net.hosts:
        intfs = [{'name': i.name, 'ip': i.IP(), 'prefixlen': int(i.prefixLen) if i.prefixLen else None, 'mac': i.MAC()}
                 for i in host.intfList() if i.name != 'lo']
        hosts.append({'name': host.name, 'interfaces': intfs})
    switches = [{'name': s.name, 'class': type(s).__mro__[1].__name__}
                for s in net.switches]
    links = [[link.intf1.name, link.intf2.name] for link in net.links]
    return {'hosts': hosts, 'switches': switches, 'links': links}


def judge(scenario, records, problem, connect_problem):
    """Every case of scenario as a cell with its verdict."""
    cells = []
    for index, case in enumerate(scenario.cases):
        got = records.get(index)
        if problem:
            got = problem
        elif case.kind == 'connect' and connect_problem:
            got = connect_problem
        elif got is None:
            got = 'no result for this case'
        cells.append(make_cell(index, case, got))
    return cells


def make_cell(index, case, got):
    """One cell: the case, what was expected, what happened, the verdict."""
    exp = case.expect
    cell = {'id': probe.case_id(index, case), 'kind': case.kind, 'host': case.host,
            'addr': case.addr, 'port': case.port, 'proto': case.proto,
            'options': list(case.options), 'column': case.label(),
            'expected': exp.outcome, 'expected_peer': exp.peer, 'reason': exp.reason,
            'rule': exp.rule, 'method': 'netprobe'}
    if isinstance(got, str):
        cell.update(actual='ERROR', verdict='error', message=got, peer=None, local=None,
                    elapsed_us=None)
        return cell
    actual = probe.outcome(got)
    peer = got.get('peer_host')
    verdict = 'pass' if actual == exp.outcome else 'fail'
    if verdict == 'pass' and exp.peer and actual == 'OK' and peer != exp.peer:
        verdict = 'fail'
    cell.update(actual=actual, verdict=verdict, message=got.get('message'), peer=peer,
                local=got.get('local'), elapsed_us=got.get('elapsed_us'))
    return cell
