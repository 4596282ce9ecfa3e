"""bench_netprobe: one `netprobe batch` versus one netprobe process a case.

Three measurements, side by side in one run, on real namespaces (h1 10.0.0.1 and
h2 10.0.0.2 on one veth link, made and removed here):

1. 10,000 TCP bind cases in h1: one `netprobe batch` versus one `netprobe bind`
   process a case;
2. 1,000 TCP connects from h2 to a `netprobe serve` in h1: batch versus a process
   a case;
3. 200 connects to a silent port (an nft rule in h1 drops its SYNs) with a 200 ms
   timeout: one batch versus one connect after another.

A process a case is timed on a sample (a shell loop inside the namespace, the
cheapest way to start one process a case) and extrapolated to the full count; the
output says so.  Batches run three times and the median is shown.  The probe is
the optimised build (build/netprobe, or $NETPROBE_BENCH).  Targets are printed
beside the figures; a missed target is reported, not an error.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests"))
import nsutil  # noqa: E402  (the namespace helpers the tests use)

BINDS = 10000
BIND_SAMPLE = 500
CONNECTS = 1000
CONNECT_SAMPLE = 200
SILENT = 200
SILENT_SAMPLE = 10
SILENT_TIMEOUT_MS = 200
REPEATS = 3

SERVE_PORT = 7600
SILENT_PORT = 7601


def probe_binary():
    """The optimised probe: $NETPROBE_BENCH or build/netprobe."""
    path = os.environ.get("NETPROBE_BENCH") or os.path.join(nsutil.REPO, "build", "netprobe")
    if not os.access(path, os.X_OK):
        sys.exit("bench_netprobe: %s is missing: run `make`" % path)
    return path


def timed(fn):
    """Runs @fn once; returns (seconds, its result)."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def run_batch(ns, binary, plan, expect):
    """Runs one batch of @plan in @ns and checks it gave @expect records.  Returns
    (wall seconds of the process alone, records); parsing happens after the clock."""
    argv = ns.argv([binary, "--host", ns.label, "batch"])
    seconds, proc = timed(lambda: nsutil.run(argv, input=plan, check=False))
    records = nsutil.parse_records(proc.stdout) if proc.returncode == 0 else []
    if len(records) != expect:
        raise RuntimeError("batch gave %d records of %d, exit %d: %s"
                           % (len(records), expect, proc.returncode, proc.stderr[-500:]))
    return seconds, records


def median_batch(ns, binary, plan, expect):
    """The median wall time of REPEATS batches, and the records of the last one."""
    times, records = [], None
    for _ in range(REPEATS):
        seconds, records = run_batch(ns, binary, plan, expect)
        times.append(seconds)
    return statistics.median(times), records


def median_batch_discarded(ns, binary, plan):
    """The median wall time of REPEATS batches whose records go to /dev/null: the
    probe's own pace, without a reader on the other end of a pipe."""
    argv = ns.argv([binary, "--host", ns.label, "batch"])
    times = []
    for _ in range(REPEATS):
        seconds, proc = timed(lambda: subprocess.run(argv, input=plan, text=True,
                                                     stdout=subprocess.DEVNULL,
                                                     stderr=subprocess.PIPE,
                                                     timeout=nsutil.GUARD_SECONDS))
        if proc.returncode != 0:
            raise RuntimeError("batch exit %d: %s" % (proc.returncode, proc.stderr[-500:]))
        times.append(seconds)
    return statistics.median(times)


# The same socket calls as a bind case, in a bare C loop without records: what this
# machine's kernel allows at best, printed beside the batch to place its figure.
FLOOR_C = r"""
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int n = atoi(argv[1]);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(20000 + i) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		inet_pton(AF_INET, argv[2], &sin.sin_addr);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 128) < 0)
			return 1;
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.9f\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
"""


def kernel_floor(ns, count):
    """Median seconds of REPEATS bare C loops of @count socket+bind+listen+close in
    @ns, or None when no C compiler is here."""
    where = tempfile.mkdtemp(prefix=nsutil.PREFIX)
    try:
        source, binary = os.path.join(where, "floor.c"), os.path.join(where, "floor")
        with open(source, "w") as f:
            f.write(FLOOR_C)
        if subprocess.run(["cc", "-O2", "-o", binary, source]).returncode != 0:
            return None
        return statistics.median(
            float(nsutil.run(ns.argv([binary, str(count), "10.0.0.1"])).stdout)
            for _ in range(REPEATS))
    finally:
        shutil.rmtree(where)


def in_probe_us(records):
    """The mean time a case took inside the probe (its elapsed_us), in us."""
    return statistics.mean(r["elapsed_us"] for r in records)


def process_loop(ns, binary, args, count):
    """Wall time of @count `netprobe ARGS` processes started one after another by a
    shell loop inside @ns (records checked: one per process)."""
    script = ('i=0; while [ "$i" -lt "$1" ]; do "$0" --host "$2" "${@:3}" || exit 1; '
              'i=$((i+1)); done')
    argv = ["bash", "-c", script, binary, str(count), ns.label] + [str(a) for a in args]
    seconds, proc = timed(lambda: nsutil.run(ns.argv(argv)))
    records = nsutil.parse_records(proc.stdout)
    if len(records) != count:
        raise RuntimeError("%d records from %d processes" % (len(records), count))
    return seconds, records


def count_errors(records):
    """{error name or "OK": count} of @records."""
    counts = {}
    for record in records:
        key = record["error"] or "OK"
        counts[key] = counts.get(key, 0) + 1
    return counts


def verdict(ok):
    return "met" if ok else "MISSED"


def bench_binds(h1, binary):
    """Measurement 1: binds.  Returns printable lines."""
    plan = "".join("b%d bind tcp 10.0.0.1 %d\n" % (i, 20000 + i) for i in range(BINDS))
    batch_s, records = median_batch(h1, binary, plan, BINDS)
    discarded_s = median_batch_discarded(h1, binary, plan)
    floor_s = kernel_floor(h1, BINDS)
    sample_s, sample = process_loop(h1, binary, ["bind", "10.0.0.1", 19999], BIND_SAMPLE)
    batch_rate = BINDS / batch_s
    proc_rate = BIND_SAMPLE / sample_s
    ratio = batch_rate / proc_rate
    return [
        "1. %d TCP binds (bind+listen+close) in one namespace" % BINDS,
        "   batch, read by a pipe:  %9.0f cases/s  (%.3f s for %d, whole process, median of %d;"
        " %.1f us a case inside the probe; %s)"
        % (batch_rate, batch_s, BINDS, REPEATS, in_probe_us(records), count_errors(records)),
        "   batch, to /dev/null:    %9.0f cases/s  (%.3f s: the probe alone, no reader)"
        % (BINDS / discarded_s, discarded_s),
        ("   kernel floor:           %9.0f binds/s  (the same socket calls in a bare C loop, "
         "no records: the batch is at %.0f%% of it)" % (BINDS / floor_s, 100 * floor_s / batch_s)
         if floor_s else "   kernel floor: not measured (no C compiler)"),
        "   a process a case:       %9.0f cases/s  (%d processes in %.3f s, extrapolated: "
        "%.1f s for %d; %s)" % (proc_rate, BIND_SAMPLE, sample_s, BINDS / proc_rate, BINDS,
                                count_errors(sample)),
        "   ratio batch / process: %.0fx" % ratio,
        "   target batch >= 50,000 cases/s: %s;  target ratio >= 100x: %s"
        % (verdict(batch_rate >= 50000), verdict(ratio >= 100)),
    ]


def bench_connects(h1, h2, binary):
    """Measurement 2: connects to a listener in another namespace."""
    plan = "".join("c%d connect tcp 10.0.0.1 %d timeout=5000\n" % (i, SERVE_PORT)
                   for i in range(CONNECTS))
    batch_s, records = median_batch(h2, binary, plan, CONNECTS)
    sample_s, sample = process_loop(h2, binary, ["connect", "10.0.0.1", SERVE_PORT],
                                    CONNECT_SAMPLE)
    batch_rate = CONNECTS / batch_s
    proc_rate = CONNECT_SAMPLE / sample_s
    return [
        "2. %d TCP connects h2 -> serve on h1 (with the server's greeting)" % CONNECTS,
        "   batch:              %9.0f cases/s  (%.3f s for %d, median of %d; %s)"
        % (batch_rate, batch_s, CONNECTS, REPEATS, count_errors(records)),
        "   a process a case:   %9.0f cases/s  (%d processes in %.3f s, extrapolated: "
        "%.1f s for %d; %s)" % (proc_rate, CONNECT_SAMPLE, sample_s,
                                CONNECTS / proc_rate, CONNECTS, count_errors(sample)),
        "   ratio batch / process: %.0fx" % (batch_rate / proc_rate),
    ]


def bench_silent(h2, binary):
    """Measurement 3: connects to a port whose SYNs are dropped."""
    plan = "".join("s%d connect tcp 10.0.0.1 %d timeout=%d\n"
                   % (i, SILENT_PORT, SILENT_TIMEOUT_MS) for i in range(SILENT))
    batch_s, records = median_batch(h2, binary, plan, SILENT)
    sample_s, sample = process_loop(
        h2, binary, ["connect", "--timeout", SILENT_TIMEOUT_MS, "10.0.0.1", SILENT_PORT],
        SILENT_SAMPLE)
    serial_s = sample_s / SILENT_SAMPLE * SILENT
    limit_s = 2 * SILENT_TIMEOUT_MS / 1000
    return [
        "3. %d connects to a silent port (SYNs dropped by nft), timeout %d ms"
        % (SILENT, SILENT_TIMEOUT_MS),
        "   batch:              %.3f s wall (median of %d; %s)"
        % (batch_s, REPEATS, count_errors(records)),
        "   one after another:  %.1f s (%d connects in %.3f s, extrapolated to %d; %s)"
        % (serial_s, SILENT_SAMPLE, sample_s, SILENT, count_errors(sample)),
        "   ratio one-after-another / batch: %.0fx" % (serial_s / batch_s),
        "   target all %d within two timeouts (%.0f ms): %s (%.0f ms)"
        % (SILENT, limit_s * 1000, verdict(batch_s <= limit_s), batch_s * 1000),
    ]


def main():
    if os.geteuid() != 0:
        sys.exit("bench_netprobe: needs root to create namespaces: sudo make bench")
    binary = probe_binary()
    lab = nsutil.Lab()
    try:
        h1, h2 = lab.netns("h1"), lab.netns("h2")
        lab.veth(h1, h2, "10.0.0.1/24", "10.0.0.2/24")
        server = h1.serve("10.0.0.1", SERVE_PORT, binary=binary)
        if not server.ready["ok"]:
            raise RuntimeError("serve could not listen: %s" % server.ready)
        h1.nft("table inet bltbench {\n chain input {\n"
               "  type filter hook input priority 0;\n  tcp dport %d drop\n }\n}\n"
               % SILENT_PORT)
        print("netprobe benchmark: %s, namespaces %s (h1 10.0.0.1) and %s (h2 10.0.0.2), "
              "kernel %s, %d CPUs, load average %.2f"
              % (binary, h1.name, h2.name, os.uname().release, os.cpu_count(),
                 os.getloadavg()[0]))
        for lines in (bench_binds(h1, binary), bench_connects(h1, h2, binary),
                      bench_silent(h2, binary)):
            print("\n".join(lines))
            sys.stdout.flush()
    finally:
        failures = lab.remove()
        if failures:
            print("bench_netprobe: could not remove: %s" % failures, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
