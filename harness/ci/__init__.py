"""Beside a CI job: golden baselines (--record/--check, diff, verify), shards merged
into one run, docker-real (the Docker cases on real containers) and the VM lane.

The face of harness/ci/: code outside it imports only these names
(tests/test_stages.py).
"""

from .baseline import (after_run, cmd_diff, cmd_record, cmd_verify,
                       DEFAULT_DIR as BASELINE_DIR)
from .dockerreal import default_socket, docker_real
from .merge import cmd_merge

__all__ = ['after_run', 'BASELINE_DIR', 'cmd_diff', 'cmd_merge', 'cmd_record',
           'cmd_verify', 'default_socket', 'docker_real']
