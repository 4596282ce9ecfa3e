"""libbindtrace.so (csrc/trace/) against real namespaces and real programs.

The tracer is LD_PRELOADed into programs that bindlab did not write: a C program
(build/trace/tracee), a Python program (/usr/bin/python3 -c), socat, OpenBSD nc,
and netprobe itself.  Each test runs them in two namespaces on one veth link
(conftest.Pair: h1 10.0.0.1, h2 10.0.0.2) and checks what a user of the harness
relies on:

- the tracer records the same outcome as netprobe for the same case (OK for an own
  address, EADDRNOTAVAIL for another host's, EADDRINUSE, ECONNREFUSED, OK for a
  connect to a listener), in every kind of program;
- the traced program sees exactly what it sees untraced (errno, return values);
- threads, fork and exec are traced completely, one valid JSON line per call;
- non-IP sockets are skipped, and a program that closes or reuses the tracer's
  descriptor never gets a record written into its own files.

$BINDTRACE_LIB names the library (default build/libbindtrace.so), $TRACEE the C
test program (default build/trace/tracee), $NETPROBE the probe (conftest).
"""

import json
import os
import subprocess
import time

import pytest

import nsutil

PYTHON = "/usr/bin/python3"

# The cases: what h2 does, and what netprobe and every traced program must see.
SERVE_PORT = 6680     # netprobe serve on h1
HELD_PORT = 6678      # netprobe serve on h2, so a second bind of it is EADDRINUSE
CASES = {
    "own_address": ("bind", "10.0.0.2", 6677, "OK"),
    "wrong_host": ("bind", "10.0.0.1", 6677, "EADDRNOTAVAIL"),
    "port_in_use": ("bind", "10.0.0.2", HELD_PORT, "EADDRINUSE"),
    "refused": ("connect", "10.0.0.1", 6679, "ECONNREFUSED"),
    "connected": ("connect", "10.0.0.1", SERVE_PORT, "OK"),
}

# One bind (+listen) or connect, printing the errno Python saw (0: none).
PY_CASE = r"""
import json, socket, sys
op, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    if op == "bind":
        s.bind((addr, port))
        s.listen()
    else:
        s.connect((addr, port))
    err = 0
except OSError as e:
    err = e.errno
print(json.dumps({"errno": err}))
"""


def lib_path():
    return os.environ.get("BINDTRACE_LIB") or os.path.join(nsutil.REPO, "build",
                                                           "libbindtrace.so")


def tracee_path():
    return os.environ.get("TRACEE") or os.path.join(nsutil.REPO, "build", "trace", "tracee")


@pytest.fixture
def tracer():
    """The library and the C test program (built by `make itest`)."""
    for path in (lib_path(), tracee_path()):
        if not os.path.exists(path):
            pytest.fail("%s is missing: run `make build/libbindtrace.so build/trace/tracee`"
                        " (or set BINDTRACE_LIB / TRACEE)" % path)
    return lib_path()


def run_traced(ns, argv, trace_file, extra_env=(), check=False):
    """Runs @argv in namespace @ns with the tracer preloaded, writing to
    @trace_file, host label from NETPROBE_HOST.  Returns the CompletedProcess."""
    env = ["env", "LD_PRELOAD=" + lib_path(), "BINDTRACE_FILE=%s" % trace_file,
           "NETPROBE_HOST=" + ns.label] + list(extra_env)
    return nsutil.run(ns.argv(env + [str(a) for a in argv]), check=check)


def run_plain(ns, argv, check=False):
    """Runs @argv in namespace @ns without the tracer."""
    return nsutil.run(ns.argv([str(a) for a in argv]), check=check)


def read_trace(trace_file):
    """Every record of @trace_file; each line must be one whole JSON object."""
    if not os.path.exists(trace_file):
        return []
    with open(trace_file) as f:
        text = f.read()
    assert text == "" or text.endswith("\n"), "last record cut: %r" % text[-200:]
    return nsutil.parse_records(text)


def outcome(record):
    """A record's outcome as a matrix cell says it: OK or the errno name."""
    return "OK" if record["ok"] else record["error"]


def final_record(records, op, addr, port):
    """The record that gives the outcome of @op on @addr:@port: the last such call;
    for a non-blocking connect, how it ended ("phase":"done") when that was seen."""
    mine = [r for r in records if r["op"] == op and r["addr"] == addr and r["port"] == port]
    assert mine, "no %s %s:%s record in %s" % (op, addr, port, records)
    done = [r for r in mine if r.get("phase") == "done"]
    return (done or mine)[-1]


def assert_well_formed(record, host):
    """The members every tracer record has, with the right types."""
    for key in ("op", "host", "proto", "family", "addr", "port", "ok", "errno", "error",
                "message", "call", "elapsed_us", "pid", "tid", "fd", "prog"):
        assert key in record, (key, record)
    assert record["host"] == host, record
    assert record["proto"] == "tcp" or record["proto"] == "udp", record
    assert record["family"] in ("inet", "inet6"), record
    assert isinstance(record["pid"], int) and isinstance(record["tid"], int), record
    assert isinstance(record["fd"], int) and record["fd"] >= 0, record
    assert record["elapsed_us"] >= 0, record
    # when it happened, on the clock every namespace shares (CLOCK_MONOTONIC)
    assert 0 < record["mono_ns"] <= time.monotonic_ns(), record
    if record["ok"]:
        assert record["errno"] == 0 and record["error"] is None, record
    else:
        assert record["errno"] > 0 and record["error"] and record["message"], record
        assert record["call"], record


@pytest.fixture
def stage(pair):
    """The pair with a listener on h1:SERVE_PORT and a port held on h2:HELD_PORT."""
    pair.h1.serve("10.0.0.1", SERVE_PORT)
    pair.h2.serve("10.0.0.2", HELD_PORT)
    return pair


def case_argv(program, op, addr, port):
    """The command line with which @program makes the call of one case."""
    if program == "c":
        return [tracee_path(), op, addr, port]
    if program == "python":
        return [PYTHON, "-c", PY_CASE, op, addr, port]
    if program == "nc":   # OpenBSD netcat: non-blocking connect, then SO_ERROR
        if op == "connect":
            return ["nc", "-z", "-w", "5", addr, port]
        if port == HELD_PORT:
            return ["nc", "-l", addr, port]
        return ["nc", "-z", "-w", "5", "-s", addr, "-p", port, "10.0.0.1", SERVE_PORT]
    # socat: a bind is the source address of a connect (or a listener's bind)
    if op == "connect":
        return ["socat", "-u", "OPEN:/dev/null", "TCP:%s:%d" % (addr, port)]
    if port == HELD_PORT:
        return ["socat", "-u", "TCP-LISTEN:%d,bind=%s" % (port, addr), "OPEN:/dev/null"]
    return ["socat", "-u", "OPEN:/dev/null",
            "TCP:10.0.0.1:%d,bind=%s:%d" % (SERVE_PORT, addr, port)]


def program_errno(program, proc):
    """The errno the traced program itself saw for the case (C and Python print it)."""
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    if program == "c":
        first = lines[0]
        return first["errno"]
    return lines[-1]["errno"]


# ------------------------------------------------- same outcomes as netprobe


@pytest.mark.parametrize("program", ["c", "python", "socat", "nc"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_tracer_records_the_outcome_netprobe_records(stage, tracer, tmp_path, program, case):
    op, addr, port, expected = CASES[case]
    h2 = stage.h2
    reference = h2.probe(op, addr, port).only()
    assert outcome(reference) == expected, reference

    trace_file = tmp_path / "trace.jsonl"
    proc = run_traced(h2, case_argv(program, op, addr, port), trace_file)
    records = read_trace(trace_file)
    final = final_record(records, op, addr, port)
    assert outcome(final) == expected, (records, proc.stderr)
    assert (final["errno"], final["message"]) == (reference["errno"], reference["message"])
    for record in records:
        assert_well_formed(record, "h2")

    if program in ("c", "python"):
        # the program saw the same errno as netprobe did, traced and untraced
        plain = run_plain(h2, case_argv(program, op, addr, port))
        assert program_errno(program, proc) == reference["errno"], proc.stdout
        assert program_errno(program, plain) == reference["errno"], plain.stdout
        assert proc.returncode == plain.returncode == 0, (proc.stderr, plain.stderr)


def test_tracing_netprobe_gives_netprobes_own_record(stage, tracer, tmp_path):
    """netprobe (the build without sanitizers: ASan cannot be preloaded after)
    traced: the tracer's bind and connect records say what netprobe's say."""
    binary = nsutil.plain_netprobe_path()
    assert os.access(binary, os.X_OK), "%s missing: make build/netprobe" % binary
    h2 = stage.h2
    for op, addr, port, expected in CASES.values():
        trace_file = tmp_path / ("%s-%s-%d.jsonl" % (op, addr, port))
        proc = run_traced(h2, [binary, "--host", "h2", op, addr, port], trace_file)
        own = nsutil.parse_records(proc.stdout)[0]
        final = final_record(read_trace(trace_file), op, addr, port)
        for key in ("op", "host", "proto", "family", "addr", "port", "ok", "errno",
                    "error", "message"):
            assert final[key] == own[key], (key, final, own)
        assert outcome(own) == expected
        if op == "connect" and own["local"]:
            assert final["local"] == own["local"]


# ------------------------------------------------------ the program cannot tell

PY_SEQUENCE = r"""
import errno, json, select, socket, sys
own, other = sys.argv[1], sys.argv[2]
seen = []
def attempt(name, call):
    try:
        call()
        seen.append([name, 0])
    except OSError as e:
        seen.append([name, e.errno])
a = socket.socket()
attempt("bind-own", lambda: a.bind((own, 7001)))
a.listen()
b = socket.socket()
b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
attempt("bind-in-use", lambda: b.bind((own, 7001)))
attempt("bind-wrong-host", lambda: socket.socket().bind((other, 7002)))
attempt("udp-bind-wrong-host", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind((other, 7002)))
attempt("bind6-link-local-without-scope", lambda: socket.socket(socket.AF_INET6).bind(("fe80::1", 7003)))
attempt("connect-refused", lambda: socket.socket().connect((other, 7004)))
c = socket.socket()
c.settimeout(5)                      # Python: non-blocking connect + poll + SO_ERROR
attempt("connect-refused-with-timeout", lambda: c.connect((other, 7004)))
d = socket.socket()
d.setblocking(False)
d.connect_ex((other, 7004))
select.select([], [d], [], 5)
seen.append(["nonblocking-so-error", d.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)])
a.setblocking(False)
attempt("accept-nothing-waiting", a.accept)
attempt("listen-on-udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).listen())
print(json.dumps(seen))
"""

PY_SEQUENCE_EXPECTED = [
    ["bind-own", 0],
    ["bind-in-use", 98],
    ["bind-wrong-host", 99],
    ["udp-bind-wrong-host", 99],
    ["bind6-link-local-without-scope", 22],
    ["connect-refused", 111],
    ["connect-refused-with-timeout", 111],
    ["nonblocking-so-error", 111],
    ["accept-nothing-waiting", 11],
    ["listen-on-udp", 95],
]


def test_python_sees_the_same_errno_traced_and_untraced(pair, tracer, tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    argv = [PYTHON, "-c", PY_SEQUENCE, "10.0.0.2", "10.0.0.1"]
    plain = run_plain(pair.h2, argv, check=True)
    traced = run_traced(pair.h2, argv, trace_file, check=True)
    assert json.loads(plain.stdout) == PY_SEQUENCE_EXPECTED
    assert json.loads(traced.stdout) == json.loads(plain.stdout)

    records = read_trace(trace_file)
    for record in records:
        assert_well_formed(record, "h2")
    cells = [(r["op"], outcome(r), r.get("phase")) for r in records]
    assert cells.count(("connect", "ECONNREFUSED", "done")) == 2, cells  # timeout mode + SO_ERROR
    assert ("connect", "EINPROGRESS", "call") in cells
    assert ("connect", "ECONNREFUSED", "call") in cells
    assert ("accept", "EAGAIN", None) in cells
    assert ("listen", "EOPNOTSUPP", None) in cells
    in_use = [r for r in records if r["op"] == "bind" and outcome(r) == "EADDRINUSE"]
    assert len(in_use) == 1 and in_use[0]["options"] == ["reuseaddr"], in_use
    scope = [r for r in records if r["family"] == "inet6"]
    assert [(r["addr"], outcome(r)) for r in scope] == [("fe80::1", "EINVAL")]


def test_c_program_errno_untouched_on_success_and_failure(pair, tracer, tmp_path):
    """tracee sets errno to a marker before each bind and fails (exit 1) when a
    successful bind changed it; it prints the errno of a failed one."""
    argv = [tracee_path(), "bind", "10.0.0.2", 7100, "10.0.0.2", 7100, "10.0.0.1", 7101]
    traced = run_traced(pair.h2, argv, tmp_path / "trace.jsonl")
    plain = run_plain(pair.h2, argv)
    assert traced.returncode == plain.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout
    seen = [(r["call"], r["ret"], r["errno"]) for r in map(json.loads, traced.stdout.splitlines())]
    assert seen == [("bind", 0, 0), ("listen", 0, 0), ("bind", -1, 98), ("bind", -1, 99)]


# -------------------------------------------------------- threads, fork, exec


@pytest.mark.parametrize("addr,expected", [("10.0.0.2", "OK"), ("10.0.0.1", "EADDRNOTAVAIL")])
def test_eight_threads_of_fifty_binds_are_traced_completely(pair, tracer, tmp_path,
                                                            addr, expected):
    trace_file = tmp_path / "trace.jsonl"
    proc = run_traced(pair.h2, [tracee_path(), "threads", 8, 50, addr], trace_file)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["errno_changed"] == 0, summary
    assert summary["ok" if expected == "OK" else "failed"] == 400, summary

    with open(trace_file) as f:
        lines = f.read().split("\n")
    assert lines[-1] == "" and len(lines) == 401, len(lines)
    records = [json.loads(line) for line in lines[:-1]]   # each line whole JSON
    assert all(r["op"] == "bind" and r["addr"] == addr for r in records)
    assert {outcome(r) for r in records} == {expected}
    assert len({r["tid"] for r in records}) == 8
    assert len({r["pid"] for r in records}) == 1


def test_fork_and_exec_are_traced_in_parent_child_and_new_program(pair, tracer, tmp_path):
    """tracee binds, forks; the child binds and execs python, which binds h1's
    address: every call is in the trace, each under its own pid and program."""
    trace_file = tmp_path / "trace.jsonl"
    code = "import socket\ntry:\n    socket.socket().bind(('10.0.0.1', 7200))\nexcept OSError:\n    pass\n"
    proc = run_traced(pair.h2, [tracee_path(), "forkexec", PYTHON, "-c", code], trace_file)
    assert proc.returncode == 0, proc.stderr
    binds = [r for r in read_trace(trace_file) if r["op"] == "bind"]
    assert [(r["prog"], r["addr"], outcome(r)) for r in binds] == [
        ("tracee", "127.0.0.1", "OK"),
        ("tracee", "127.0.0.1", "OK"),
        ("python3", "10.0.0.1", "EADDRNOTAVAIL"),
    ]
    parent, child, execd = binds
    assert parent["pid"] != child["pid"], "the child's record carries the parent's pid"
    assert child["tid"] == child["pid"]
    assert execd["pid"] == child["pid"]
    assert execd["host"] == "h2"   # the environment went through exec


def test_python_fork_child_is_traced_under_its_own_pid(pair, tracer, tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    code = ("import os, socket\n"
            "socket.socket().bind(('10.0.0.2', 0))\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    socket.socket().bind(('10.0.0.2', 0))\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)\n"
            "print(os.getpid(), pid)\n")
    proc = run_traced(pair.h2, [PYTHON, "-c", code], trace_file, check=True)
    parent_pid, child_pid = map(int, proc.stdout.split())
    pids = [r["pid"] for r in read_trace(trace_file) if r["op"] == "bind"]
    assert pids == [parent_pid, child_pid]


# ----------------------------------------------------- servers and connections


def test_listen_and_accept_record_the_peer(pair, tracer, tmp_path):
    """A traced Python server on h1 (wildcard) accepts netprobe's connect from h2:
    its records name the listening address, the address the client reached, and
    the client's address and port."""
    trace_file = tmp_path / "trace.jsonl"
    code = ("import socket, sys\n"
            "s = socket.socket()\n"
            "s.bind(('0.0.0.0', 7300))\n"
            "s.listen()\n"
            "print('ready', flush=True)\n"
            "c, peer = s.accept()\n"
            "print('%s:%d' % peer, flush=True)\n")
    env = ["env", "LD_PRELOAD=" + lib_path(), "BINDTRACE_FILE=%s" % trace_file,
           "NETPROBE_HOST=h1"]
    server = subprocess.Popen(pair.h1.argv(env + [PYTHON, "-c", code]),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pair.lab.processes.append(server)
    assert server.stdout.readline() == "ready\n", server.stderr.read()
    client = pair.h2.probe("connect", "--no-greet", "10.0.0.1", 7300).only()
    assert client["ok"], client
    peer_seen = server.stdout.readline().strip()
    assert server.wait(timeout=nsutil.GUARD_SECONDS) == 0

    records = read_trace(trace_file)
    assert [r["op"] for r in records] == ["bind", "listen", "accept"]
    listen, accept = records[1], records[2]
    assert (listen["addr"], listen["port"], listen["ok"], listen["backlog"] > 0) == \
        ("0.0.0.0", 7300, True, True)
    assert (accept["addr"], accept["port"], accept["ok"]) == ("0.0.0.0", 7300, True)
    assert accept["local"] == "10.0.0.1:7300"   # the address the client reached
    assert accept["peer"] == peer_seen == client["local"]
    assert accept["accepted_fd"] != accept["fd"]


def test_nonblocking_connect_gets_a_done_record(stage, tracer, tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    for port, expected in ((6679, "ECONNREFUSED"), (SERVE_PORT, "OK")):
        proc = run_traced(stage.h2, [tracee_path(), "connect", "--nonblock", "10.0.0.1", port],
                          trace_file)
        assert proc.returncode == 0, proc.stderr
    records = read_trace(trace_file)
    got = [(r["port"], r["phase"], outcome(r)) for r in records if r["op"] == "connect"]
    assert got == [(6679, "call", "EINPROGRESS"), (6679, "done", "ECONNREFUSED"),
                   (SERVE_PORT, "call", "EINPROGRESS"), (SERVE_PORT, "done", "OK")], got
    done_ok = [r for r in records if r["phase"] == "done" and r["ok"]][0]
    assert done_ok["local"].startswith("10.0.0.2:")


def test_a_second_connect_gives_the_outcome_of_a_non_blocking_one(stage, tracer, tmp_path):
    """Some programs ask a second connect() how the first ended (Linux answers 0
    once, then EISCONN): the last record for the socket says OK."""
    trace_file = tmp_path / "trace.jsonl"
    code = ("import select, socket\n"
            "s = socket.socket()\n"
            "s.setblocking(False)\n"
            "print(s.connect_ex(('10.0.0.1', %d)))\n"
            "select.select([], [s], [], 5)\n"
            "print(s.connect_ex(('10.0.0.1', %d)))\n"
            "print(s.connect_ex(('10.0.0.1', %d)))\n" % ((SERVE_PORT,) * 3))
    proc = run_traced(stage.h2, [PYTHON, "-c", code], trace_file, check=True)
    # EINPROGRESS, 0, EISCONN (which Python's connect_ex reports as 0)
    assert proc.stdout.split()[0] == "115" and proc.stdout.split()[1] == "0"
    records = read_trace(trace_file)
    got = [(r["phase"], outcome(r)) for r in records]
    assert got == [("call", "EINPROGRESS"), ("call", "OK"), ("call", "EISCONN")], got
    assert outcome(final_record(records[:2], "connect", "10.0.0.1", SERVE_PORT)) == "OK"


def test_connect_from_a_bound_source_names_it(stage, tracer, tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    run_traced(stage.h2, ["socat", "-u", "OPEN:/dev/null",
                          "TCP:10.0.0.1:%d,bind=10.0.0.2:7400" % SERVE_PORT], trace_file,
               check=True)
    connect = [r for r in read_trace(trace_file) if r["op"] == "connect"][-1]
    assert (connect["src"], connect["sport"], connect["local"]) == \
        ("10.0.0.2", 7400, "10.0.0.2:7400")


# ------------------------------------------------------- what is not recorded


def test_unix_and_netlink_sockets_are_not_recorded(pair, tracer, tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    code = ("import socket\n"
            "u = socket.socket(socket.AF_UNIX)\n"
            "u.bind('\\0bindtrace-test-%d' % id(u))\n"
            "u.listen()\n"
            "c = socket.socket(socket.AF_UNIX)\n"
            "c.connect(u.getsockname())\n"
            "n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)\n"
            "n.bind((0, 0))\n"
            "socket.socket().bind(('10.0.0.2', 0))\n")
    run_traced(pair.h2, [PYTHON, "-c", code], trace_file, check=True)
    records = read_trace(trace_file)
    assert [(r["op"], r["addr"]) for r in records] == [("bind", "10.0.0.2")]


def test_without_a_trace_file_nothing_is_written_and_nothing_changes(pair, tracer, tmp_path):
    argv = [tracee_path(), "bind", "10.0.0.2", 7500, "10.0.0.1", 7501]
    env = ["env", "LD_PRELOAD=" + lib_path(), "BINDTRACE_FILE="]
    proc = nsutil.run(pair.h2.argv(env + [str(a) for a in argv]))
    assert proc.stdout == run_plain(pair.h2, argv).stdout
    assert os.listdir(tmp_path) == []


def test_a_program_that_closes_every_descriptor_gets_no_record_in_its_files(
        pair, tracer, tmp_path):
    """A daemon closes all descriptors, then its own files take every number the
    tracer could have held: records still go to the trace file, never into them."""
    trace_file = tmp_path / "trace.jsonl"
    own_file = tmp_path / "own.txt"
    code = ("import os, resource, socket, sys\n"
            "socket.socket().bind(('10.0.0.2', 0))\n"            # the tracer opens its fd
            "limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]\n"
            "os.closerange(3, limit)\n"                           # the daemon's clean slate
            "f = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)\n"
            "for fd in range(3, min(limit, 2048) - 8):\n"
            "    if fd != f:\n"
            "        os.dup2(f, fd)\n"                            # every number is its own
            "try:\n"
            "    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(('10.0.0.1', 0))\n"
            "except OSError as e:\n"
            "    print(e.errno)\n")
    proc = run_traced(pair.h2, [PYTHON, "-c", code, own_file], trace_file, check=True)
    assert proc.stdout == "99\n"
    assert own_file.read_text() == ""
    records = read_trace(trace_file)
    assert [(r["proto"], r["addr"], outcome(r)) for r in records] == [
        ("tcp", "10.0.0.2", "OK"), ("udp", "10.0.0.1", "EADDRNOTAVAIL")]


def test_reopen_mode_writes_the_same_records(pair, tracer, tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    proc = run_traced(pair.h2, [tracee_path(), "threads", 4, 25, "10.0.0.1"], trace_file,
                      extra_env=["BINDTRACE_REOPEN=1"])
    assert proc.returncode == 0, proc.stderr
    records = read_trace(trace_file)
    assert len(records) == 100
    assert {outcome(r) for r in records} == {"EADDRNOTAVAIL"}


def test_a_trace_file_that_cannot_be_opened_changes_nothing(pair, tracer, tmp_path):
    """Every record fails to open its file (ENOENT inside the tracer): the program
    still sees its own errno (tracee checks its marker on success) and output."""
    argv = [tracee_path(), "bind", "10.0.0.2", 7600, "10.0.0.2", 7600, "10.0.0.1", 7601]
    missing = tmp_path / "no-such-dir" / "trace.jsonl"
    traced = run_traced(pair.h2, argv, missing)
    plain = run_plain(pair.h2, argv)
    assert traced.returncode == plain.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout
    py = [PYTHON, "-c", PY_SEQUENCE, "10.0.0.2", "10.0.0.1"]
    assert json.loads(run_traced(pair.h2, py, missing, check=True).stdout) == \
        PY_SEQUENCE_EXPECTED
    assert not missing.parent.exists()


def test_no_memory_errors_in_the_tracer_under_valgrind(pair, tracer, tmp_path):
    """The tracer runs inside other programs: memcheck watches its code while it
    records threads, a non-blocking connect, IPv6 and failing binds."""
    trace_file = tmp_path / "trace.jsonl"
    valgrind = ["valgrind", "-q", "--error-exitcode=9", "--trace-children=no"]
    runs = [
        [tracee_path(), "threads", 4, 10, "10.0.0.2"],
        [tracee_path(), "connect", "--nonblock", "10.0.0.1", 6679],
        [tracee_path(), "bind", "10.0.0.2", 7700, "10.0.0.2", 7700, "::1", 0, "fe80::1", 5],
    ]
    for argv in runs:
        proc = run_traced(pair.h2, valgrind + argv, trace_file)
        assert proc.returncode == 0, (argv, proc.stderr)
    records = read_trace(trace_file)
    assert len(records) == 40 + 2 + 6, [(r["op"], r["addr"]) for r in records]


def test_threads_of_non_blocking_connects_each_get_their_done_record(stage, tracer, tmp_path):
    """8 threads x 25 non-blocking connects (refused and accepted, alternating), each
    finished by SO_ERROR: 200 EINPROGRESS records and 200 done records that match
    what each thread read."""
    trace_file = tmp_path / "trace.jsonl"
    code = ("import select, socket, sys, threading\n"
            "ports = [6679, %d]\n"
            "seen = []\n"
            "def worker():\n"
            "    for i in range(25):\n"
            "        s = socket.socket()\n"
            "        s.setblocking(False)\n"
            "        s.connect_ex(('10.0.0.1', ports[i %% 2]))\n"
            "        select.select([], [s], [], 5)\n"
            "        seen.append((s.fileno(), ports[i %% 2],\n"
            "                     s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))\n"
            "        s.close()\n"
            "threads = [threading.Thread(target=worker) for _ in range(8)]\n"
            "[t.start() for t in threads]\n"
            "[t.join() for t in threads]\n"
            "print(json.dumps(sorted([p, e] for _, p, e in seen)))\n" % SERVE_PORT)
    proc = run_traced(stage.h2, [PYTHON, "-c", "import json\n" + code], trace_file,
                      check=True)
    seen = json.loads(proc.stdout)
    assert len(seen) == 200
    assert {(p, e) for p, e in seen if p == 6679} == {(6679, 111)}
    records = read_trace(trace_file)
    calls = [r for r in records if r["op"] == "connect" and r["phase"] == "call"]
    done = [r for r in records if r["op"] == "connect" and r["phase"] == "done"]
    assert len(calls) == len(done) == 200
    assert {outcome(r) for r in calls} == {"EINPROGRESS"}
    # every thread's SO_ERROR, and only those, in the done records
    assert sorted([r["port"], r["errno"]] for r in done) == seen
    assert len({r["tid"] for r in done}) == 8


def test_a_program_name_that_is_not_utf8_still_gives_json(pair, tracer, tmp_path):
    """"prog" is the program's own name, any bytes: the record must still decode
    strictly (the byte 0xff as U+FFFD)."""
    odd = os.path.join(os.fsencode(tmp_path), b"tr\xff")
    with open(tracee_path(), "rb") as src, open(odd, "wb") as dst:
        dst.write(src.read())
    os.chmod(odd, 0o755)
    trace_file = tmp_path / "trace.jsonl"
    proc = run_traced(pair.h2, [os.fsdecode(odd), "bind", "10.0.0.2", 7800], trace_file)
    assert proc.returncode == 0, proc.stderr
    with open(trace_file, "rb") as f:
        records = nsutil.parse_records(f.read().decode("utf-8"))
    assert [(r["prog"], outcome(r)) for r in records if r["op"] == "bind"] == \
        [("tr\ufffd", "OK")]


# ------------------------------------------- a trace file that is not a plain file

# A guard against a hung program (the bug: open() of a FIFO without a reader
# blocks inside bind() for ever), never an assertion about speed.
HANG_GUARD_S = 20

TRACEE_BINDS = ["bind", "10.0.0.2", 7900, "10.0.0.2", 7900, "10.0.0.1", 7901]


def run_traced_guarded(ns, argv, trace_file):
    """run_traced() with a short guard: a hang fails the test instead of stalling it."""
    env = ["env", "LD_PRELOAD=" + lib_path(), "BINDTRACE_FILE=%s" % trace_file,
           "NETPROBE_HOST=" + ns.label]
    return subprocess.run(ns.argv(env + [str(a) for a in argv]), capture_output=True,
                          text=True, timeout=HANG_GUARD_S)


def test_a_fifo_without_a_reader_does_not_hang_the_program(pair, tracer, tmp_path):
    fifo = tmp_path / "trace.fifo"
    os.mkfifo(fifo)
    argv = [tracee_path()] + TRACEE_BINDS
    traced = run_traced_guarded(pair.h2, argv, fifo)
    plain = run_plain(pair.h2, argv)
    assert traced.returncode == plain.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout            # every errno and return value


PY_TWO_BINDS = r"""
import signal, socket, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # as a C program has it
def bind(addr, port):
    try:
        socket.socket().bind((addr, port))
        return 0
    except OSError as e:
        return e.errno
first = bind("10.0.0.2", 0)
print(first, flush=True)
sys.stdin.readline()              # the test closes the FIFO's reader meanwhile
print(bind("10.0.0.1", 7902), flush=True)
"""


def test_a_fifo_reader_that_goes_away_does_not_kill_the_program(pair, tracer, tmp_path):
    """A FIFO with a reader is not a trace file either: nothing is written into it,
    so the reader leaving cannot raise SIGPIPE in the program (it did: -13)."""
    fifo = tmp_path / "trace.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    env = ["env", "LD_PRELOAD=" + lib_path(), "BINDTRACE_FILE=%s" % fifo]
    program = subprocess.Popen(pair.h2.argv(env + [PYTHON, "-c", PY_TWO_BINDS]),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    pair.lab.processes.append(program)
    try:
        assert program.stdout.readline() == "0\n"
        try:
            got = os.read(reader, 65536)
        except BlockingIOError:
            got = b""
    finally:
        os.close(reader)
    program.stdin.write("go\n")
    program.stdin.close()
    assert program.wait(timeout=HANG_GUARD_S) == 0, program.stderr.read()
    assert program.stdout.read() == "99\n"
    assert got == b"", "records were written into a FIFO: %r" % got[:200]


def test_a_symlink_at_the_trace_file_is_not_followed(pair, tracer, tmp_path):
    """As root, following a symlink would append records to whatever it names."""
    target = tmp_path / "precious"
    target.write_text("precious\n")
    link = tmp_path / "trace.jsonl"
    os.symlink(target, link)
    dangling = tmp_path / "dangling.jsonl"
    os.symlink(tmp_path / "created-by-the-tracer", dangling)
    argv = [tracee_path()] + TRACEE_BINDS
    plain = run_plain(pair.h2, argv)
    for trace_file in (link, dangling):
        for reopen in ("0", "1"):
            env = ["env", "LD_PRELOAD=" + lib_path(), "BINDTRACE_FILE=%s" % trace_file,
                   "BINDTRACE_REOPEN=" + reopen]
            traced = nsutil.run(pair.h2.argv(env + [str(a) for a in argv]), check=False)
            assert traced.returncode == 0 and traced.stdout == plain.stdout, traced.stderr
    assert target.read_text() == "precious\n"
    assert not (tmp_path / "created-by-the-tracer").exists()
