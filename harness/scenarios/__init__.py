"""What to run: the scenario model (model.py: Scenario, Case, Expect, Step, Server;
builders.py makes cases, expectations and steps; checks.py validates), the one
rule registry, the suite (files loaded, validated, selected, sharded), topologies
loaded as mn loads them, scenarios derived from any topology, replicas of
snapshots (replica.py), and the mutation catalogue.  Pure data and functions:
nothing here builds a network.

The face of harness/scenarios/: code outside it imports only these names
(tests/test_stages.py).
"""

from .checks import validate
from .derive import NotApplicable, apply_control, complete, derived
from .hostfiles import DnsServer, HostFiles, nsswitch_unpinnable
from .names import EAI_NAMES, is_name, name_word
from .model import (AFTERS, Case, ERROR, Expect, NOCALL, OK, Scenario, Server, Step,
                    column_label, option, retry_s, timeout_of, unmapped, valid_name)
from .mutate import CATALOGUE, select_mutations, targets_of
from .replica import from_snapshots
from .replicadocker import from_docker
from .rules import RULES
from .suite import find, fitting, load_all, parse_shard, select

__all__ = ['AFTERS', 'apply_control', 'Case', 'CATALOGUE', 'column_label', 'complete',
           'derived', 'DnsServer', 'EAI_NAMES', 'ERROR', 'Expect', 'find', 'fitting',
           'from_docker', 'from_snapshots', 'HostFiles', 'is_name', 'load_all', 'name_word',
           'NOCALL', 'NotApplicable', 'OK', 'option', 'parse_shard', 'retry_s', 'RULES',
           'Scenario', 'select', 'nsswitch_unpinnable',
           'select_mutations', 'Server', 'Step', 'targets_of', 'timeout_of', 'unmapped',
           'valid_name', 'validate']
