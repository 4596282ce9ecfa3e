"""The command line: python3 -m harness (or `bindlab`, bin/bindlab) list | run |
clean-net | lab | check | diff | record | verify | merge | explain | grade | docker-real |
help.  Thin: each command is a few calls into the modules that do the work; nothing
imports this module but __main__.py and bin/bindlab.  `help COMMAND` is `COMMAND
--help`; `--version` prints harness.__version__.

Exit status: 0 every cell passed; 1 some cell failed or could not be measured (or
clean-net could not remove everything, or a baseline changed); 2 usage or environment
error, hostile or broken input, or an interrupted run -- the message says what to do,
and nothing is left built.
"""

import argparse
import os
import sys
import time

from . import __version__, advice, INSTALLED, REPO
from .ci import (add_baseline_options, add_commands, add_docker_real_command,
                 add_merge_command, after_run)
from .errors import Interrupted, UsageError
from .files import check_latest, make_folders
from .judge import all_cells, mismatches
from .lab import add_grade_command, cmd_grade, explain_run, main as lab_main
from .ledger import (acquire_lock, clean, LockBusy, read_state, release_lock,
                     remove_stale_files, state_path)
from .net import (add_builder_option, check_environment, check_mininet, check_names_free,
                  check_root, environment_facts, missing_modules, Session, SWITCH_KINDS)
from .probe import add_program_options, method_of, netprobe_path, programs_for
from .report import (log, new_run_id, print_matrices, print_mutations, scenario_line,
                     warn, write_run)
from .runner import run_mutations, run_scenario
from .scenarios import (CATALOGUE, derived, fitting, load_all, parse_shard, RULES,
                        select, select_mutations, targets_of)

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
PROG = 'python3 -m harness'     # bin/bindlab passes prog='bindlab'


def default_out():
    """Where results go without --out: the clone's results/, or ./results of the
    current folder for an installed bindlab (harness/__init__.py: INSTALLED)."""
    return os.path.abspath('results') if INSTALLED else os.path.join(REPO, 'results')


def parse_args(argv, prog=PROG):
    parser = argparse.ArgumentParser(
        prog=prog, description='Run bindlab scenarios on Mininet.',
        epilog='also: `lab SCENARIO [--switch K]` opens a scenario as an interactive lab; '
               '`check [SCENARIO]` re-probes the open lab (exit 0 solved, 1 not yet, '
               '2 no lab open)')
    parser.add_argument('--version', action='version', version=f'bindlab {__version__}')
    sub = parser.add_subparsers(dest='command', required=True)
    lst = sub.add_parser('list', help='the scenarios, one line each')
    lst.add_argument('--scenario-file', action='append', default=[], metavar='FILE')
    lst.add_argument('--rules', action='store_true',
                     help="the rules a cell's expectation can name, instead")
    lst.add_argument('--mutations', action='store_true',
                     help='the --mutate catalogue, instead')
    run = sub.add_parser('run', help='run scenarios (default: the default suite)')
    run.add_argument('scenarios', nargs='*', metavar='SCENARIO')
    run.add_argument('--switch', choices=SWITCH_KINDS, default='auto')
    add_builder_option(run)
    run.add_argument('--out', default=default_out(), metavar='DIR',
                     help='write the run into DIR/<run-id> (default: results/ of the '
                          'clone; ./results when installed)')
    run.add_argument('--shard', default='1/1', metavar='K/N',
                     help='run only the K-th of N slices of the selected scenarios')
    run.add_argument('--scenario-file', action='append', default=[], metavar='FILE',
                     help='also load scenarios from FILE (a Python scenario file); '
                          'without SCENARIO names, run only those')
    run.add_argument('--custom', action='append', default=[], metavar='FILE',
                     help='a Mininet custom file (topos = {...}), as mn --custom takes it')
    run.add_argument('--topo', metavar='NAME[,ARG...]',
                     help='run the scenario derived from this topology (mn --topo '
                          'syntax: linear,4  tree,2,2  NAME from --custom)')
    run.add_argument('--mutate', metavar='all|NAME,...',
                     help='apply each misconfiguration of the catalogue, one at a time, '
                          'to every target host on a fresh network (needs --topo)')
    run.add_argument('--mutate-hosts', metavar='H1,H2',
                     help='the target hosts of --mutate (default: every host)')
    run.add_argument('-v', '--verbose', action='store_true')
    add_baseline_options(run)
    add_program_options(run)
    sub.add_parser('clean-net', help='remove what a killed run recorded as its own')
    add_commands(sub)      # diff, record, verify: they set args.handler
    add_merge_command(sub)
    exp = sub.add_parser('explain', help='explain one cell of a run: outcome, reason, '
                                         'rule, the lab sheet\'s words')
    exp.add_argument('run', metavar='RUN', help='a run folder (or results/ with latest)')
    exp.add_argument('cell', nargs='+', metavar='CELL',
                     help='the cell: HOST KIND COLUMN (h2 bind tcp 10.0.0.1) or its id')
    exp.add_argument('--scenario', metavar='NAME', help='the scenario, when the run has '
                                                        'several with that cell')
    add_grade_command(sub)
    add_docker_real_command(sub, default_out())
    # Listed for the usage line only: main() turns `help X` into `X --help`.
    sub.add_parser('help', help='the options of one command: help COMMAND').add_argument(
        'topic', nargs='?', metavar='COMMAND')
    return parser.parse_args(argv)


def cmd_list(args):
    if args.rules:
        for name, text in RULES.items():
            print(f'{name:20} {text}')
        return EXIT_OK
    if args.mutations:
        for m in CATALOGUE:
            print(f'{m.name:15} {m.does:41} {m.stands_for}')
        return EXIT_OK
    check_mininet()
    repo, extra = load_all(args.scenario_file)
    for sc in repo + extra:
        mark = '' if sc.default else '  (not in the default suite)'
        print(f'{sc.name:16} {sc.title}  [{", ".join(sc.switches)}]{mark}')
    return EXIT_OK


def cmd_run(args):
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
        chosen = fitting(chosen, session.switch, log, missing_modules)
        for sc in chosen:
            check_names_free(sc.topo())
        meta = {'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                'switch': session.switch, 'argv': sys.argv[1:], 'netprobe': netprobe,
                'environment': environment_facts(session.switch,
                                                          args.builder),
                'shard': args.shard}
        done = run_suite(chosen, session, netprobe, programs, args, mutations)
    meta['finished'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    run_dir = write_run(args.out, run_id, meta, done)
    every = [c for res in done for c in all_cells(res)]
    bad = len(mismatches(every))
    passed = len(every) - bad
    log(f'results in {run_dir}')
    log(f'{passed} passed, {bad} failed')
    return after_run(args, run_dir, EXIT_OK if bad == 0 else EXIT_FAIL)


def choose(args, shard):
    """(scenarios to run, mutations): the named or default suite, or the scenario
    derived from --topo (with --custom files) and the --mutate catalogue entries."""
    if args.mutate and not args.topo:
        raise UsageError('--mutate needs --topo (a derived scenario): e.g. '
                         '--topo single,3 --mutate all')
    if args.mutate_hosts and not args.mutate:
        raise UsageError('--mutate-hosts goes with --mutate')
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


def run_suite(chosen, session, netprobe, programs, args, mutations=()):
    """Run every chosen scenario (and its mutations) and print; returns the results."""
    from mininet.log import setLogLevel
    setLogLevel('info' if args.verbose else 'warning')
    done = []
    for i, sc in enumerate(chosen, 1):
        log(f'[{i}/{len(chosen)}] {sc.name}: {sc.title}')

        def run(scenario):
            return run_scenario(scenario, session.switch, session.state, netprobe, log,
                                programs[sc.name], builder=args.builder)
        res = run(sc)
        log(scenario_line(res))
        print_matrices(res)
        if mutations:
            custom = [os.path.abspath(p) for p in args.custom]
            res['mutations'] = run_mutations(
                mutations, targets_of(sc, args.mutate_hosts),
                lambda m, t: derived(args.topo, custom, (m, t)), run, res, log)
            print_mutations(res)
        done.append(res)
    return done


def cmd_clean_net(_args):
    check_root(advice('clean-net'))
    lock = acquire_lock()
    try:
        remove_stale_files()
        old = read_state()
        if old is None:
            log('nothing recorded: nothing to remove')
            return EXIT_OK
        left = clean(old, log)
        if left:
            warn('could not remove: ' + ', '.join(left))
            return EXIT_FAIL
        os.unlink(state_path())
        log(f'removed what run {old.get("run_id", "?")} left behind')
        return EXIT_OK
    finally:
        release_lock(lock)


def cmd_explain(args):
    for line in explain_run(args.run, ' '.join(args.cell), args.scenario):
        print(line)
    return EXIT_OK


COMMANDS = {'list': cmd_list, 'run': cmd_run, 'clean-net': cmd_clean_net,
            'explain': cmd_explain,
            'grade': lambda args: cmd_grade(args, log, warn)}


def main(argv=None, prog=PROG):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == 'help':              # `help [COMMAND]`: COMMAND --help
        argv = argv[1:2] + ['--help']
    if argv and argv[0] in ('lab', 'check'):     # the interactive lab, same exit codes
        return lab_main(argv[1:] if argv[0] == 'lab' else argv)
    args = parse_args(argv, prog)
    try:
        return COMMANDS.get(args.command, getattr(args, 'handler', None))(args)
    except (UsageError, LockBusy) as exc:
        warn(str(exc))
        return EXIT_USAGE
    except (KeyboardInterrupt, Interrupted):
        warn('interrupted: the network was torn down; no result files written')
        return EXIT_USAGE
