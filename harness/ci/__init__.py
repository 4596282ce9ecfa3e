"""Beside a CI job: golden baselines (--record/--check, diff, verify), shards merged
into one run, docker-real (the Docker cases on real containers) and the VM lane.

The face of harness/ci/: code outside it imports only these names
(tests/test_stages.py).
"""

from .baseline import add_baseline_options, add_commands, after_run
from .dockerreal import add_docker_real_command
from .merge import add_merge_command

__all__ = ['add_baseline_options', 'add_commands', 'add_docker_real_command',
           'add_merge_command', 'after_run']
