"""netprobe against real namespaces: every socket failure bindlab is about.

Each test builds the smallest network that produces one outcome (two namespaces on
a veth link, see conftest.Pair), runs the real probe in it, and asserts the record's
``ok`` flag and ``error`` name: what a user reads in a matrix cell.  Nothing is
mocked and nothing is timed; waits poll the kernel's own state.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

import nsutil

ERRNO_99 = nsutil.ERRNO_99
assert_outcome = nsutil.assert_outcome


# ---------------------------------------------------------------- bind: Errno 99


def test_bind_another_hosts_address_is_errno_99(pair):
    """The seed's case: h2 binds h1's address."""
    run = pair.h2.probe("bind", "10.0.0.1", 6677)
    assert run.returncode == 0, run.stderr
    record = run.only()
    assert_outcome(record, ERRNO_99)
    assert record["errno"] == 99
    assert record["message"] == "Cannot assign requested address"
    assert record["call"] == "bind"
    assert (record["op"], record["host"], record["addr"], record["port"]) == \
        ("bind", "h2", "10.0.0.1", 6677)
    # the same bind on the host that has the address works
    assert_outcome(pair.h1.probe("bind", "10.0.0.1", 6677).only(), None)


def test_bind_a_deleted_address_is_errno_99(pair):
    pair.h1.addr_add(pair.h1_dev, "10.0.0.5/24")
    assert_outcome(pair.h1.probe("bind", "10.0.0.5", 7000).only(), None)
    pair.h1.ip("addr", "del", "10.0.0.5/24", "dev", pair.h1_dev)
    assert_outcome(pair.h1.probe("bind", "10.0.0.5", 7000).only(), ERRNO_99)


def test_bind_a_tentative_ipv6_address_is_errno_99_until_dad_completes(pair):
    h1, dev = pair.h1, pair.h1_dev
    # several probes, so that the address stays tentative for seconds, not a blink
    h1.sysctl("net.ipv6.conf.%s.dad_transmits" % dev, 3)
    h1.sysctl("net.ipv6.conf.%s.accept_dad" % dev, 1)
    h1.addr_add(dev, "2001:db8::1/64")
    record = h1.probe("bind", "-6", "2001:db8::1", 7001).only()
    still_tentative = "tentative" in h1.addr_flags(dev, "2001:db8::1")
    assert still_tentative, "DAD finished before the probe ran; the test proved nothing"
    assert_outcome(record, ERRNO_99)

    flags = h1.wait_dad_done(dev, "2001:db8::1")
    assert "dadfailed" not in flags
    assert_outcome(h1.probe("bind", "-6", "2001:db8::1", 7001).only(), None)


def test_bind_a_nodad_ipv6_address_works_at_once(pair):
    h1, dev = pair.h1, pair.h1_dev
    h1.sysctl("net.ipv6.conf.%s.dad_transmits" % dev, 3)
    h1.addr_add(dev, "2001:db8::2/64", "nodad")
    assert "tentative" not in h1.addr_flags(dev, "2001:db8::2")
    assert_outcome(h1.probe("bind", "2001:db8::2", 7002).only(), None)


def test_addrs_reports_the_tentative_flag(pair):
    h1, dev = pair.h1, pair.h1_dev
    h1.sysctl("net.ipv6.conf.%s.dad_transmits" % dev, 3)
    h1.addr_add(dev, "2001:db8::3/64")
    run = h1.probe("addrs", "--json")
    assert "tentative" in h1.addr_flags(dev, "2001:db8::3"), "DAD finished too soon"
    assert run.returncode == 0, run.stderr
    mine = [r for r in run.records if r.get("addr") == "2001:db8::3"]
    assert len(mine) == 1, run.records
    assert "tentative" in mine[0]["flags"], mine[0]
    assert (mine[0]["ifname"], mine[0]["family"], mine[0]["prefixlen"]) == (dev, "inet6", 64)
    v4 = [r for r in run.records if r.get("addr") == "10.0.0.1"]
    assert len(v4) == 1 and v4[0]["prefixlen"] == 24, run.records
    # once DAD is done the flag goes
    h1.wait_dad_done(dev, "2001:db8::3")
    after = [r for r in h1.probe("addrs", "--json").records if r.get("addr") == "2001:db8::3"]
    assert "tentative" not in after[0]["flags"], after


# ---------------------------------------------------------------- connect: Errno 99


def test_connect_with_the_ephemeral_ports_exhausted_is_errno_99(pair):
    """Two ephemeral ports, three held connections to one server: the third has no
    free source port (the "Errno 99 under load" of containers and CI)."""
    server = pair.h1.serve("10.0.0.1", 7010)
    assert_outcome(server.ready, None)
    pair.h2.sysctl("net.ipv4.ip_local_port_range", "40000 40001")
    plan = "".join("c%d connect tcp 10.0.0.1 7010 hold timeout=5000\n" % i for i in range(3))
    run = pair.h2.probe("batch", input=plan)
    assert run.returncode == 0, run.stderr
    assert len(run.records) == 3, run.records
    assert sorted(r["ok"] for r in run.records) == [False, True, True], run.records
    failed = [r for r in run.records if not r["ok"]]
    assert_outcome(failed[0], ERRNO_99)
    for record in run.records:
        if record["ok"]:
            assert record["local"].split(":")[-1] in ("40000", "40001"), record
            assert record["peer_host"] == "h1", record


def test_probes_leave_no_time_wait_to_take_the_next_ones_port(pair):
    """One ephemeral port, twenty probes in a row to netprobe's server: each gets the
    port, and neither side holds a TIME_WAIT afterwards.  A probe that closed before
    the server's FIN arrived left TIME_WAIT on the client (about one connect in three
    on a busy machine), and the next probe to the same server got EADDRNOTAVAIL that
    the network did not cause (the port-exhaustion lab's own sheet failed on it)."""
    server = pair.h1.serve("10.0.0.1", 7011)
    assert_outcome(server.ready, None)
    pair.h2.sysctl("net.ipv4.ip_local_port_range", "40000 40000")
    for _ in range(20):
        assert_outcome(pair.h2.probe("connect", "10.0.0.1", 7011).only(), None)
    for ns in (pair.h1, pair.h2):
        left = ns.sh(["ss", "-Htan", "state", "time-wait"]).stdout.strip()
        assert not left, f"{ns.name} holds TIME_WAIT: {left}"
    assert server.stop() == 0


# ---------------------------------------------------------------- the other errors


def test_two_binds_of_one_port_are_eaddrinuse(pair):
    run = pair.h1.probe("bind", "10.0.0.1", 7020, "10.0.0.1", 7020)
    assert run.returncode == 0, run.stderr
    first, second = run.records
    assert_outcome(first, None)
    assert_outcome(second, "EADDRINUSE")


def test_bind_against_a_serve_is_eaddrinuse(pair):
    server = pair.h1.serve("10.0.0.1", 7021)
    assert_outcome(server.ready, None)
    assert_outcome(pair.h1.probe("bind", "10.0.0.1", 7021).only(), "EADDRINUSE")
    # the wildcard conflicts with it too
    assert_outcome(pair.h1.probe("bind", "any", 7021).only(), "EADDRINUSE")


@pytest.fixture
def probe_for_nobody(netprobe):
    """A copy of the probe that user 65534 can run wherever the tree lives (a
    checkout under a private home directory is not reachable for nobody)."""
    where = tempfile.mkdtemp(prefix=nsutil.PREFIX)
    os.chmod(where, 0o755)
    copy = os.path.join(where, "netprobe")
    shutil.copy(netprobe, copy)
    os.chmod(copy, 0o755)
    yield copy
    shutil.rmtree(where)


def test_privileged_port_without_cap_net_bind_service_is_eacces(pair, probe_for_nobody):
    nobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
              "--inh-caps=-all"]
    run = pair.h1.probe("bind", "10.0.0.1", 80, wrap=nobody, binary=probe_for_nobody)
    assert run.returncode == 0, run.stderr
    assert_outcome(run.only(), "EACCES")
    # an unprivileged port works for the same user, and root may take port 80
    assert_outcome(pair.h1.probe("bind", "10.0.0.1", 8080, wrap=nobody,
                                 binary=probe_for_nobody).only(), None)
    assert_outcome(pair.h1.probe("bind", "10.0.0.1", 80).only(), None)


def test_link_local_without_scope_is_einval(pair):
    h1, dev = pair.h1, pair.h1_dev
    h1.addr_add(dev, "fe80::1/64", "nodad")
    assert_outcome(h1.probe("bind", "fe80::1", 7030).only(), "EINVAL")
    # with the scope it is a different story
    assert_outcome(h1.probe("bind", "fe80::1%" + dev, 7030).only(), None)


def test_tcp_connect_with_no_listener_is_econnrefused(pair):
    record = pair.h2.probe("connect", "10.0.0.1", 7040).only()
    assert_outcome(record, "ECONNREFUSED")
    assert record["op"] == "connect" and record["peer_host"] is None


def test_udp_connect_with_no_listener_is_econnrefused(pair):
    """UDP learns it from the ICMP port unreachable (IP_RECVERR)."""
    record = pair.h2.probe("connect", "--udp", "10.0.0.1", 7041).only()
    assert_outcome(record, "ECONNREFUSED")
    assert record["proto"] == "udp"


def test_connect_with_no_route_is_enetunreach(pair):
    # h2 knows 10.0.0.0/24 only: no default route
    assert_outcome(pair.h2.probe("connect", "192.0.2.1", 80).only(), "ENETUNREACH")


def test_connect_to_a_dropping_host_is_etimedout(pair):
    pair.h1.nft("table inet blt {\n chain input {\n"
                "  type filter hook input priority 0;\n  tcp dport 7050 drop\n }\n}\n")
    server = pair.h1.serve("10.0.0.1", 7050)
    assert_outcome(server.ready, None)
    record = pair.h2.probe("connect", "--timeout", 200, "10.0.0.1", 7050).only()
    assert_outcome(record, "ETIMEDOUT")
    assert record["timeout_ms"] == 200
    # the same server answers once the rule is gone: the drop was the cause
    pair.h1.sh(["nft", "delete", "table", "inet", "blt"])
    assert_outcome(pair.h2.probe("connect", "10.0.0.1", 7050).only(), None)


def test_freebind_makes_the_seeds_nonlocal_bind_work(pair):
    assert_outcome(pair.h2.probe("bind", "10.0.0.1", 6677).only(), ERRNO_99)
    record = pair.h2.probe("bind", "--freebind", "10.0.0.1", 6677).only()
    assert_outcome(record, None)
    assert "freebind" in record["options"]


# ---------------------------------------------------------------- serve


def test_serve_says_its_name_to_connect(pair):
    server = pair.h1.serve("10.0.0.1", 7060)
    record = pair.h2.probe("connect", "10.0.0.1", 7060).only()
    assert_outcome(record, None)
    assert record["peer_host"] == "h1"
    assert record["host"] == "h2"
    assert record["local"].startswith("10.0.0.2:"), record
    assert server.stop() == 0


def test_udp_serve_says_its_name_to_connect(pair):
    pair.h1.serve("--udp", "10.0.0.1", 7061)
    record = pair.h2.probe("connect", "--udp", "10.0.0.1", 7061).only()
    assert_outcome(record, None)
    assert record["peer_host"] == "h1"
    assert record["local"].startswith("10.0.0.2:"), record


def test_serve_readiness_line(pair):
    server = pair.h1.serve("10.0.0.1", 7070)
    assert server.ready["op"] == "serve"
    assert_outcome(server.ready, None)
    assert (server.ready["addr"], server.ready["port"], server.ready["host"]) == \
        ("10.0.0.1", 7070, "h1")
    # ready means listening: a connect now is answered
    assert_outcome(pair.h2.probe("connect", "10.0.0.1", 7070).only(), None)


def test_serve_readiness_file_appears_whole(pair, tmp_path):
    """A script that waits for --ready-file (never for stdout) can connect at once."""
    ready_file = tmp_path / "ready"
    server = pair.h1.serve("--ready-file", ready_file, "10.0.0.1", 7072)
    nsutil.wait_for_file(ready_file)
    assert nsutil.parse_records(ready_file.read_text()) == [server.ready]
    assert_outcome(pair.h2.probe("connect", "10.0.0.1", 7072).only(), None)


def test_serve_readiness_fd(pair):
    read_end, write_end = os.pipe()
    try:
        argv = pair.h1.argv([nsutil.netprobe_path(), "--host", "h1", "serve",
                             "--ready-fd", str(write_end), "10.0.0.1", "7073"])
        popen = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 pass_fds=(write_end,), text=True)
        pair.lab.processes.append(popen)
        os.close(write_end)
        write_end = -1
        with os.fdopen(read_end, "r") as ready:
            read_end = -1
            record = nsutil.parse_records(ready.readline())[0]
        assert record["op"] == "serve"
        assert_outcome(record, None)
        assert_outcome(pair.h2.probe("connect", "10.0.0.1", 7073).only(), None)
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)


def test_serve_that_cannot_listen_says_why_and_exits_1(pair, tmp_path):
    ready_file = tmp_path / "ready"
    server = pair.h2.serve("--ready-file", ready_file, "10.0.0.1", 7071)
    assert server.ready["op"] == "serve"
    assert_outcome(server.ready, ERRNO_99)
    assert server.popen.wait(timeout=nsutil.GUARD_SECONDS) == 1
    nsutil.wait_for_file(ready_file)
    assert nsutil.parse_records(ready_file.read_text()) == [server.ready]


def test_serve_stops_on_sigterm_with_exit_0(pair):
    server = pair.h1.serve("10.0.0.1", 7080)
    assert server.popen.poll() is None
    assert server.stop() == 0
    # and the port is free again
    assert_outcome(pair.h1.probe("bind", "10.0.0.1", 7080).only(), None)


def test_serve_stops_on_sigint_with_exit_0(pair):
    server = pair.h1.serve("10.0.0.1", 7081)
    server.popen.send_signal(signal.SIGINT)
    assert server.stop() == 0


def test_serve_queues_as_many_clients_as_a_batch_has_in_flight(pair):
    """`netprobe batch` keeps 256 connects in flight by default.  If serve's accept
    queue is shorter, the kernel drops the extra SYNs, the clients retransmit after
    1 s, and with the default 1000 ms timeout cells turn ETIMEDOUT for no reason
    (seen: 35 of 1000).  ss shows a listener's backlog as its Send-Q."""
    pair.h1.serve("10.0.0.1", 7082)
    out = pair.h1.sh(["ss", "-Hltn", "sport = :7082"]).stdout.split()
    assert out[0] == "LISTEN", out
    backlog = int(out[2])
    assert backlog >= 256, "serve listens with a backlog of %d" % backlog


# ---------------------------------------------------------------- batch


def test_batch_refuses_a_malformed_plan_before_running_anything(pair):
    plan = ("# a plan with a typo on line 3\n"
            "b1 bind tcp 10.0.0.2 7090\n"
            "b2 bind tcp 10.0.0.2 70x90\n"
            "b3 bind tcp 10.0.0.2 7091\n")
    run = pair.h2.probe("batch", input=plan)
    assert run.returncode == 2
    assert run.stdout == ""
    assert "plan line 3" in run.stderr and "field 'port'" in run.stderr, run.stderr


def test_batch_reads_a_plan_file(pair, tmp_path):
    plan = tmp_path / "plan"
    plan.write_text("b1 bind tcp 10.0.0.2 7092\nb2 bind tcp 10.0.0.1 7092\n")
    run = pair.h2.probe("batch", plan)
    assert run.returncode == 0, run.stderr
    records = run.by_id()
    assert_outcome(records["b1"], None)
    assert_outcome(records["b2"], ERRNO_99)
    # binds come in plan order
    assert [r["id"] for r in run.records] == ["b1", "b2"]


def test_batch_of_200_connects_gives_every_case_its_record(pair):
    pair.h1.serve("10.0.0.1", 7100)
    ids = ["c%03d" % i for i in range(200)]
    plan = "".join("%s connect tcp 10.0.0.1 7100 timeout=10000\n" % i for i in ids)
    run = pair.h2.probe("batch", input=plan)
    assert run.returncode == 0, run.stderr
    assert sorted(r["id"] for r in run.records) == ids
    for record in run.records:
        assert_outcome(record, None)
        assert record["peer_host"] == "h1", record


def test_batch_mixes_outcomes_one_record_each(pair):
    pair.h1.serve("10.0.0.1", 7110)
    plan = ("ok connect tcp 10.0.0.1 7110\n"
            "refused connect tcp 10.0.0.1 7111\n"
            "unreach connect tcp 192.0.2.1 80\n"
            "mine bind tcp 10.0.0.2 7112\n"
            "theirs bind tcp 10.0.0.1 7112\n"
            "free bind tcp 10.0.0.1 7112 freebind\n")
    records = pair.h2.probe("batch", input=plan).by_id()
    assert len(records) == 6, records
    assert_outcome(records["ok"], None)
    assert_outcome(records["refused"], "ECONNREFUSED")
    assert_outcome(records["unreach"], "ENETUNREACH")
    assert_outcome(records["mine"], None)
    assert_outcome(records["theirs"], ERRNO_99)
    assert_outcome(records["free"], None)


# ---------------------------------------------------------------- valgrind


def _valgrind():
    return ["valgrind", "-q", "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=9"]


def test_no_leaks_or_memory_errors_under_valgrind(pair):
    binary = nsutil.plain_netprobe_path()
    if not os.access(binary, os.X_OK):
        pytest.fail("%s is missing: run `make` (or set NETPROBE_PLAIN)" % binary)
    server = pair.h1.serve("10.0.0.1", 7120, wrap=_valgrind(), binary=binary)
    assert_outcome(server.ready, None)
    run = pair.h2.probe("connect", "10.0.0.1", 7120, wrap=_valgrind(), binary=binary)
    assert run.returncode == 0, run.stderr
    assert_outcome(run.only(), None)
    assert run.only()["peer_host"] == "h1"

    plan = "".join("c%d connect tcp 10.0.0.1 7120 timeout=5000\n" % i for i in range(20))
    plan += "b1 bind tcp 10.0.0.2 7121 hold\nb2 bind tcp 10.0.0.1 7121\n"
    plan += "r1 connect udp 10.0.0.1 7122\n"
    run = pair.h2.probe("batch", input=plan, wrap=_valgrind(), binary=binary)
    assert run.returncode == 0, run.stderr
    assert len(run.records) == 23, run.stderr
    assert server.stop() == 0, server.popen.stderr


def test_batch_refuses_duplicate_case_ids_before_running_anything(pair):
    """Two cases with one id would give two records the harness cannot tell apart:
    refused (exit 2) with the line of each, and no case runs."""
    plan = ("a bind tcp 10.0.0.2 7130 hold\n"
            "b connect tcp 10.0.0.1 7131\n"
            "a bind tcp 10.0.0.2 7132\n"
            "c bind tcp 10.0.0.2 7133\n"
            "c connect tcp 10.0.0.1 7133\n")
    run = pair.h2.probe("batch", input=plan)
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    assert "plan line 3: id 'a' is already used on line 1" in run.stderr, run.stderr
    assert "plan line 5: id 'c' is already used on line 4" in run.stderr, run.stderr


def test_a_huge_plan_line_is_refused_without_holding_it(pair):
    """A 64 MiB plan line is refused by its line number while it is read, in a
    fixed buffer: under a 48 MiB address-space limit the probe (the plain build:
    ASan reserves terabytes of address space) still says which line it was."""
    binary = nsutil.plain_netprobe_path()
    assert os.access(binary, os.X_OK), "%s missing: make build/netprobe" % binary
    plan = ("a bind tcp 10.0.0.2 7140\n" + "b bind tcp 10.0.0.2 7141 " + "x" * (64 << 20)
            + "\nc bind tcp 10.0.0.2 7142\n")
    run = pair.h2.probe("batch", input=plan, wrap=["prlimit", "--as=%d" % (48 << 20)],
                        binary=binary)
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    assert "plan line 2: longer than 1024 characters" in run.stderr, run.stderr
    assert "plan line 3" not in run.stderr   # the lines after it are read as lines


@pytest.mark.parametrize("args", [
    ["batch"],
    ["bind", "10.0.0.2", "7150"],
    ["connect", "10.0.0.1", "7151"],
])
def test_a_closed_stdout_is_exit_1_with_one_message_not_sigpipe(pair, args):
    """The reader of stdout went away (a pipe whose read end is closed): the probe
    says so once on stderr and exits 1, instead of dying of SIGPIPE."""
    plan = "".join("b%d bind tcp 10.0.0.2 %d\n" % (i, 7160 + i) for i in range(5))
    plan += "c1 connect tcp 10.0.0.1 7170\n"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(pair.h2.argv([nsutil.netprobe_path(), "--host", "h2"] + args),
                              input=plan.encode(), stdout=write_end, stderr=subprocess.PIPE,
                              timeout=nsutil.GUARD_SECONDS)
    finally:
        os.close(write_end)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and "Broken pipe" in lines[0], lines


# ---------------------------------------------------------------- batch under pressure


def low_fd_limit(n):
    """A wrapper that runs the probe with RLIMIT_NOFILE @n (soft and hard)."""
    return ["prlimit", "--nofile=%d:%d" % (n, n)]


def outcomes(records):
    """{outcome: count} of @records."""
    counts = {}
    for record in records:
        key = "OK" if record["ok"] else record["error"]
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_batch_under_a_low_fd_limit_waits_for_descriptors(pair):
    """128 descriptors, 2000 connects allowed in flight, 100 of them held: EMFILE
    is back-pressure (a case waits for a descriptor), never an outcome, and no
    case times out for want of one."""
    pair.h1.serve("10.0.0.1", 7200)
    plan = "".join("h%d connect tcp 10.0.0.1 7200 hold timeout=3000\n" % i for i in range(100))
    plan += "".join("o%d connect tcp 10.0.0.1 7200 timeout=3000\n" % i for i in range(400))
    plan += "".join("r%d connect tcp 10.0.0.1 7201 timeout=3000\n" % i for i in range(400))
    run = pair.h2.probe("batch", "--parallel", 2000, input=plan, wrap=low_fd_limit(128))
    assert run.returncode == 0, run.stderr
    assert len(run.records) == 900
    assert outcomes(r for r in run.records if r["port"] == 7200) == {"OK": 500}
    assert outcomes(r for r in run.records if r["port"] == 7201) == {"ECONNREFUSED": 400}


def test_batch_whose_held_sockets_take_every_descriptor_says_so(pair):
    """Held sockets that need more descriptors than the limit allows can never
    all be had: exit 1 with a message that says why, and no EMFILE record."""
    pair.h1.serve("10.0.0.1", 7210)
    plan = "".join("h%d connect tcp 10.0.0.1 7210 hold timeout=3000\n" % i for i in range(200))
    run = pair.h2.probe("batch", input=plan, wrap=low_fd_limit(64))
    assert run.returncode == 1, run.stderr
    assert "hold" in run.stderr and "descriptor" in run.stderr, run.stderr
    assert "EMFILE" not in run.stdout
    assert run.records and all(r["ok"] for r in run.records), outcomes(run.records)


def test_held_binds_that_take_every_descriptor_are_no_emfile_records(pair):
    """The bind phase too: a bind that finds no descriptor is the probe's want,
    not the case's outcome."""
    plan = "".join("b%d bind tcp 10.0.0.2 %d hold\n" % (i, 7250 + i) for i in range(60))
    run = pair.h2.probe("batch", input=plan, wrap=low_fd_limit(32))
    assert run.returncode == 1, run.stderr
    assert "hold" in run.stderr and "descriptor" in run.stderr, run.stderr
    assert run.records and all(r["ok"] for r in run.records), outcomes(run.records)


def test_a_reader_that_pauses_causes_no_false_timeouts(pair):
    """stdout is read only after 2 s: the pipe fills and the probe cannot write,
    but each case's timeout runs from its connect to its outcome, not to when its
    record could be written (seen before: 192 refused connects as ETIMEDOUT)."""
    pair.h1.serve("10.0.0.1", 7220)
    plan = "".join("o%d connect tcp 10.0.0.1 7220\n" % i for i in range(600))
    plan += "".join("r%d connect tcp 10.0.0.1 7221\n" % i for i in range(600))
    popen = subprocess.Popen(pair.h2.argv([nsutil.netprobe_path(), "--host", "h2", "batch"]),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    pair.lab.processes.append(popen)
    popen.stdin.write(plan.encode())
    popen.stdin.close()
    time.sleep(2)          # the pause of a slow reader, not a wait for a state
    out = popen.stdout.read()
    err = popen.stderr.read()
    assert popen.wait(timeout=nsutil.GUARD_SECONDS) == 0, err
    records = nsutil.parse_records(out.decode())
    assert outcomes(r for r in records if r["port"] == 7220) == {"OK": 600}
    assert outcomes(r for r in records if r["port"] == 7221) == {"ECONNREFUSED": 600}


def test_serve_out_of_descriptors_backs_off_with_one_warning(pair):
    """serve under a descriptor limit it has just reached (0-2, the listener, the
    signalfd, the epoll set: 6) cannot accept: it must not spin on EMFILE (seen:
    72k stderr lines in 3 s) but warn once and pause the listener; once the limit
    is raised, the clients that waited are answered."""
    # soft limit 6, hard 64: raising the soft one later needs no privilege
    server = pair.h1.serve("10.0.0.1", 7230, wrap=["prlimit", "--nofile=6:64"])
    assert_outcome(server.ready, None)
    stderr = []            # drained all along: a spinning serve would fill the pipe
    drain = threading.Thread(target=lambda: stderr.extend(server.popen.stderr))
    drain.start()
    for _ in range(3):
        record = pair.h2.probe("connect", "--timeout", 300, "10.0.0.1", 7230).only()
        assert_outcome(record, "ETIMEDOUT")      # connected, never greeted
    time.sleep(1)          # room for a spin to show in stderr, not a wait for a state
    pair.h1.sh(["prlimit", "--pid", str(server.ready["pid"]), "--nofile=64:64"])
    record = pair.h2.probe("connect", "--timeout", 5000, "10.0.0.1", 7230).only()
    assert_outcome(record, None)
    assert record["peer_host"] == "h1"
    server.popen.send_signal(signal.SIGTERM)
    assert server.popen.wait(timeout=nsutil.GUARD_SECONDS) == 0
    drain.join()
    warnings = [line for line in stderr if "accept" in line]
    assert len(warnings) == 1, warnings[:5]
    assert "Too many open files" in warnings[0]


@pytest.mark.parametrize("how", ["fd", "file"])
def test_serve_readiness_that_cannot_be_delivered_is_a_failure(pair, tmp_path, how):
    """--ready-fd names no open descriptor, or --ready-file a missing directory:
    the readiness signal cannot go out, so the serve record must not say ok (it
    did, then serve exited 1).  It says the failed call and errno, the port is not
    left listening, and the exit status is 1."""
    if how == "fd":
        args, error, call = ["--ready-fd", "9"], "EBADF", "write(--ready-fd)"
    else:
        args, error = ["--ready-file", tmp_path / "no-such-dir" / "ready"], "ENOENT"
        call = "open(--ready-file)"
    server = pair.h1.serve(*args, "10.0.0.1", 7240)
    assert server.ready["op"] == "serve"
    assert_outcome(server.ready, error)
    assert server.ready["call"] == call
    assert server.popen.wait(timeout=nsutil.GUARD_SECONDS) == 1
    assert "ready" in server.popen.stderr.read()
    assert_outcome(pair.h2.probe("connect", "10.0.0.1", 7240).only(), "ECONNREFUSED")
