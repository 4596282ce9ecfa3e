"""The cycle collector paused while a run builds, probes, judges and writes its cells.

A 200-host scenario makes ~80,000 cells, each a few dicts and strings: allocation
enough to start Python's full collections again and again, each a walk of every
object there is, in the judge, the probe phase's record parsing and the result files
alike.
Cells, records and observations hold no reference cycles, so reference counting
frees them anyway; what does make cycles (Mininet's nodes and links) is collected
once the pause ends.
"""

import contextlib
import functools
import gc


@contextlib.contextmanager
def paused():
    """No cyclic garbage collection inside (nested pauses are fine); the collector is
    as it was afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def pausing(fn):
    """fn, run inside paused()."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with paused():
            return fn(*args, **kwargs)
    return wrapper
