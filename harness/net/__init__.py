"""The live network: the session around it (lock, leftovers, switch, signals), the
machine it runs on, the builders (Mininet's and bindlab's batched one), the hosts'
shells, readiness, and the setup and fault steps.

The face of harness/net/: code outside it imports only these names
(tests/test_stages.py).
"""

from .faults import apply_steps
from .machine import (SWITCH_KINDS, check_environment, check_mininet, check_root,
                      environment_facts, missing_modules)
from .network import (DEFAULT_BUILDER, add_builder_option, build, builder_of,
                      check_names_free, ready_pairs, start, stop, unanswered,
                      unreachable, wait_ready)
from .nsbatch import idle_shells, run_in_shells, start_in_shells
from .session import Session

__all__ = ['add_builder_option', 'apply_steps', 'build', 'builder_of',
           'check_environment', 'check_mininet', 'check_names_free', 'check_root',
           'DEFAULT_BUILDER', 'environment_facts', 'idle_shells', 'missing_modules',
           'ready_pairs', 'run_in_shells', 'Session', 'start', 'start_in_shells', 'stop',
           'SWITCH_KINDS', 'unanswered', 'unreachable', 'wait_ready']
