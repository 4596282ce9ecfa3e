"""`run`: scenarios on fresh networks, judged, printed and written as a run folder
(with --record/--check, compared with the baselines: harness/ci/baseline.py).

The pipeline is runner.run_scenario (and mutations.run_mutations for --mutate); this
module chooses the scenarios, holds the Session (the run lock, the switch) around
them and writes the result files once.
"""

import os
import sys
import time
from dataclasses import replace

from ..ci import after_run, BASELINE_DIR
from ..errors import UsageError
from ..files import check_latest, make_folders
from ..judge import all_cells, mismatches, skipped_result
from ..net import (add_builder_option, check_environment, check_mininet, check_names_free,
                   environment_facts, missing_modules, Session, SWITCH_KINDS)
from ..probe import add_program_options, method_of, netprobe_path, programs_for
from ..report import (log, new_run_id, print_matrices, print_mutations, print_timeline,
                      scenario_line, write_run)
from ..mutations import run_mutations, SharedNetwork
from ..replica import read_clab, read_docker, read_snapshot
from ..runner import run_scenario
from ..scenarios import (derived, fitting, from_docker, from_snapshots, load_all,
                         parse_shard, select, select_mutations, targets_of)
from .common import default_out, EXIT_FAIL, EXIT_OK


def add_parser(sub):
    cmd = sub.add_parser('run', help='run scenarios (default: the default suite)')
    cmd.add_argument('scenarios', nargs='*', metavar='SCENARIO')
    cmd.add_argument('--switch', choices=SWITCH_KINDS, default='auto')
    add_builder_option(cmd)
    cmd.add_argument('--out', default=default_out(), metavar='DIR',
                     help='write the run into DIR/<run-id> (default: results/ of the '
                          'clone; ./results when installed)')
    cmd.add_argument('--shard', default='1/1', metavar='K/N',
                     help='run only the K-th of N slices of the selected scenarios')
    cmd.add_argument('--scenario-file', action='append', default=[], metavar='FILE',
                     help='also load scenarios from FILE (a Python scenario file); '
                          'without SCENARIO names, run only those')
    cmd.add_argument('--custom', action='append', default=[], metavar='FILE',
                     help='a Mininet custom file (topos = {...}), as mn --custom takes it')
    cmd.add_argument('--topo', metavar='NAME[,ARG...]',
                     help='run the scenario derived from this topology (mn --topo '
                          'syntax: linear,4  tree,2,2  NAME from --custom)')
    cmd.add_argument('--from-snapshot', nargs='+', metavar='FILE',
                     help='run a replica of these snapshots (bindlab snapshot): one '
                          'host each, with their addresses, routes, rules, sysctls and '
                          'listeners, and the matrices derived from it as for --topo')
    cmd.add_argument('--from-docker', nargs='+', metavar='FILE',
                     help='run a replica of a Docker host: FILEs of `docker network '
                          'inspect` and `docker inspect` output (bridge networks, '
                          'containers, published ports)')
    cmd.add_argument('--from-clab', metavar='FILE',
                     help='run a replica of a containerlab topology (.clab.yml): its '
                          'linux and bridge nodes, links, and the addresses, routes and '
                          'sysctls of their exec lines')
    cmd.add_argument('--mutate', metavar='all|NAME,...',
                     help='apply each misconfiguration of the catalogue, one at a time, '
                          'to every target host (with --topo or a replica)')
    cmd.add_argument('--mutate-hosts', metavar='H1,H2',
                     help='the target hosts of --mutate (default: every host)')
    cmd.add_argument('--mutate-networks', choices=('fresh', 'shared'), default='fresh',
                     help='fresh (default): a network built for each mutation; shared: '
                          'the mutations on one network, each undone and the undo '
                          'proved before the next (faster where building is slow: '
                          '--builder mininet, OVS)')
    cmd.add_argument('-v', '--verbose', action='store_true')
    add_baseline_options(cmd)
    add_program_options(cmd)
    return cmd


def add_baseline_options(cmd):
    """--record / --check / --baseline (harness/ci/baseline.py: after_run)."""
    group = cmd.add_mutually_exclusive_group()
    group.add_argument('--record', action='store_true',
                       help='write the observed matrices as the expectation files')
    group.add_argument('--check', action='store_true',
                       help='compare with the expectation files: exit 1 on any change')
    cmd.add_argument('--baseline', default=BASELINE_DIR, metavar='DIR',
                     help='where expectation files live (default: expectations/)')


def main(args):
    shard = parse_shard(args.shard)
    check_environment(args.switch)
    chosen, mutations = choose(args, shard)
    programs = {sc.name: programs_for(sc, args) for sc in chosen}
    for progs in programs.values():   # a program that cannot run: exit 2, nothing built
        for program in progs:
            method_of(program)
    netprobe = netprobe_path()
    make_folders(args.out)
    check_latest(args.out)
    run_id = new_run_id()
    with Session(args.switch, log, run_id) as session:
        fit, skipped = fitting(chosen, session.switch, log, missing_modules,
                               none_ok=shard[1] > 1)
        for sc in fit:
            check_names_free(sc.topo())
        meta = {'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                'switch': session.switch, 'argv': sys.argv[1:], 'netprobe': netprobe,
                'environment': environment_facts(session.switch, args.builder),
                'shard': args.shard}
        done = iter(run_suite(fit, session, netprobe, programs, args, mutations))
    meta['finished'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    # a skipped scenario is a result, in its place in the selection (merge relies on it)
    results = [skipped_result(sc, session.switch, skipped[sc.name])
               if sc.name in skipped else next(done) for sc in chosen]
    run_dir = write_run(args.out, run_id, meta, results)
    every = [c for res in results for c in all_cells(res.cells, res.mutations)]
    bad = len(mismatches(every))
    passed = len(every) - bad
    log(f'results in {run_dir}')
    not_run = sum(len(res.cases or ()) for res in results if res.skipped)
    log(f'{passed} passed, {bad} failed' +
        (f', {not_run} skipped ({", ".join(skipped)})' if skipped else ''))
    return after_run(args, run_dir, EXIT_OK if bad == 0 else EXIT_FAIL)


def choose(args, shard):
    """(scenarios to run, mutations): the named or default suite, or the scenario
    derived from --topo (with --custom files) and the --mutate catalogue entries."""
    if args.from_snapshot or args.from_docker or args.from_clab:
        return replica(args, shard)
    if args.mutate and not args.topo:
        raise UsageError('--mutate needs --topo (a derived scenario): e.g. '
                         '--topo single,3 --mutate all')
    if (args.mutate_hosts or args.mutate_networks != 'fresh') and not args.mutate:
        raise UsageError('--mutate-hosts and --mutate-networks go with --mutate')
    if args.custom and not args.topo:
        raise UsageError('--custom FILE needs --topo NAME (as mn --custom FILE --topo NAME)')
    if not args.topo:
        repo, extra = load_all(args.scenario_file)
        return select(repo, extra, args.scenarios, shard), []
    if args.scenarios or args.scenario_file:
        raise UsageError('--topo runs the scenario derived from that topology; leave out '
                         'scenario names and --scenario-file')
    check_mininet()
    custom = [os.path.abspath(p) for p in args.custom]
    chosen = [derived(args.topo, custom)]
    mutations = select_mutations(args.mutate) if args.mutate else []
    return select([], chosen, [], shard), mutations


def replica(args, shard):
    """(the replica of --from-snapshot's or --from-docker's files, mutations): each
    file read as hostile input (BadInput naming the file and field, exit 2)."""
    if args.topo or args.custom or args.scenarios or args.scenario_file or \
            len([x for x in (args.from_snapshot, args.from_docker, args.from_clab)
                 if x]) > 1:
        raise UsageError('--from-snapshot, --from-docker and --from-clab run a replica; '
                         'give one of them, without --topo, --custom, scenario names and '
                         '--scenario-file')
    if len(args.from_snapshot or args.from_docker or [args.from_clab]) > 64:
        raise UsageError('a replica takes at most 64 files')
    check_mininet()
    if args.from_clab:
        snaps, links, missing = read_clab(args.from_clab)
        if not snaps or len(snaps) > 64:
            raise UsageError(f'--from-clab {args.from_clab}: 1 to 64 linux nodes')
        sc = from_snapshots(snaps, links=links)
        source = f'--from-clab {os.path.basename(args.from_clab)}'
        chosen = [replace(sc, source=source, title=f'replica of {source}',
                          replica=replace(sc.replica, not_reproduced=tuple(missing) +
                                          sc.replica.not_reproduced))]
    elif args.from_docker:
        snaps, published, missing = read_docker(args.from_docker)
        if len(snaps) > 64:
            raise UsageError('--from-docker: at most 63 containers in one replica')
        chosen = [from_docker(snaps, published, missing)]
    else:
        chosen = [from_snapshots([(p, read_snapshot(p)) for p in args.from_snapshot])]
    mutations = select_mutations(args.mutate) if args.mutate else []
    return select([], chosen, [], shard), mutations


def remade(sc, args):
    """The function (mutation, target) -> sc under that mutation (a fresh scenario)."""
    if sc.replica is not None:    # a listener whose address a mutation took: no error
        servers = tuple(replace(s, must_start=False) for s in sc.servers)
        return lambda m, t: replace(sc, mutation=(m, t), servers=servers,
                                    title=f'{sc.title} (mutation {m.name} on {t})')
    custom = [os.path.abspath(p) for p in args.custom]
    return lambda m, t: derived(args.topo, custom, (m, t))


def not_reproduced(sc):
    """Say what a replica could not reproduce (also in its matrix.json)."""
    if sc.replica is not None:
        for item in sc.replica.not_reproduced:
            log(f'  not reproduced: {item["what"]}: {item["why"]}')


def run_suite(chosen, session, netprobe, programs, args, mutations=()):
    """Run every chosen scenario (and its mutations) and print; returns the results."""
    from mininet.log import setLogLevel
    setLogLevel('info' if args.verbose else 'warning')
    done = []
    for i, sc in enumerate(chosen, 1):
        log(f'[{i}/{len(chosen)}] {sc.name}: {sc.title}')
        not_reproduced(sc)

        def one_network(scenario):
            """scenario (sc itself, or one of its mutations) on a fresh network."""
            return run_scenario(scenario, session.switch, session.state, netprobe, log,
                                programs[sc.name], builder=args.builder)
        res = one_network(sc)
        log(scenario_line(res))
        print_matrices(res.scenario, res.cells)
        print_timeline(res)
        if mutations:
            network = one_network if args.mutate_networks == 'fresh' else SharedNetwork(
                session.switch, session.state, netprobe, log, programs[sc.name],
                args.builder)
            try:
                res.mutations = run_mutations(
                    mutations, targets_of(sc, args.mutate_hosts),
                    remade(sc, args), network, res, log)
            finally:
                if network is not one_network:
                    network.close()
            print_mutations(res)
        done.append(res)
    return done
