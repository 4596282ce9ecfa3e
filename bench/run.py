"""bench/run.py: runs every bench/bench_*.py, one after another, and prints their
figures (`make bench`).

Each benchmark is a script that prints its own side-by-side figures and ratios and
exits 0 when it could measure (a missed target is printed, not an error).  They run
as separate processes with this interpreter so that one cannot disturb another's
state.  Exit status: 0 when every benchmark ran, 1 when one failed, 2 when there is
none.  `bench/run.py NAME ...` runs only bench_NAME.py.
"""

import glob
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def benchmarks(names):
    """The benchmark scripts to run: all of bench/bench_*.py, or those @names."""
    found = sorted(glob.glob(os.path.join(HERE, "bench_*.py")))
    if names:
        found = [path for path in found
                 if os.path.basename(path)[len("bench_"):-len(".py")] in names]
    return found


def run_one(path):
    """Runs one benchmark script, its output going straight to ours.  Returns its
    exit status."""
    print("== %s" % os.path.basename(path), flush=True)
    t0 = time.monotonic()
    status = subprocess.call([sys.executable, path], cwd=os.path.dirname(HERE))
    print("== %s: %s in %.1f s" % (os.path.basename(path),
                                   "done" if status == 0 else "FAILED (exit %d)" % status,
                                   time.monotonic() - t0), flush=True)
    return status


def main(argv):
    paths = benchmarks(argv[1:])
    if not paths:
        print("bench/run.py: no benchmark matches %s" % (argv[1:] or "bench/bench_*.py"),
              file=sys.stderr)
        return 2
    failed = [os.path.basename(p) for p in paths if run_one(p) != 0]
    if failed:
        print("bench/run.py: failed: %s" % ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
