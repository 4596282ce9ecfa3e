"""Mutations on one network (mutations.SharedNetwork, net/undo.py): every catalogue entry,
applied, probed and undone on one network, gives the cells a freshly built network
gives it, and every undo is proved (each host's state equal to its state before the
first mutation).  Real networks, real probes; the two runs side by side."""

import json
import os
import sys

import pytest

import harness_util as hu

sys.path.insert(0, hu.REPO)
from harness.scenarios import mutate  # noqa: E402

ROUTER_FILE = os.path.join(hu.REPO, 'examples', 'topologies', 'two_subnets.py')


@pytest.fixture(autouse=True)
def clean_machine():
    yield from hu.root_and_clean()


def mutation_run(tmp_path, networks, *args, mutate='all'):
    """`harness run ARGS --mutate MUTATE --mutate-networks NETWORKS`: mutations.json's
    entries of its one scenario."""
    out = tmp_path / networks
    res = hu.harness('run', *args, '--mutate', mutate, '--mutate-networks', networks,
                     '--out', str(out))
    assert res.returncode in (0, 1), res.stdout[-3000:] + res.stderr[-3000:]
    (scenario,) = [d for d in os.listdir(out / 'latest') if (out / 'latest' / d).is_dir()]
    with open(out / 'latest' / scenario / 'mutations.json') as f:
        return json.load(f)['mutations']


def outcomes(entries):
    """{(mutation, target, host, kind, column): (actual, peer, after, verdict)}."""
    return {(e['name'], e['target'], c['host'], c['kind'], c['column']):
            (c['actual'], c.get('peer'), c.get('after'), c['verdict'])
            for e in entries for c in e['cells']}


# The timed mutations but addr-late: their undo is proved on the shared network of
# test_derive.py's test_timed_mutations_on_one_network_with_programs (each costs
# seconds of timeline on every network it runs on).
TIMED_ELSEWHERE = ('vip-failover', 'link-flap', 'dad-slow', 'renumber')


def test_undone_mutations_give_the_cells_of_fresh_networks(tmp_path):
    """Every catalogue entry (but TIMED_ELSEWHERE) on single,3 (target h1, the first
    host: its address is the seed's; test_derive's seed server runs every entry on h1
    and h2 on one network too), on one network, each undone and proved: the cells of a
    freshly built network for each."""
    topo = ('--topo', 'single,3', '--mutate-hosts', 'h1')
    names = {m.name for m in mutate.CATALOGUE} - set(TIMED_ELSEWHERE)
    fresh = mutation_run(tmp_path, 'fresh', *topo, mutate=','.join(sorted(names)))
    shared = mutation_run(tmp_path, 'shared', *topo, mutate=','.join(sorted(names)))
    assert {e['name'] for e in shared} == names == {e['name'] for e in fresh}
    assert all(e['network'] == 'fresh' for e in fresh)
    not_undone = [(e['name'], e['target'], e['network']) for e in shared
                  if e['network'] != 'shared']
    assert not not_undone, not_undone
    want, got = outcomes(fresh), outcomes(shared)
    assert len(want) > 50 and set(got) == set(want)
    differ = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
    assert not differ, differ
    assert [e['skipped'] for e in shared] == [e['skipped'] for e in fresh]


def test_a_network_with_a_router_is_not_shared_and_says_why(tmp_path):
    """Two subnets behind a router: each mutation on a fresh network, each entry
    saying why.  A router's ICMP errors to one peer are limited by the kernel outside
    the namespace (net.ipv4.route.error_cost): measured, a route-del after a link-down
    on r1 turned h3's ENETUNREACH into ETIMEDOUT when the two shared a network.  Those
    two mutations are enough: the decision is the network's, not the mutation's."""
    entries = mutation_run(tmp_path, 'shared', '--custom', ROUTER_FILE, '--topo',
                           'twosubnets', '--mutate-hosts', 'r1',
                           mutate='link-down,route-del')
    assert [e['name'] for e in entries] == ['link-down', 'route-del']
    assert {e['network'] for e in entries} == {
        "fresh (r1 forwards: a router's ICMP errors to a peer are rate-limited by the "
        "kernel, outside the namespace, and no undo gives them back)"}
    assert all(e['cells'] or e['skipped'] for e in entries)
