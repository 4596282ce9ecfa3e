"""bench_tracer: what the tracers cost per bind() and per connect() call, and per
read() and open(), which are no socket calls but which bindtrace-sys stops too (a
read() may be a DNS answer, an open() a resolver file).

The C test program (build/trace/tracee) makes N binds of 127.0.0.1:0, N
loopback connects to a listener of its own, N read()s of 4 KiB from /dev/zero and
N open()s of /dev/null, timing only the call itself, and prints nanoseconds per
call.  The same program runs untraced and
traced, alternating, in one run (ROUNDS rounds; the median of each mode is shown),
so that the figures share the machine's state:

- untraced;
- traced, the default (descriptor kept, socket options read for bind records);
- traced with BINDTRACE_OPTIONS=0 (bind records without "options": 4-5 fewer
  getsockopt calls per bind);
- traced with BINDTRACE_REOPEN=1 (open/write/close per record);
- under bindtrace-sys, the ptrace tracer: each traced call is two ptrace stops (the
  seccomp stop at entry, the exit stop) and the tracer's own system calls
  (pidfd_getfd, the socket's facts, the write), all while the program waits.

Each traced call costs a few system calls (getsockopt, getsockname, fstat,
write), so the ratio depends mostly on what a system call costs on the machine (the
untraced bind() is about one: its figure shows it); bindtrace-sys adds two context
switches to the tracer and back.  Only loopback is used; no root is needed.  The
trace file lives in a temporary directory removed at the end.

Environment: BINDTRACE_LIB (default build/libbindtrace.so), BINDTRACE_SYS (default
build/bindtrace-sys), TRACEE (default build/trace/tracee), BENCH_BINDS,
BENCH_CONNECTS, BENCH_READS (also the number of opens), BENCH_ROUNDS.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BINDS = int(os.environ.get("BENCH_BINDS", "20000"))
CONNECTS = int(os.environ.get("BENCH_CONNECTS", "5000"))
READS = int(os.environ.get("BENCH_READS", "20000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))

# (name, tracer, environment additions): tracer None, "preload" or "syscall".
MODES = [
    ("untraced", None, {}),
    ("traced", "preload", {}),
    ("traced, BINDTRACE_OPTIONS=0", "preload", {"BINDTRACE_OPTIONS": "0"}),
    ("traced, BINDTRACE_REOPEN=1", "preload", {"BINDTRACE_REOPEN": "1"}),
    ("bindtrace-sys (ptrace)", "syscall", {}),
]


def path_of(var, *default):
    """$@var, else REPO/@default; exits with what to build when it is missing."""
    path = os.environ.get(var) or os.path.join(REPO, *default)
    if not os.path.exists(path):
        sys.exit("bench_tracer: %s is missing: run `make build/libbindtrace.so "
                 "build/bindtrace-sys build/trace/tracee` (or set %s)" % (path, var))
    return path


def measure(paths, trace_file, command, count, tracer, extra):
    """One tracee run of @command (bench-bind / bench-connect) with @count calls,
    under @tracer (None, "preload", "syscall") with the environment additions
    @extra.  @paths: {"tracee", "lib", "sys"}.  Returns ns per call."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "BINDTRACE_FILE", "BINDTRACE_OPTIONS",
                        "BINDTRACE_REOPEN")}
    env.update(extra)
    argv = [paths["tracee"], command, str(count)]
    if tracer == "preload":
        env["LD_PRELOAD"] = paths["lib"]
        env["BINDTRACE_FILE"] = trace_file
    elif tracer == "syscall":
        argv = [paths["sys"], "-o", trace_file, "--"] + argv
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        sys.exit("bench_tracer: %s %s failed: %s" % (command, count, proc.stderr.strip()))
    if os.path.exists(trace_file):
        os.unlink(trace_file)   # each run starts with an empty file
    return json.loads(proc.stdout)["ns_per_call"]


OPS = (("bind", "bench-bind", BINDS), ("connect", "bench-connect", CONNECTS),
       ("read", "bench-read", READS), ("open", "bench-open", READS))


def run_all(paths, trace_file):
    """Every mode for binds and connects, ROUNDS times, interleaved.  Returns
    {(op, mode): [ns per call, ...]}."""
    samples = {}
    for _ in range(ROUNDS):
        for op, command, count in OPS:
            for mode, tracer, extra in MODES:
                ns = measure(paths, trace_file, command, count, tracer, extra)
                samples.setdefault((op, mode), []).append(ns)
    return samples


def report(samples):
    """Prints one table per call: median ns per call, ratio and added time."""
    print("bench_tracer: libbindtrace.so and bindtrace-sys, ns per call (median of %d "
          "rounds; %d binds, %d loopback connects, %d reads and opens per run)"
          % (ROUNDS, BINDS, CONNECTS, READS))
    for op, _command, _count in OPS:
        base = statistics.median(samples[(op, "untraced")])
        print("  %s()" % op)
        for mode, _tracer, _extra in MODES:
            ns = statistics.median(samples[(op, mode)])
            if mode == "untraced":
                print("    %-30s %9.0f ns" % (mode, ns))
            else:
                print("    %-30s %9.0f ns   x%.2f   +%.1f us per call"
                      % (mode, ns, ns / base, (ns - base) / 1000))


def main():
    paths = {"lib": path_of("BINDTRACE_LIB", "build", "libbindtrace.so"),
             "sys": path_of("BINDTRACE_SYS", "build", "bindtrace-sys"),
             "tracee": path_of("TRACEE", "build", "trace", "tracee")}
    with tempfile.TemporaryDirectory(prefix="bench_tracer.") as tmp:
        samples = run_all(paths, os.path.join(tmp, "trace.jsonl"))
    report(samples)
    print("  kernel %s; command: %s %s" % (os.uname().release, sys.executable,
                                          " ".join(sys.argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
