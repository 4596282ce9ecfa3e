"""A scenario's result: what the runner hands the writer, the console, the mutation
run and the benchmarks (matrix.json is made of it: harness/report/results.py)."""

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class ScenarioResult:
    """One scenario's run on one network.

    topology: the network as built; steps: setup and faults as applied, each with
    argv, why, ok, kind; servers: the scenario servers' serve records; problem: why
    the network was not fit to probe (every cell then an error naming it), or None;
    timings: seconds by phase (build_s, prepare_s, servers_s, probe_s, teardown_s,
    judge_s, programs_s); cells: the judged Cells; skipped: why the scenario was not
    run here (the switch kind, a missing kernel module: its cells are then [] and
    `cases` names the cells it would have had, {kind, host, column} each), or why a
    mutation could not be applied here; programs: the user's programs' launches
    (their log files), or None when none ran; mutations: the mutation run's entries (mutations.json), or
    None without --mutate; network: how a mutated scenario's network was had
    (runner.SharedNetwork; None: a fresh one).  timeline: the timed steps
    (Step.at) as they took effect (harness/net/timeline.py), None when it has none.
    not_reproduced: a replica's list of what could not be reproduced ({what, why}
    each; None: not a replica).
    """
    scenario: str
    title: str
    switch: str
    cells: list
    builder: Optional[str] = None
    topology: Optional[dict] = None
    steps: list = field(default_factory=list)
    servers: list = field(default_factory=list)
    problem: Optional[str] = None
    timings: dict = field(default_factory=dict)
    source: Optional[str] = None
    skipped: Optional[str] = None
    programs: Optional[list] = None
    mutations: Optional[list] = None
    cases: Optional[list] = None
    network: Optional[str] = None
    timeline: Optional[list] = None
    not_reproduced: Optional[list] = None


def skipped_result(scenario, switch, reason):
    """The ScenarioResult of a scenario not run here, for reason: no cells, and the
    cases it would have judged (a derived scenario has none until it is built)."""
    return ScenarioResult(
        scenario=scenario.name, title=scenario.title, switch=switch, cells=[],
        source=scenario.source, skipped=reason,
        cases=[{'kind': c.kind, 'host': c.host, 'column': c.label()}
               for c in scenario.cases])
