"""One session around a network: what every entry point (run, lab, benchmark) needs.

    with Session('auto', log, run_id) as s:      # s.switch, s.state
        ...build networks with s.switch, record what they create in s.state...

On entry, in this order: the run lock (one network at a time on a machine), the
sweep of work and bin folders whose owner is provably dead (state.sweep_dead_folders:
a SIGKILLed run's, which would otherwise stay in memory), the refusal of leftovers from a killed earlier run (`sudo make clean-net`), the switch
kind resolved (machine.choose_switch: `auto`, and OVS started when a kind needs its
daemons), the state file of this run, and SIGTERM (plus whatever signals the caller
names) turned into errors.Interrupted so that the `with` body unwinds and every
network is torn down.  On exit, in reverse: the state file removed when nothing it
names is left, OVS stopped if this session started it, the lock released, the signal
handlers restored.  Environment checks (machine.check_environment) come before, so
a bad machine is refused before anything is locked or built.
"""

import os
import signal

from .. import advice
from ..errors import Interrupted, UsageError
from ..ledger import (acquire_lock, leftovers, read_state, release_lock, State,
                      state_path, sweep_dead_folders)
from . import machine


def _raise_interrupted(_signum, _frame):
    raise Interrupted()


def refuse_leftovers():
    """UsageError if an earlier run left things behind; forget an empty state."""
    old = read_state()
    if old is None:
        return
    left = leftovers(old)
    if left:
        raise UsageError(f'an earlier run ({old.get("run_id", "?")}) left '
                         f'{len(left)} things behind ({", ".join(left[:4])} ...); '
                         f'run: {advice("clean-net")}')
    os.unlink(state_path())


class Session:
    """The lock, the switch, the state file and the signals of one run (see module)."""

    def __init__(self, switch_kind, log, run_id, signals=(signal.SIGTERM,)):
        self.switch_kind, self.log, self.run_id = switch_kind, log, run_id
        self.signals = signals
        self.switch, self.state = None, None
        self._lock, self._started_ovs, self._old_handlers = None, False, {}

    def __enter__(self):
        self._old_handlers = {sig: signal.signal(sig, _raise_interrupted)
                              for sig in self.signals}
        try:
            self._lock = acquire_lock()
            sweep_dead_folders()
            refuse_leftovers()
            self.switch, self._started_ovs = machine.choose_switch(self.switch_kind,
                                                                   self.log)
            self.state = State(self.run_id)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_exc):
        try:
            if self.state is not None and not leftovers(self.state.data):
                self.state.remove()     # else clean-net needs the record
            if self._started_ovs:
                machine.stop_ovs(self.log)
        finally:
            if self._lock is not None:
                release_lock(self._lock)
                self._lock = None
            for sig, handler in self._old_handlers.items():
                signal.signal(sig, handler)
        return False
