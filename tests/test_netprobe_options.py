"""netprobe's options and command-line contract, against real namespaces.

The socket options a user reaches for when a bind fails (reuseaddr, reuseport,
v6only, freebind, a device, a source address) each change one kernel answer; these
tests show each change on a real veth link.  The last group checks the exit-status
contract: 2 and nothing on stdout for bad usage, 0 when a socket call failed.
"""

import json
import subprocess

import pytest

import nsutil
from nsutil import ERRNO_99, assert_outcome


# ---------------------------------------------------------------- connect: more Errno 99


def test_connect_to_ipv6_loopback_with_ipv6_disabled_is_errno_99(pair):
    """The usual Docker-container Errno 99: "localhost" resolves to ::1 first, and
    the namespace has IPv6 disabled."""
    pair.h1.sysctl("net.ipv6.conf.all.disable_ipv6", 1)
    pair.h1.sysctl("net.ipv6.conf.default.disable_ipv6", 1)
    pair.h1.sysctl("net.ipv6.conf.lo.disable_ipv6", 1)
    assert_outcome(pair.h1.probe("connect", "::1", 8080).only(), ERRNO_99)
    # the same connect to 127.0.0.1 with nothing listening is not 99
    assert_outcome(pair.h1.probe("connect", "127.0.0.1", 8080).only(), "ECONNREFUSED")


def test_connect_from_a_source_address_not_here_is_errno_99(pair):
    record = pair.h2.probe("connect", "--src", "10.0.0.1", "10.0.0.1", 8081).only()
    assert_outcome(record, ERRNO_99)
    assert record["src"] == "10.0.0.1"
    assert record["call"].startswith("bind"), record


def test_connect_from_a_chosen_source_address_and_port(pair):
    pair.h1.serve("10.0.0.1", 8082)
    pair.h2.addr_add(pair.h2_dev, "10.0.0.22/24")
    record = pair.h2.probe("connect", "--src", "10.0.0.22", "--sport", 41000,
                           "10.0.0.1", 8082).only()
    assert_outcome(record, None)
    assert (record["src"], record["sport"], record["local"]) == \
        ("10.0.0.22", 41000, "10.0.0.22:41000")
    assert record["peer_host"] == "h1"


def test_connect_with_freebind_source_not_here_binds_then_has_no_route(pair):
    """IP_FREEBIND lets the source bind succeed, so the connect does not fail with
    99; but the route lookup for a source no interface holds still refuses
    (ENETUNREACH: only IP_TRANSPARENT lifts that check), and it says so in the
    connect call, not the bind."""
    pair.h1.serve("10.0.0.1", 8083)
    record = pair.h2.probe("connect", "--freebind", "--src", "10.0.0.99", "--timeout", 300,
                           "10.0.0.1", 8083).only()
    assert_outcome(record, "ENETUNREACH")
    assert record["call"] == "connect", record
    assert record["src"] == "10.0.0.99"


def test_udp_connect_to_a_silent_port_times_out(pair):
    pair.h1.nft("table inet blt {\n chain input {\n"
                "  type filter hook input priority 0;\n  udp dport 8084 drop\n }\n}\n")
    record = pair.h2.probe("connect", "--udp", "--timeout", 200, "10.0.0.1", 8084).only()
    assert_outcome(record, "ETIMEDOUT")
    assert record["timeout_ms"] == 200


def test_no_greet_connect_stops_at_the_handshake(pair):
    pair.h1.serve("10.0.0.1", 8085)
    record = pair.h2.probe("connect", "--no-greet", "10.0.0.1", 8085).only()
    assert_outcome(record, None)
    assert record["peer_host"] is None
    assert record["local"].startswith("10.0.0.2:")


# ---------------------------------------------------------------- bind options


def test_reuseport_lets_two_listeners_share_a_port(pair):
    run = pair.h1.probe("bind", "--reuseport", "10.0.0.1", 8090, "10.0.0.1", 8090)
    assert [r["error"] for r in run.records] == [None, None], run.records
    # reuseaddr is not enough for two listeners
    run = pair.h1.probe("bind", "--reuseaddr", "10.0.0.1", 8091, "10.0.0.1", 8091)
    assert [r["error"] for r in run.records] == [None, "EADDRINUSE"], run.records


def test_v6only_decides_whether_the_ipv6_wildcard_takes_ipv4_too(pair):
    run = pair.h1.probe("batch", input="a bind tcp any 8092 family=6 v6only=0 hold\n"
                                       "b bind tcp any 8092 family=4\n")
    assert [r["error"] for r in run.records] == [None, "EADDRINUSE"], run.records
    run = pair.h1.probe("batch", input="a bind tcp any 8093 family=6 v6only=1 hold\n"
                                       "b bind tcp any 8093 family=4\n")
    assert [r["error"] for r in run.records] == [None, None], run.records
    # the command line refuses --v6only where it means nothing
    run = pair.h1.probe("bind", "--v6only", 1, "10.0.0.1", 8093)
    assert run.returncode == 2 and run.stdout == ""


def test_mapped_ipv4_on_an_ipv6_socket_follows_the_address(pair):
    run = pair.h1.probe("batch", input="m bind tcp 10.0.0.1 8094 family=6\n")
    record = run.only()
    assert_outcome(record, None)
    assert (record["family"], record["addr"]) == ("inet6", "::ffff:10.0.0.1")
    assert_outcome(pair.h2.probe("batch", input="m bind tcp 10.0.0.1 8094 family=6\n").only(),
                   ERRNO_99)


def test_a_socket_bound_to_a_missing_device_is_enodev(pair):
    record = pair.h1.probe("bind", "--dev", "nosuchdev0", "10.0.0.1", 8095).only()
    assert_outcome(record, "ENODEV")
    assert "SO_BINDTODEVICE" in record["call"]
    assert_outcome(pair.h1.probe("bind", "--dev", pair.h1_dev, "10.0.0.1", 8095).only(), None)


def test_a_scope_naming_no_interface_here_is_enodev(pair):
    record = pair.h1.probe("bind", "fe80::1%nosuchdev0", 8096).only()
    assert_outcome(record, "ENODEV")


def test_udp_binds_conflict_too(pair):
    run = pair.h1.probe("bind", "--udp", "10.0.0.1", 8097, "10.0.0.1", 8097)
    assert [r["error"] for r in run.records] == [None, "EADDRINUSE"], run.records
    assert [r["proto"] for r in run.records] == ["udp", "udp"]


def test_batch_hold_keeps_a_bind_for_later_cases(pair):
    plan = ("held bind tcp 10.0.0.1 8098 hold\n"
            "later bind tcp 10.0.0.1 8098\n"
            "closed bind tcp 10.0.0.1 8099\n"
            "again bind tcp 10.0.0.1 8099\n")
    records = pair.h1.probe("batch", input=plan).by_id()
    assert_outcome(records["held"], None)
    assert_outcome(records["later"], "EADDRINUSE")
    assert_outcome(records["closed"], None)
    assert_outcome(records["again"], None)


# ---------------------------------------------------------------- the exit-status contract


@pytest.mark.parametrize("args", [
    ["bind"],
    ["bind", "10.0.0.1"],
    ["bind", "10.0.0.1", "70000"],
    ["bind", "10.0.0.1", "80", "10.0.0.2"],
    ["bind", "10.0.0.300", "80"],
    ["bind", "not/an/address", "80"],
    ["join", "not-a-group.test", "80"],
    ["serve", "localhost", "80"],
    ["bind", "--v6only", "2", "::1", "80"],
    ["connect", "10.0.0.1"],
    ["connect", "10.0.0.1", "0"],
    ["connect", "--timeout", "0", "10.0.0.1", "80"],
    ["connect", "--src", "::1", "10.0.0.1", "80"],
    ["serve"],
    ["serve", "10.0.0.1", "http"],
    ["batch", "/nonexistent/plan"],
    ["frobnicate"],
    ["bind", "--no-such-option", "10.0.0.1", "80"],
])
def test_bad_usage_exits_2_with_nothing_on_stdout(pair, args):
    run = pair.h1.probe(*args)
    assert run.returncode == 2, (args, run.stdout, run.stderr)
    assert run.stdout == ""
    assert run.stderr.strip(), "a usage error must say what is wrong"


def test_a_failed_socket_call_is_a_result_not_a_failure(pair):
    run = pair.h2.probe("bind", "10.0.0.1", 80)
    assert run.returncode == 0
    assert run.only()["ok"] is False


def test_empty_plan_gives_no_records(pair):
    run = pair.h1.probe("batch", input="# nothing to do\n\n")
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""


def test_plan_line_too_long_names_its_line(pair):
    plan = "a bind tcp 10.0.0.1 1\n" + "b bind tcp 10.0.0.1 2 " + "hold " * 300 + "\n"
    run = pair.h1.probe("batch", input=plan)
    assert run.returncode == 2
    assert run.stdout == ""
    assert "plan line 2" in run.stderr, run.stderr


def test_host_label_comes_from_the_environment_without_host(pair):
    run = pair.h1.sh(["env", "NETPROBE_HOST=labelled", nsutil.netprobe_path(),
                      "bind", "10.0.0.1", "8100"])
    assert nsutil.parse_records(run.stdout)[0]["host"] == "labelled"


def test_plan_edges_crlf_and_no_final_newline(pair):
    plan = "a bind tcp 10.0.0.1 8101\r\n\r\nb bind tcp 10.0.0.1 8102"
    run = pair.h1.probe("batch", input=plan)
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in run.records] == ["a", "b"]
    assert [r["port"] for r in run.records] == [8101, 8102]


def test_plan_with_a_nul_byte_is_refused_by_line(pair):
    run = pair.h1.probe("batch", input="a bind tcp 10.0.0.1 8103\nb bind\0 tcp 10.0.0.1 1\n")
    assert run.returncode == 2
    assert run.stdout == ""
    assert "plan line 2" in run.stderr, run.stderr


# ---------------------------------------------------------------- servers that are not netprobe

FOREIGN_SERVER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
print("ready", flush=True)
held = []
while True:
    c, _ = s.accept()
    if sys.argv[3]:
        c.sendall(sys.argv[3].encode() + b"\n")
    held.append(c)
"""


def foreign_server(ns, addr, port, says):
    """A TCP server that is not netprobe: it accepts, sends @says (if any) and keeps
    the connection open.  Returns once it listens (it prints "ready")."""
    popen = subprocess.Popen(ns.argv(["/usr/bin/python3", "-c", FOREIGN_SERVER, addr, str(port),
                                      says]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ns.lab.processes.append(popen)
    assert popen.stdout.readline() == "ready\n", popen.stderr.read()
    return popen


def test_a_server_that_accepts_but_never_greets(pair):
    """A developer's own server: the connect works, the netprobe greeting never
    comes.  The record says the wait for it timed out (call recv) and still names
    the local address; --no-greet stops at the handshake and succeeds."""
    foreign_server(pair.h1, "10.0.0.1", 8110, "")
    record = pair.h2.probe("connect", "--timeout", 300, "10.0.0.1", 8110).only()
    assert_outcome(record, "ETIMEDOUT")
    assert record["call"] == "recv", record
    assert record["local"].startswith("10.0.0.2:"), record
    assert_outcome(pair.h2.probe("connect", "--no-greet", "10.0.0.1", 8110).only(), None)


def test_a_server_with_another_greeting_is_not_taken_for_a_host(pair):
    foreign_server(pair.h1, "10.0.0.1", 8111, "SSH-2.0-OpenSSH_9.2")
    record = pair.h2.probe("connect", "10.0.0.1", 8111).only()
    assert_outcome(record, None)
    assert record["peer_host"] is None, record


def test_a_source_port_in_use_is_eaddrinuse(pair):
    pair.h1.serve("10.0.0.1", 8112)
    plan = ("first connect tcp 10.0.0.1 8112 sport=45001 hold\n"
            "second connect tcp 10.0.0.1 8112 sport=45001\n")
    records = pair.h2.probe("batch", input=plan).by_id()
    assert_outcome(records["first"], None)
    assert records["first"]["local"] == "10.0.0.2:45001"
    assert_outcome(records["second"], "EADDRINUSE")
    assert records["second"]["call"].startswith("bind"), records["second"]


# ---------------------------------------------------------------- bytes that are not text


def run_bytes(ns, argv, input=None):
    """Runs @argv in @ns and returns (exit status, stdout bytes, stderr bytes): the
    output is decoded by the test itself, strictly, like a harness would."""
    proc = subprocess.run(ns.argv(argv), input=input, capture_output=True,
                          timeout=nsutil.GUARD_SECONDS)
    return proc.returncode, proc.stdout, proc.stderr


def strict_records(stdout):
    """Every line of @stdout as JSON, after a strict UTF-8 decode."""
    return [json.loads(line) for line in stdout.decode("utf-8").splitlines()]


def test_records_escape_invalid_utf8_from_the_command_line(pair):
    """--host, a %scope and dev= come from the user's bytes; a record must still be
    JSON that a strict decoder takes (invalid UTF-8 as U+FFFD)."""
    # "h\udcff" is the byte 0xff once subprocess encodes the argument
    argv = [nsutil.netprobe_path(), "--host", "h\udcff", "bind", "--dev", "d\udcfe",
            "fe80::1%s\udcfd" % "%", "7000"]
    status, out, err = run_bytes(pair.h1, argv)
    assert status == 0, err
    record, = strict_records(out)
    assert record["host"] == "h\ufffd"
    assert record["addr"] == "fe80::1%s\ufffd" % "%"
    assert record["options"] == ["dev=d\ufffd"]
    assert_outcome(record, "ENODEV")
    # valid UTF-8 passes through as it is, and so does the plan's dev=
    plan = "a bind tcp 10.0.0.1 7001 dev=\xe9\ufffd\n".encode() + b"b bind tcp 10.0.0.1 7002 dev=\xc0\x80\n"
    status, out, err = run_bytes(pair.h1, [nsutil.netprobe_path(), "--host", "h\u00e9",
                                           "batch"], input=plan)
    assert status == 0, err
    a, b = strict_records(out)
    assert a["host"] == "h\u00e9" and a["options"] == ["dev=\xe9\ufffd"]
    assert b["options"] == ["dev=\ufffd\ufffd"]      # an overlong NUL is two bad bytes
