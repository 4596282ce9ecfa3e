"""`netprobe diagnose` against real network namespaces.

Every bind failure the probe can explain is built for real with the shared kit
(conftest.py's ``lab`` and ``pair``, nsutil.py): another host's address, a deleted
address, a tentative and a dadfailed IPv6 address, a port held by `netprobe serve`
or by a Python listener, a privileged port for an unprivileged user, a link-local
address without a scope.  Each test checks the cause keyword, the errno and the
exit status that scripts rely on; the good cases (an address that is here, an
interface that is down) must exit 0.
"""

import subprocess
import sys
import time

import pytest

from test_addrs import STATE_WAIT_S, VALGRIND, plain_probe

NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]


def diagnose(ns, *args, wrap=(), binary=None):
    """Runs `netprobe diagnose --json ARGS` in NS; returns (exit status, object).
    Any exit status but 0 (the bind works) or 1 (it does not) fails the test."""
    run = ns.probe("diagnose", "--json", *args, wrap=wrap, binary=binary)
    assert run.returncode in (0, 1), (run.returncode, run.stderr)
    return run.returncode, run.only()


def assert_fails(status, diag, cause, error):
    assert status == 1, diag
    assert diag["ok"] is False
    assert diag["cause"] == cause, diag
    assert diag["error"] == error, diag
    assert diag["explanation"] and diag["fixes"], diag


def text_diagnose(ns, netprobe, *args):
    """The human form: (exit status, stdout lines)."""
    proc = ns.sh([netprobe, "--host", ns.label, "diagnose", *args], check=False)
    return proc.returncode, proc.stdout.splitlines()


def wait_dadfailed(ns, dev, addr):
    """Polls `ip -6 addr` until ADDR on DEV is dadfailed; returns its flags."""
    deadline = time.monotonic() + STATE_WAIT_S
    flags = ns.addr_flags(dev, addr)
    while "dadfailed" not in flags and time.monotonic() < deadline:
        time.sleep(0.05)
        flags = ns.addr_flags(dev, addr)
    return flags


LISTENER = """
import socket, sys, time
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET6, kind)
s.bind(("::", int(sys.argv[2])))
if kind == socket.SOCK_STREAM:
    s.listen()
print("ready", flush=True)
time.sleep(600)
"""


def python_listener(lab, ns, proto, port):
    """A Python socket on [::]:PORT (dual stack) in NS, ready when this returns.
    The Lab ends it by PID."""
    popen = subprocess.Popen(ns.argv([sys.executable, "-c", LISTENER, proto, str(port)]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lab.processes.append(popen)
    assert popen.stdout.readline() == "ready\n", popen.stderr.read()
    return popen


# ---- EADDRNOTAVAIL ---------------------------------------------------------------------


def test_another_hosts_address_is_not_local(pair):
    status, diag = diagnose(pair.h2, "10.0.0.1", 6677)
    assert_fails(status, diag, "not_local", "EADDRNOTAVAIL")
    assert diag["errno"] == 99 and diag["call"] == "bind"
    assert diag["addr"] == "10.0.0.1" and diag["port"] == 6677 and diag["proto"] == "tcp"
    assert diag["host"] == "h2"
    assert "10.0.0.2" in {a["addr"] for a in diag["local_addrs"]}
    assert pair.h2_dev in diag["explanation"]          # the subnet it belongs to
    assert diag["ip_nonlocal_bind"] == 0
    fixes = " | ".join(diag["fixes"])
    assert "ip_nonlocal_bind=1" in fixes and "IP_FREEBIND" in fixes
    assert "ip addr add 10.0.0.1/24 dev %s" % pair.h2_dev in fixes


def test_v4_mapped_address_is_checked_as_ipv4(pair):
    status, diag = diagnose(pair.h2, "::ffff:10.0.0.1", 6677)
    assert_fails(status, diag, "not_local", "EADDRNOTAVAIL")
    assert diag["family"] == "inet6"                     # the socket's family
    assert "ip addr add 10.0.0.1/24 dev %s" % pair.h2_dev in " | ".join(diag["fixes"])
    status, diag = diagnose(pair.h1, "::ffff:10.0.0.1", 6677)
    assert status == 0 and diag["cause"] == "ok", diag


def test_human_form_has_headline_why_and_fixes(pair, netprobe):
    status, lines = text_diagnose(pair.h2, netprobe, "10.0.0.1", "6677")
    assert status == 1
    assert lines[0] == ("bind 10.0.0.1:6677/tcp would fail: EADDRNOTAVAIL "
                        "(Cannot assign requested address)")
    assert lines[1].startswith("why: ")
    assert len(lines) > 2 and all(line.startswith("fix: ") for line in lines[2:])


def test_a_deleted_address_is_not_local(pair):
    pair.h1.addr_add(pair.h1_dev, "10.0.0.9/24")
    status, diag = diagnose(pair.h1, "10.0.0.9", 6677)
    assert status == 0 and diag["cause"] == "ok", diag
    pair.h1.ip("addr", "del", "10.0.0.9/24", "dev", pair.h1_dev)
    status, diag = diagnose(pair.h1, "10.0.0.9", 6677)
    assert_fails(status, diag, "not_local", "EADDRNOTAVAIL")


def test_nonlocal_bind_sysctl_is_reported_and_honoured(pair):
    pair.h2.sysctl("net.ipv4.ip_nonlocal_bind", 1)
    status, diag = diagnose(pair.h2, "10.0.0.1", 6677)
    assert status == 0 and diag["ok"] is True and diag["cause"] == "ok", diag
    assert diag["ip_nonlocal_bind"] == 1
    assert "ip_nonlocal_bind=1" in diag["explanation"]


def test_freebind_lets_the_bind_through(pair):
    status, diag = diagnose(pair.h2, "--freebind", "10.0.0.1", 6677)
    assert status == 0 and diag["cause"] == "ok", diag
    assert "IP_FREEBIND" in diag["explanation"]


def test_tentative_ipv6_address(pair):
    # 60 solicitations a second apart: the address stays tentative for a minute
    pair.h1.sysctl("net.ipv6.conf.%s.dad_transmits" % pair.h1_dev, 60)
    pair.h1.addr_add(pair.h1_dev, "fd00:77::1/64")
    status, diag = diagnose(pair.h1, "fd00:77::1", 6677)
    assert_fails(status, diag, "tentative", "EADDRNOTAVAIL")
    assert diag["family"] == "inet6"
    fixes = " | ".join(diag["fixes"])
    assert "nodad" in fixes and "accept_dad=0" in fixes


def test_dadfailed_ipv6_address(pair):
    pair.h2.addr_add(pair.h2_dev, "fd00:77::7/64", "nodad")
    pair.h1.addr_add(pair.h1_dev, "fd00:77::7/64")
    assert "dadfailed" in wait_dadfailed(pair.h1, pair.h1_dev, "fd00:77::7")
    status, diag = diagnose(pair.h1, "fd00:77::7", 6677)
    assert_fails(status, diag, "dadfailed", "EADDRNOTAVAIL")
    assert "ip addr del fd00:77::7/64 dev %s" % pair.h1_dev in " | ".join(diag["fixes"])


# ---- EADDRINUSE ------------------------------------------------------------------------


def test_port_held_by_netprobe_serve_names_its_pid(pair):
    server = pair.h1.serve("0.0.0.0", 6677)
    assert server.ready["ok"] is True, server.ready
    status, diag = diagnose(pair.h1, "10.0.0.1", 6677)
    assert_fails(status, diag, "port_in_use", "EADDRINUSE")
    listeners = [h for h in diag["holders"] if h["state"] == "LISTEN"]
    assert listeners and listeners[0]["pid"] == server.popen.pid, diag["holders"]
    assert listeners[0]["local"] == "0.0.0.0:6677"
    assert "kill %d" % server.popen.pid in " | ".join(diag["fixes"])


@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_port_held_by_a_python_listener_names_its_pid(lab, pair, proto):
    listener = python_listener(lab, pair.h1, proto, 5300)
    udp = ["--udp"] if proto == "udp" else []
    status, diag = diagnose(pair.h1, *udp, "10.0.0.1", 5300)   # IPv4 vs dual-stack ::
    assert_fails(status, diag, "port_in_use", "EADDRINUSE")
    assert diag["proto"] == proto
    holder = diag["holders"][0]
    assert holder["proto"] == proto + "6" and holder["local"] == "[::]:5300", holder
    assert holder["pid"] == listener.pid and holder["comm"].startswith("python"), holder


def test_port_held_by_another_user_names_the_owner_uid(lab, pair):
    python_listener(lab, pair.h1, "tcp", 5300)          # root's
    status, diag = diagnose(pair.h1, "10.0.0.1", 5300, wrap=NOBODY)
    assert_fails(status, diag, "port_in_use", "EADDRINUSE")
    holder = diag["holders"][0]
    assert holder["uid"] == 0 and holder["pid"] is None, holder   # nobody may not look
    assert "uid 0" in diag["explanation"]


TIME_WAIT = """
import socket
server = socket.socket()
server.bind(("127.0.0.1", 7000))
server.listen()
client = socket.create_connection(("127.0.0.1", 7000))
conn, _ = server.accept()
conn.close()          # the server side closes first: its socket goes to TIME_WAIT
client.close()
server.close()
"""


def test_port_held_by_time_wait_points_to_reuseaddr(pair):
    pair.h1.sh([sys.executable, "-c", TIME_WAIT])
    status, diag = diagnose(pair.h1, "127.0.0.1", 7000)
    assert_fails(status, diag, "port_in_use", "EADDRINUSE")
    states = {h["state"]: h for h in diag["holders"]}
    assert "TIME_WAIT" in states and states["TIME_WAIT"]["pid"] is None, diag["holders"]
    assert "SO_REUSEADDR" in " | ".join(diag["fixes"])


# ---- EACCES, EINVAL, ENODEV ------------------------------------------------------------


def test_privileged_port_for_an_unprivileged_user(pair):
    status, diag = diagnose(pair.h1, "10.0.0.1", 80, wrap=NOBODY)
    assert_fails(status, diag, "privileged_port", "EACCES")
    assert "1024" in diag["explanation"] and "CAP_NET_BIND_SERVICE" in diag["explanation"]
    assert "ip_unprivileged_port_start=80" in " | ".join(diag["fixes"])
    # root has CAP_NET_BIND_SERVICE: the same bind works
    status, diag = diagnose(pair.h1, "10.0.0.1", 80)
    assert status == 0 and diag["cause"] == "ok", diag


def test_linklocal_without_scope(pair):
    pair.h1.addr_add(pair.h1_dev, "fe80::77/64", "nodad")
    status, diag = diagnose(pair.h1, "fe80::77", 6677)
    assert_fails(status, diag, "linklocal_no_scope", "EINVAL")
    assert "fe80::77%%%s" % pair.h1_dev in " | ".join(diag["fixes"])
    status, diag = diagnose(pair.h1, "fe80::77%" + pair.h1_dev, 6677)
    assert status == 0 and diag["cause"] == "ok", diag


def test_linklocal_with_the_wrong_scope_names_the_right_one(pair):
    pair.h1.addr_add(pair.h1_dev, "fe80::77/64", "nodad")
    status, diag = diagnose(pair.h1, "fe80::77%lo", 6677)
    assert_fails(status, diag, "not_local", "EADDRNOTAVAIL")
    assert "fe80::77%%%s" % pair.h1_dev in " | ".join(diag["fixes"])


def test_scope_naming_no_interface(pair):
    status, diag = diagnose(pair.h1, "fe80::77%nosuchif", 6677)
    assert_fails(status, diag, "unknown_scope", "ENODEV")


# ---- the bind works --------------------------------------------------------------------


def test_an_address_that_is_here_is_ok(pair, netprobe):
    status, diag = diagnose(pair.h1, "10.0.0.1", 6677)
    assert status == 0, diag
    assert diag["ok"] is True and diag["errno"] == 0 and diag["error"] is None
    assert diag["cause"] == "ok" and diag["fixes"] == []
    status, lines = text_diagnose(pair.h1, netprobe, "10.0.0.1", "6677")
    assert status == 0 and lines[0] == "bind 10.0.0.1:6677/tcp would succeed"


def test_interface_down_binds_but_warns(pair):
    pair.h1.ip("link", "set", pair.h1_dev, "down")
    status, diag = diagnose(pair.h1, "10.0.0.1", 6677)
    assert status == 0 and diag["ok"] is True, diag
    assert diag["cause"] == "interface_down", diag
    assert "ip link set dev %s up" % pair.h1_dev in " | ".join(diag["fixes"])


def test_peer_down_no_carrier_is_interface_down(pair):
    pair.h2.ip("link", "set", pair.h2_dev, "down")
    status, diag = diagnose(pair.h1, "10.0.0.1", 6677)
    assert status == 0 and diag["cause"] == "interface_down", diag
    assert "carrier" in diag["explanation"]


# ---- usage -----------------------------------------------------------------------------


@pytest.mark.parametrize("args, names", [
    (["10.0.0.300", "80"], "ADDR"),
    (["not-an-address"], "ADDR"),
    (["10.0.0.1", "65536"], "PORT"),
    (["10.0.0.1", "http"], "PORT"),
    ([], "ADDR [PORT]"),
    (["10.0.0.1", "80", "extra"], "ADDR [PORT]"),
    (["--bogus", "10.0.0.1"], "--bogus"),
])
def test_bad_usage_exits_2_with_nothing_on_stdout(lab, args, names):
    run = lab.netns("h1").probe("diagnose", "--json", *args)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stdout == ""
    assert names in run.stderr


# ---- memory ----------------------------------------------------------------------------


def test_diagnose_under_valgrind_has_no_leaks_or_errors(lab, pair):
    binary = plain_probe()
    python_listener(lab, pair.h1, "tcp", 5300)
    for ns, args, cause in [(pair.h2, ["10.0.0.1", 6677], "not_local"),
                            (pair.h1, ["10.0.0.1", 5300], "port_in_use"),
                            (pair.h1, ["10.0.0.1", 6677], "ok")]:
        # diagnose() fails on any exit but 0/1: valgrind's 9 shows its report
        status, diag = diagnose(ns, *args, wrap=VALGRIND, binary=binary)
        assert diag["cause"] == cause, diag


def test_human_form_escapes_control_bytes(pair, netprobe):
    """The scope echoes what the user typed: an escape sequence in it must not reach
    the terminal (ESC becomes \\x1b), in the headline, why: and fix: lines."""
    proc = subprocess.run(pair.h1.argv([netprobe, "--host", "h1", "diagnose",
                                        "fe80::1%\x1b[2J", "6677"]),
                          capture_output=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert b"\x1b" not in proc.stdout, proc.stdout
    lines = proc.stdout.decode("utf-8").splitlines()
    assert "\\x1b[2J" in lines[0] and lines[1].startswith("why: ")
    assert "\\x1b[2J" in lines[1]
    # and the JSON form still carries the text itself
    status, diag = diagnose(pair.h1, "fe80::1%\x1b[2J", 6677)
    assert diag["cause"] == "unknown_scope" and "\x1b[2J" in diag["explanation"]
