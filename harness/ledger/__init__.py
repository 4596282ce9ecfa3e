"""What a run owns, so that clean-net removes exactly that: the run lock and state
file (state.py; read back and checked by statefile.py), its work folders (workdirs.py:
where they go, swept once their maker is gone), its interfaces and bridges (marked),
its firewall accept rules, its processes (PID + start time) and the one process
stopper.

The face of harness/ledger/: code outside it imports only these names
(tests/test_stages.py).
"""

from .fwrules import add_bridge_rules, unhandled_drop
from .ifaces import (answer_no_arp, interface_alias, is_interface_name, link_exists,
                     run_mark)
from .procs import alive, groups_of_sessions, identity, parent, pid_of, stop
from .state import (LockBusy, State, acquire_lock, clean, leftovers, pid_matches,
                    release_lock, remove_stale_files)
from .statefile import read_state, state_path
from .workdirs import RUN_DIR, owned_folder, sweep_dead_folders, work_folder

__all__ = ['acquire_lock', 'add_bridge_rules', 'alive', 'answer_no_arp', 'clean',
           'groups_of_sessions', 'identity', 'interface_alias', 'is_interface_name',
           'leftovers',
           'link_exists', 'LockBusy', 'owned_folder', 'parent', 'pid_matches', 'pid_of',
           'read_state', 'release_lock', 'remove_stale_files', 'RUN_DIR', 'run_mark',
           'State', 'state_path', 'stop', 'sweep_dead_folders', 'unhandled_drop',
           'work_folder']
