"""The live network: the session around it (lock, leftovers, switch, signals), the
machine it runs on, the builders (Mininet's and bindlab's batched one), the one
command API of its hosts, each host's own resolver files and DNS servers, readiness,
the setup and fault steps, a mutation's undo and its proof, and the one retry helper.

The face of harness/net/: code outside it imports only these names
(tests/test_stages.py).
"""

from .faults import apply_steps
from .hostfiles import enter_argv, mount_host_files, own_mounts, own_uts, own_uts_hosts
from .hosts import ended, popen_on, run_on, start_on
from .machine import (SWITCH_KINDS, check_environment, check_mininet, check_root,
                      environment_facts, kernel_datapath_ports, missing_modules)
from .network import (DEFAULT_BUILDER, add_builder_option, build, builder_of,
                      check_names_free, start, stop)
from .readiness import not_ready
from .resolvers import start_dns_servers, stop_dns_servers
from .retry import attempts
from .session import Session
from .timeline import Timeline, untimed
from .undo import differences, restore, settled, state as host_state

__all__ = ['add_builder_option', 'apply_steps', 'attempts', 'build', 'builder_of',
           'check_environment', 'check_mininet', 'check_names_free', 'check_root',
           'DEFAULT_BUILDER', 'differences', 'ended', 'enter_argv', 'environment_facts',
           'host_state', 'kernel_datapath_ports', 'missing_modules', 'mount_host_files',
           'not_ready', 'own_mounts', 'own_uts', 'own_uts_hosts', 'popen_on', 'restore',
           'run_on', 'Session', 'settled', 'start', 'start_dns_servers', 'start_on', 'stop',
           'stop_dns_servers', 'SWITCH_KINDS', 'Timeline', 'untimed']
