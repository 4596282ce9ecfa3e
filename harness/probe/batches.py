"""The netprobe prober: one `netprobe batch` per host, all hosts at once.

`Batches` turns every case of a scenario into an Observation (harness/judge/judging.py
decides the verdict).  It provides every precondition a case can need
(harness/probe/preconditions.py): the batch keeps `hold` sockets open until it ends
and runs while the servers listen.

The batch processes are started ahead, while the servers get ready, each waiting for
its plan (plans.make_plans) on stdin; then all hosts get their plans at once.  How a
batch reaches its host (a background job of the host's shell reading a FIFO, or a
Popen reading a pipe) is net's choice (hosts.start_on), not this module's.
timeout(1) ends a batch that overruns its limit (plans.batch_limit); its records go
to a file, so no reader can hold it up, and are read strictly (records.collect).
"""

import os
import shutil

from ..files import read_output
from ..ledger import stop, work_folder
from ..net import ended, start_on
from .observation import Observation
from .plans import batch_limit, make_plans
from .records import collect, no_record


class Batches:
    """The netprobe prober: every case of a scenario, one batch per host, all at once.

    prepare(net) starts the batches (each waits for its plan on stdin), observe(net)
    feeds the plans and returns {case id: Observation}.  net: the Mininet object, or
    anything whose get(name) gives a host with popen() (the lab's outside check).
    """
    name = 'netprobe'
    provides = ('held', 'listener')

    def __init__(self, scenario, netprobe, state, only=None):
        self.scenario, self.netprobe, self.state = scenario, netprobe, state
        self.plans, self.jobs = make_plans(scenario, only), None

    def take(self, only):
        """The cases of only as Batches of their own; this one keeps the others (call
        before prepare)."""
        taken = Batches(self.scenario, self.netprobe, self.state, only)
        rest = {cid for _text, ids in self.plans.values() for cid in ids} - set(only)
        self.plans = make_plans(self.scenario, rest)
        return taken

    def prepare(self, net):
        """Start the batches ahead (while the servers get ready)."""
        self.jobs = BatchJobs(net, list(self.plans), self.state, self.netprobe,
                              batch_limit(self.scenario))

    def observe(self, net):
        """Feed every plan; {case id: Observation} of every case."""
        if self.jobs is None:
            self.prepare(net)
        kinds = {i: c.kind for i, c in enumerate(self.scenario.cases)}
        got = self.jobs.feed(self.plans, kinds)
        self.jobs = None
        missing = Observation.error('no result for this case')
        return {cid: got.get(i, missing) for _text, ids in self.plans.values()
                for cid, i in ids.items()}


class BatchJobs:
    """`netprobe --host H batch` started in every host, each waiting for its plan;
    every PID recorded before anything else can go wrong (hosts.start_on)."""

    def __init__(self, net, hosts, state, netprobe, limit):
        self.state, self.limit, self.hosts = state, limit, hosts
        self.folder = work_folder('work-batches-')
        self.base = {h: os.path.join(self.folder, str(n)) for n, h in enumerate(hosts)}
        try:
            jobs = start_on([(net.get(h), ['timeout', '-k', '1', f'{limit:g}', netprobe,
                                           '--host', h, 'batch'], self.base[h])
                             for h in hosts], state, 'netprobe', fed=True)
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self.jobs = dict(zip(hosts, jobs))

    def feed(self, plans, kinds):
        """Every plan given at once, then each batch awaited and its records parsed
        while the others still run; {case index: Observation}."""
        results, started = {}, [j for j in self.jobs.values() if j]
        try:
            fed = {h: self._feed(h, plans[h][0]) for h in self.hosts}
            stop([j.target for h, j in self.jobs.items() if j and fed[h]], 0.5)
            ends = ended([self.jobs[h] for h in self.hosts if fed[h] is None])
            for host in self.hosts:
                rc = next(ends)[1] if fed[host] is None else None
                results.update(self._records(host, plans[host][1], kinds, rc, fed[host]))
        except BaseException:  # Ctrl-C: do not wait for the batches to finish
            stop([j.target for j in started], 0.5)
            raise
        finally:
            self.state.drop_pids([j.pid for j in started])
            shutil.rmtree(self.folder, ignore_errors=True)
        return results

    def _feed(self, host, text):
        """host's plan given to its batch; None, or why it could not be given."""
        job = self.jobs.get(host)
        return 'its shell gave no PID back' if job is None else job.feed(text)

    def _records(self, host, ids, kinds, rc, not_fed):
        """{case index: Observation} of host's batch, from its records file; rc: its
        exit status (124/137: timeout(1) ended it)."""
        if not_fed:
            why = f'\n({not_fed})'
        else:
            why = f'\n(killed after {self.limit:.0f} s)' if rc in (124, 137) else ''
        got = collect(read_output(self.base[host] + '.out'), ids, kinds)
        err = read_output(self.base[host] + '.err') + why
        for index in ids.values():
            if index not in got:
                got[index] = no_record(host, rc, err)
        return got
