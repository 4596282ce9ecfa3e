"""`clean-net`: remove what a killed run recorded as its own (the ledger's state
file), exactly that and nothing else."""

import os

from .. import advice
from ..ledger import (acquire_lock, clean, read_state, release_lock, remove_stale_files,
                      state_path)
from ..net import check_root
from ..report import log, warn
from .common import EXIT_FAIL, EXIT_OK


def add_parser(sub):
    return sub.add_parser('clean-net', help='remove what a killed run recorded as its own')


def main(_args):
    check_root(advice('clean-net'))
    lock = acquire_lock()
    try:
        remove_stale_files()
        old = read_state()
        if old is None:
            log('nothing recorded: nothing to remove')
            return EXIT_OK
        left = clean(old, log)
        if left:
            warn('could not remove: ' + ', '.join(left))
            return EXIT_FAIL
        os.unlink(state_path())
        log(f'removed what run {old.get("run_id", "?")} left behind')
        return EXIT_OK
    finally:
        release_lock(lock)
