"""The mutation run (--mutate): each catalogue entry on each target host, probed
and judged against the unmutated network's cells.

By default the mutations share one network (SharedNetwork): each is applied,
probed, undone and the undo proved (net/undo.py) before the next; `--mutate-networks
fresh` builds a network for each (run_scenario), the method before sharing.  Each
entry of mutations.json says how its network was had (`network`).
"""

import time

from .judge import annotate, relabel
from .net import DEFAULT_BUILDER, differences, host_state, restore, settled
from .runner import judged, LiveNetwork, probe_live, run_scenario


def run_mutations(mutations, targets, make_scenario, one_network, control, log):
    """Each mutation on each target; the mutations.json entries.

    make_scenario(mutation, target) -> Scenario; one_network(scenario) -> its
    ScenarioResult (on a fresh network, or SharedNetwork: on one network, undone
    after each); control: the unmutated ScenarioResult (its cells are each mutated
    cell's control).  Program logs of every mutated run are added to
    control.programs.  An entry's `network` says how its network was had.
    """
    entries, total = [], len(mutations) * len(targets)
    for n, (mutation, target) in enumerate(((m, t) for m in mutations for t in targets), 1):
        res = one_network(make_scenario(mutation, target))
        label = f'{mutation.name}.{target}'
        entry = {'name': mutation.name, 'target': target, 'does': mutation.does,
                 'stands_for': mutation.stands_for,
                 'steps': [s for s in res.steps if s['kind'] == 'fault'] +
                 list(res.timeline or ()),      # a timed mutation's steps as fired
                 'problem': res.problem, 'skipped': res.skipped,
                 'network': res.network or 'fresh',
                 'cells': [] if res.skipped else
                 annotate(res.cells, control.cells, label)}
        if res.programs:
            control.programs = (control.programs or []) + [
                dict(logs, log=relabel(logs['log'], label)) for logs in res.programs]
        entries.append(entry)
        log(f'  [{n}/{total}] {mutation.name} on {target}: ' + summary_line(entry))
    return entries


class SharedNetwork:
    """Mutations on one network: each applied, probed, undone and the undo proved
    (net/undo.py: each touched host's links, addresses, routes, permanent neighbours,
    nft tables, bind-deciding sysctls and mounts (a name mutation's resolver files)
    equal to what they were before the first
    mutation; no socket left anywhere).  A mutation whose undo cannot be proved keeps
    its cells (its network was proved clean when it began) and the next mutation gets
    a freshly built network.  Every mutation gets a fresh network of its own, as
    without sharing, when the shared one never got ready, or when a host of it
    forwards: a router's budget of ICMP errors to each peer (net.ipv4.route.error_cost,
    the kernel's, not the namespace's) is spent by one mutation's probes and no undo
    gives it back, so the next mutation's "network unreachable" would become a
    timeout.  Call it with a mutated scenario: its ScenarioResult, whose `network`
    says which; close() when done.
    """

    def __init__(self, switch, state, netprobe, log, programs=(), builder=DEFAULT_BUILDER):
        self.args = (switch, state, netprobe, log)
        self.programs, self.builder, self.log = programs, builder, log
        self.live, self.pristine, self.hosts = None, None, []
        self.unshared = None        # why every mutation gets a fresh network

    def __call__(self, scenario):
        if self.unshared is None and self.live is None:
            self.unshared = self._open(scenario)
        if self.unshared is not None:
            res = run_scenario(scenario, *self.args, programs=self.programs,
                               builder=self.builder)
            res.network = f'fresh ({self.unshared})'
            return res
        self.live.reuse(scenario)
        res = judged(self.live, probe_live(self.live, self.programs))
        why = self._undo()
        res.network = 'shared' if why is None else \
            f'shared; not undone, so the next mutation gets a fresh network: {why}'
        return res

    def _open(self, scenario):
        """Build the network for scenario and read its pristine state: None, or why
        the mutations cannot share it."""
        live = LiveNetwork(scenario, *self.args, builder=self.builder).open()
        why = 'the shared network never got ready'
        if live.problem is None:
            try:
                self.hosts = [h.name for h in live.net.hosts]
                settled(live.net, self.hosts)     # the link-local addresses past DAD
                self.pristine = host_state(live.net, self.hosts)
                routers = [h for h, st in self.pristine.items() if st.forwards()]
                if not routers:
                    self.live = live
                    return None
                why = f'{", ".join(routers)} forwards: a router\'s ICMP errors to a ' \
                    'peer are rate-limited by the kernel, outside the namespace, and no ' \
                    'undo gives them back'
            except ValueError as exc:
                why = f'the shared network: {exc}'
        live.close()
        self.log(f'  every mutation on a fresh network: {why}')
        return why

    def _undo(self):
        """Undo the last mutation and prove it: None, or why it could not be."""
        t0 = time.monotonic()
        before = {h: self.pristine[h] for h in self.live.touched}
        try:
            failed = restore(self.live.net, before, self.hosts)
            left = failed + differences(before, host_state(self.live.net, before))
        except ValueError as exc:
            left = [str(exc)]
        self.live.timings['undo_s'] = time.monotonic() - t0
        if not left:        # the network is as derive() read it before this mutation
            self.live.world = self.live.read_from
            return None
        self.close()
        return '; '.join(left[:3])

    def close(self):
        if self.live is not None:
            self.live.close()
            self.live = None


def summary_line(entry):
    """'skipped: why' or 'N cells, K changed, F failed'."""
    if entry['skipped']:
        return f'skipped: {entry["skipped"]}'
    cells = entry['cells']
    bad = sum(c.verdict != 'pass' for c in cells)
    return (f'{len(cells)} cells, {sum(c.changed for c in cells)} changed, '
            f'{bad} failed' + (f' ({entry["problem"]})' if entry['problem'] else ''))
