"""bindtrace-sys (csrc/trace/systrace_*), the ptrace tracer, against real namespaces.

The programs LD_PRELOAD cannot reach are traced here: the C test program linked
statically with musl (build/trace/tracee-musl), a static Go program
(build/trace/goprobe), and the dynamic tracee (build/trace/tracee) to hold the two
tracers side by side.  Each test runs them in two namespaces on one veth link
(conftest.Pair: h1 10.0.0.1, h2 10.0.0.2) and checks:

- the traced program sees exactly what it sees untraced (every return value and
  errno of bind, connect, listen, accept, getsockopt, close, blocking and not);
- the records: EADDRNOTAVAIL for another host's address, OK for a connect to a
  listener, ECONNREFUSED for a closed port, a non-blocking connect followed to its
  "done" record (Go always connects that way), a close() while under way;
- a forking and a multithreaded static program: every call once, right pid and tid;
- both tracers tracing one run write the same records, field by field;
- the exit status and signals pass through; a signal to the group ends both;
- where ptrace is refused (here: the tracer is itself traced, a real EPERM) the
  program runs untraced and the trace says so; the harness then observes it;
- `harness run wrong-host` with a static client and server: method `syscall`.

The toolchains come from Debian (scripts/install-debs musl-tools golang-go, through
the Makefile's rules); a test fails when they cannot be installed (never a skip).
$BINDTRACE_SYS names the tracer (default build/asan/bindtrace-sys).
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import nsutil
from test_tracer import assert_well_formed, lib_path, outcome, read_trace, tracee_path

REPO = nsutil.REPO
PYTHON = "/usr/bin/python3"
SERVE_PORT = 6680          # netprobe serve on h1
CLOSED_PORT = 6679         # nobody listens there
UNREACHABLE = "10.0.0.99"  # on the link, answered by nobody: a connect stays under way
TIMING = ("elapsed_us", "tracer", "mono_ns")


def systrace_path():
    return os.environ.get("BINDTRACE_SYS") or os.path.join(REPO, "build", "asan",
                                                           "bindtrace-sys")


def build(target):
    """`make TARGET` (its rule installs the Debian toolchain it needs).  A failure,
    an apt failure included, fails the test: a toolchain that cannot be installed is
    a broken test machine, not a feature the kernel lacks."""
    proc = subprocess.run(["make", "--no-print-directory", target], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        package = "golang-go" if "goprobe" in target else "musl-tools"
        pytest.fail("make %s failed (it needs %s): %s" % (target, package,
                                                          proc.stderr[-2000:]))
    return os.path.join(REPO, target)


@pytest.fixture(scope="module")
def systrace():
    path = systrace_path()
    if not os.access(path, os.X_OK):
        pytest.fail("%s is missing: make build/asan/bindtrace-sys (or set BINDTRACE_SYS)"
                    % path)
    for path in (lib_path(), tracee_path()):
        if not os.path.exists(path):
            pytest.fail("%s is missing: make build/libbindtrace.so build/trace/tracee" % path)
    return systrace_path()


@pytest.fixture(scope="module")
def musl():
    return build("build/trace/tracee-musl")


@pytest.fixture(scope="module")
def goprobe():
    return build("build/trace/goprobe")


def sys_argv(trace_file, argv, host="h2", extra=()):
    """@argv under bindtrace-sys writing @trace_file."""
    return [systrace_path(), "-o", str(trace_file), "--host", host] + list(extra) + \
        ["--"] + [str(a) for a in argv]


def run_sys(ns, argv, trace_file, extra=(), check=False):
    """Runs @argv in @ns under bindtrace-sys.  Returns the CompletedProcess."""
    return nsutil.run(ns.argv(sys_argv(trace_file, argv, ns.label, extra)), check=check)


def run_plain(ns, argv):
    return nsutil.run(ns.argv([str(a) for a in argv]), check=False)


def calls_argv(binary, port=7100):
    return [binary, "calls", "10.0.0.2", "10.0.0.1", port, UNREACHABLE]


def comparable(record):
    """A record without what may differ between two tracers of one call."""
    return {k: v for k, v in record.items() if k not in TIMING}


@pytest.fixture
def stage(pair):
    pair.h1.serve("10.0.0.1", SERVE_PORT)
    return pair


# ------------------------------------------------------ the program cannot tell


@pytest.mark.parametrize("kind", ["dynamic", "musl"])
def test_every_result_and_errno_is_the_same_traced_and_untraced(pair, systrace, musl,
                                                                tmp_path, kind):
    binary = tracee_path() if kind == "dynamic" else musl
    trace_file = tmp_path / "trace.jsonl"
    plain = run_plain(pair.h2, calls_argv(binary))
    traced = run_sys(pair.h2, calls_argv(binary), trace_file)
    assert plain.returncode == traced.returncode == 0, (plain.stderr, traced.stderr)
    assert traced.stdout == plain.stdout
    steps = {s["step"]: s["errno"] for s in map(json.loads, plain.stdout.splitlines())}
    assert (steps["bind-other-host"], steps["bind-in-use"], steps["bind-bad-pointer"],
            steps["connect-refused"], steps["so-error"], steps["third-connect"],
            steps["accept-nothing-waiting"], steps["nonblock-connect-unreachable"],
            steps["connect-again-under-way"], steps["close-bad-fd"]) == \
        (99, 98, 14, 111, 111, 106, 11, 115, 114, 9)

    records = read_trace(trace_file)
    for record in records:
        if record["op"] != "close":
            assert_well_formed(record, "h2")
        assert record["tracer"] == "syscall" and record["prog"] == os.path.basename(binary)
    got = [(r["op"], r["addr"], r["port"], outcome(r), r.get("phase")) for r in records]
    assert got == [
        ("bind", "10.0.0.2", 7100, "OK", None),
        ("listen", "10.0.0.2", 7100, "OK", None),
        ("bind", "10.0.0.2", 7100, "EADDRINUSE", None),
        ("bind", "10.0.0.1", 7100, "EADDRNOTAVAIL", None),
        ("bind", None, None, "EFAULT", None),
        ("listen", "0.0.0.0", 0, "EOPNOTSUPP", None),
        ("connect", "10.0.0.2", 7102, "ECONNREFUSED", "call"),
        ("connect", "10.0.0.2", 7100, "OK", "call"),
        ("accept", "10.0.0.2", 7100, "OK", None),
        ("connect", "10.0.0.2", 7102, "EINPROGRESS", "call"),
        ("connect", "10.0.0.2", 7102, "ECONNREFUSED", "done"),
        ("connect", "10.0.0.2", 7100, "EINPROGRESS", "call"),
        ("connect", "10.0.0.2", 7100, "OK", "call"),
        ("connect", "10.0.0.2", 7100, "EISCONN", "call"),
        ("accept", "10.0.0.2", 7100, "OK", None),
        ("accept", "10.0.0.2", 7100, "EAGAIN", None),
        ("connect", UNREACHABLE, 7100, "EINPROGRESS", "call"),
        ("connect", UNREACHABLE, 7100, "EALREADY", "call"),
        ("close", UNREACHABLE, 7100, "OK", "gave-up"),
    ], got
    accept4 = records[14]
    assert accept4["call"] is None and accept4["peer"] and accept4["accepted_fd"] > 2
    gave_up = records[-1]
    assert gave_up["fd"] == records[-2]["fd"] and gave_up["local"].startswith("10.0.0.2:")


def test_both_tracers_of_one_run_write_the_same_records(pair, systrace, tmp_path):
    """bindtrace-sys traces the dynamic tracee while libbindtrace.so is preloaded into
    it: the very same calls, two trace files, equal field by field but for timing and
    the tracer's name (the close() while under way included)."""
    sys_file, pre_file = tmp_path / "sys.jsonl", tmp_path / "preload.jsonl"
    argv = ["env", "LD_PRELOAD=" + lib_path(), "BINDTRACE_FILE=%s" % pre_file,
            "NETPROBE_HOST=h2"] + \
        calls_argv(tracee_path(), 7200)
    proc = run_sys(pair.h2, argv, sys_file)
    assert proc.returncode == 0, proc.stderr
    by_sys, by_preload = read_trace(sys_file), read_trace(pre_file)
    assert {r["tracer"] for r in by_sys} == {"syscall"}
    assert {r["tracer"] for r in by_preload} == {"preload"}
    assert len(by_sys) == len(by_preload) == 19
    for a, b in zip(by_sys, by_preload):
        assert comparable(a) == comparable(b), (a, b)
    assert by_sys[-1]["op"] == "close" and by_sys[-1]["phase"] == "gave-up"


def test_without_pidfd_getfd_the_records_say_they_hold_only_the_arguments(
        pair, systrace, musl, tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    proc = run_sys(pair.h2, [musl, "bind", "10.0.0.1", 7300], trace_file,
                   extra=["--no-getfd"])
    assert proc.returncode == 0, proc.stderr
    [bind] = read_trace(trace_file)
    assert (bind["op"], bind["addr"], bind["port"], outcome(bind), bind["facts"]) == \
        ("bind", "10.0.0.1", 7300, "EADDRNOTAVAIL", "arguments")
    assert bind["proto"] is None and bind["options"] is None


# ----------------------------------------------------------- static programs


def test_static_musl_program_is_traced(stage, systrace, musl, tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    for argv in ([musl, "bind", "10.0.0.1", 7400],
                 [musl, "connect", "10.0.0.1", SERVE_PORT],
                 [musl, "connect", "10.0.0.1", CLOSED_PORT],
                 [musl, "connect", "--nonblock", "10.0.0.1", CLOSED_PORT],
                 [musl, "connect", "--nonblock", "10.0.0.1", SERVE_PORT]):
        proc = run_sys(stage.h2, argv, trace_file)
        assert proc.returncode == 0, (argv, proc.stderr)
    got = [(r["op"], r["port"], outcome(r), r.get("phase")) for r in read_trace(trace_file)]
    assert got == [
        ("bind", 7400, "EADDRNOTAVAIL", None),
        ("connect", SERVE_PORT, "OK", "call"),
        ("connect", CLOSED_PORT, "ECONNREFUSED", "call"),
        ("connect", CLOSED_PORT, "EINPROGRESS", "call"),
        ("connect", CLOSED_PORT, "ECONNREFUSED", "done"),
        ("connect", SERVE_PORT, "EINPROGRESS", "call"),
        ("connect", SERVE_PORT, "OK", "done"),
    ], got


def test_static_go_program_is_traced(stage, systrace, goprobe, tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    for argv in ([goprobe, "listen", "10.0.0.1", 7500],
                 [goprobe, "connect", "10.0.0.1", SERVE_PORT],
                 [goprobe, "connect", "10.0.0.1", CLOSED_PORT]):
        proc = run_sys(stage.h2, argv, trace_file)
        assert proc.returncode == 0, (argv, proc.stderr)
        assert "errno" in proc.stdout
    records = read_trace(trace_file)
    got = [(r["op"], r["addr"], r["port"], outcome(r), r.get("phase")) for r in records]
    assert got == [
        ("bind", "10.0.0.1", 7500, "EADDRNOTAVAIL", None),
        ("connect", "10.0.0.1", SERVE_PORT, "EINPROGRESS", "call"),
        ("connect", "10.0.0.1", SERVE_PORT, "OK", "done"),
        ("connect", "10.0.0.1", CLOSED_PORT, "EINPROGRESS", "call"),
        ("connect", "10.0.0.1", CLOSED_PORT, "ECONNREFUSED", "done"),
    ], got
    assert {r["prog"] for r in records} == {"goprobe"}
    done = records[2]
    assert (done["pid"], done["fd"]) == (records[1]["pid"], records[1]["fd"])
    assert done["local"].startswith("10.0.0.2:")


def test_go_goroutines_on_threads_are_each_recorded_once(stage, systrace, goprobe,
                                                         tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    proc = run_sys(stage.h2, [goprobe, "connects", 16, "10.0.0.1", SERVE_PORT], trace_file)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["errno"] for line in proc.stdout.splitlines()] == [0] * 16
    records = read_trace(trace_file)
    calls = [r for r in records if r["op"] == "connect" and r["phase"] == "call"]
    done = [r for r in records if r["op"] == "connect" and r["phase"] == "done"]
    assert len(calls) == len(done) == 16
    assert {outcome(r) for r in done} == {"OK"}
    assert len({r["pid"] for r in records}) == 1


def test_a_forking_static_program_is_traced_under_each_pid(pair, systrace, musl, tmp_path):
    """tracee-musl binds, forks; the child binds and execs the dynamic tracee, which
    binds h1's address: each call once, under the pid that made it, prog updated."""
    trace_file = tmp_path / "trace.jsonl"
    proc = run_sys(pair.h2, [musl, "forkexec", tracee_path(), "bind", "10.0.0.1", 7600],
                   trace_file)
    assert proc.returncode == 0, proc.stderr
    binds = [r for r in read_trace(trace_file) if r["op"] == "bind"]
    assert [(r["prog"], r["addr"], outcome(r)) for r in binds] == [
        ("tracee-musl", "127.0.0.1", "OK"),
        ("tracee-musl", "127.0.0.1", "OK"),
        ("tracee", "10.0.0.1", "EADDRNOTAVAIL"),
    ]
    parent, child, execd = binds
    assert parent["pid"] != child["pid"] and child["tid"] == child["pid"]
    assert execd["pid"] == child["pid"]


def test_a_multithreaded_static_program_is_traced_completely(pair, systrace, musl,
                                                             tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    proc = run_sys(pair.h2, [musl, "threads", 8, 50, "10.0.0.1"], trace_file)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["failed"], summary["errno_changed"]) == (400, 0), summary
    records = read_trace(trace_file)
    assert len(records) == 400
    assert {(r["op"], outcome(r)) for r in records} == {("bind", "EADDRNOTAVAIL")}
    assert len({r["tid"] for r in records}) == 8
    assert len({r["pid"] for r in records}) == 1
    assert records[0]["pid"] not in {r["tid"] for r in records}   # threads, not main


# ---------------------------------------------------- exit status and signals


def test_exit_status_and_death_by_signal_are_the_programs(pair, systrace, tmp_path):
    trace_file = tmp_path / "trace.jsonl"
    assert run_sys(pair.h2, ["sh", "-c", "exit 7"], trace_file).returncode == 7
    assert run_sys(pair.h2, ["sh", "-c", "kill -TERM $$"], trace_file).returncode == \
        -signal.SIGTERM
    missing = run_sys(pair.h2, [tmp_path / "no-such-program"], trace_file)
    assert missing.returncode == 127 and "No such file" in missing.stderr


def test_sigterm_to_the_group_ends_program_and_tracer(stage, systrace, musl, tmp_path):
    """How the harness stops a launch: SIGTERM to the process group the tracer leads.
    A group-stop (SIGSTOP) on the way keeps the program stopped until SIGCONT."""
    trace_file = tmp_path / "trace.jsonl"
    proc = subprocess.Popen(stage.h2.argv(sys_argv(trace_file, [musl, "serve", "10.0.0.2",
                                                                7700])),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    stage.lab.processes.append(proc)
    assert json.loads(proc.stdout.readline())["call"] == "listen"
    program = _only_child_named(proc.pid, "tracee-musl")
    assert os.getpgid(program) == proc.pid
    os.kill(program, signal.SIGSTOP)
    assert _wait_state(program, "t", "T")
    time.sleep(0.3)
    assert _state(program) in ("t", "T"), "the tracer let a stopped program run"
    os.kill(program, signal.SIGCONT)
    assert _wait_state(program, "S", "R")
    client = stage.h1.probe("connect", "10.0.0.2", 7700).only()
    assert client["ok"], client
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=nsutil.GUARD_SECONDS) == -signal.SIGTERM
    assert not os.path.exists("/proc/%d" % program)
    ops = [r["op"] for r in read_trace(trace_file)]
    assert ops[:2] == ["bind", "listen"] and "accept" in ops


def _only_child_named(pid, name):
    """The pid of the one descendant of @pid whose comm is @name (nsenter's
    `ip netns exec` execs in place: the tracer is @pid itself)."""
    deadline = time.monotonic() + nsutil.GUARD_SECONDS
    while time.monotonic() < deadline:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            for child in map(int, f.read().split()):
                with open("/proc/%d/comm" % child) as c:
                    if c.read().strip() == name:
                        return child
        time.sleep(0.02)
    raise TimeoutError("no child %s of %d" % (name, pid))


def _state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def _wait_state(pid, *states):
    deadline = time.monotonic() + nsutil.GUARD_SECONDS
    while _state(pid) not in states:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# --------------------------------------------------------- ptrace not allowed


def test_a_tracer_refused_ptrace_runs_the_program_untraced_and_says_so(
        pair, systrace, musl, tmp_path):
    """A real refusal: the inner bindtrace-sys is itself traced by the outer one, so
    the kernel refuses it PTRACE_SEIZE of its child (EPERM).  It says so in one line
    and one record, and the program runs as it would, under the inner's pid."""
    outer, inner = tmp_path / "outer.jsonl", tmp_path / "inner.jsonl"
    argv = sys_argv(inner, [musl, "bind", "10.0.0.1", 7800, "10.0.0.2", 7801])
    proc = run_sys(pair.h2, argv, outer)
    plain = run_plain(pair.h2, [musl, "bind", "10.0.0.1", 7800, "10.0.0.2", 7801])
    assert proc.returncode == plain.returncode == 0, proc.stderr
    assert proc.stdout == plain.stdout
    assert proc.stderr.splitlines() == [
        "bindtrace-sys: ptrace refused (EPERM): the program runs untraced"]
    [untraced] = read_trace(inner)
    assert (untraced["op"], untraced["error"], untraced["call"], untraced["prog"]) == \
        ("untraced", "EPERM", "ptrace", "tracee-musl")
    assert "runs untraced" in untraced["reason"]
    # the outer tracer still saw the program's calls, under the inner's pid
    binds = [r for r in read_trace(outer) if r["op"] == "bind"]
    assert [(r["addr"], outcome(r)) for r in binds] == [("10.0.0.1", "EADDRNOTAVAIL"),
                                                        ("10.0.0.2", "OK")]
    assert {r["pid"] for r in binds} == {untraced["pid"]}


# ------------------------------------------------------------------ the harness

sys.path.insert(0, REPO)


def harness(*args, env=None):
    """`python3 -m harness ARGS` with this tree's netprobe and tracers (@env may name
    another BINDTRACE_SYS)."""
    env = dict(os.environ if env is None else env,
               NETPROBE=os.path.join(REPO, "build", "netprobe"), BINDTRACE_LIB=lib_path())
    env.setdefault("BINDTRACE_SYS", os.path.join(REPO, "build", "bindtrace-sys"))
    return subprocess.run([PYTHON, "-m", "harness"] + list(args), cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


def wrong_host_cells(tmp_path, *args, env=None):
    res = harness("run", "wrong-host", "--out", str(tmp_path), *args, env=env)
    with open(os.path.join(os.path.realpath(tmp_path / "latest"), "wrong-host",
                           "matrix.json")) as f:
        return res, json.load(f)["cells"]


def test_harness_judges_a_static_client_and_server_by_their_syscalls(systrace, musl,
                                                                     tmp_path):
    res, cells = wrong_host_cells(
        tmp_path, "--server", "%s serve {addr} {port}" % musl,
        "--client", "%s connect --src {src} {addr} {port}" % musl)
    assert res.returncode == 0, res.stdout + res.stderr
    tcp = [c for c in cells if c["proto"] == "tcp"]
    assert {c["method"] for c in tcp} == {"syscall"}
    assert len(tcp) == 33 + 24
    by = {(c["kind"], c["host"], c["column"]): c for c in cells}
    assert by[("bind", "h2", "tcp 10.0.0.1")]["actual"] == "EADDRNOTAVAIL"
    assert by[("connect", "h2", "tcp 10.0.0.1:7009")]["actual"] == "ECONNREFUSED"
    assert by[("connect", "h2", "tcp 10.0.0.3:7001 src=10.0.0.1")]["actual"] == \
        "EADDRNOTAVAIL"
    assert by[("connect", "h3", "tcp [fd00::1]:7001")]["actual"] == "OK"
    servers = [c for c in tcp if c["kind"] == "bind" and c["actual"] == "OK"]
    assert servers and all(c["stopped"] for c in servers)
    assert _running_with(musl) == [], "a stopped launch left its program running"


def _running_with(path):
    """The pids whose command line names @path."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if os.fsencode(path) in f.read().split(b"\0"):
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_harness_trace_syscall_takes_dynamic_programs_too(systrace, tmp_path):
    res, cells = wrong_host_cells(tmp_path, "--trace", "syscall", "--client",
                                  "python3 examples/client.py {addr} {port} {src}")
    assert res.returncode == 0, res.stdout + res.stderr
    assert {c["method"] for c in cells if c["kind"] == "connect" and c["proto"] == "tcp"} \
        == {"syscall"}


def test_harness_observes_a_program_whose_tracer_is_refused_ptrace(systrace, musl,
                                                                   tmp_path):
    """$BINDTRACE_SYS is a tracer that is itself traced (the refusal of the test
    above): each launch's first record says untraced, its cell is `observed` and says
    why."""
    wrapper = tmp_path / "traced-tracer"
    tracer = os.path.join(REPO, "build", "bindtrace-sys")
    wrapper.write_text("#!/bin/sh\nexec %s -o %s -- %s \"$@\"\n"
                       % (tracer, tmp_path / "outer.jsonl", tracer))
    wrapper.chmod(0o755)
    res, cells = wrong_host_cells(tmp_path, "--client", "%s connect {addr} {port}" % musl,
                                  env=dict(os.environ, BINDTRACE_SYS=str(wrapper)))
    clients = [c for c in cells if c.get("program")]
    assert clients, res.stdout + res.stderr
    assert {c["method"] for c in clients} == {"observed"}
    for cell in clients:
        assert "ptrace refused (EPERM): the program runs untraced, so only observed" in \
            cell["message"], cell


def test_harness_trace_syscall_without_the_tracer_is_refused_before_building(tmp_path):
    env = dict(os.environ, BINDTRACE_SYS=str(tmp_path / "no-bindtrace-sys"))
    res = harness("run", "wrong-host", "--out", str(tmp_path), "--trace", "syscall",
                  "--client", "python3 examples/client.py {addr} {port} {src}", env=env)
    assert res.returncode == 2, res.stderr
    assert "no-bindtrace-sys not found: build it with `make build/bindtrace-sys`" in res.stderr
    assert not os.path.exists(tmp_path / "latest")
