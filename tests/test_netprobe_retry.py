"""netprobe in time: --retry-for / retry= against an address that arrives late.

One run on two real namespaces: at t0 h1's batch binds an address no interface
holds yet (a plain bind, a retrying one, a freebind one, a retrying one whose
address never comes, and one started 1.5 s late), a freebind server listens on it, h2 connects to that server
with retries, and about a second later the address is added to h1's interface.
The records must tell the story in order: every try before the address existed
failed (EADDRNOTAVAIL for the binds; no answer for h2's connect), the first try
after it succeeded, at a time inside that window; the budget running out is the
last errno with no success time, never anything else.
"""

import subprocess
import threading
import time

import nsutil
from nsutil import ERRNO_99, assert_outcome

LATE = "10.0.0.9"
EVERY_MS = 100
SLACK_MS = 60       # the clocks of two processes and a try's own length

PLAN = """\
plain bind tcp {a} 7100
retry bind tcp {a} 7101 retry=3 every={e}
free bind tcp {a} 7102 freebind
never bind tcp 10.0.0.99 7104 retry=0.5 every={e}
after bind tcp {a} 7107 delay=1500
""".format(a=LATE, e=EVERY_MS)


def start(ns, args, input=None):
    """netprobe ARGS in @ns, in the background; the Lab stops it if the test fails."""
    argv = ns.argv([nsutil.netprobe_path(), "--host", ns.label] + [str(a) for a in args])
    popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    ns.lab.processes.append(popen)
    popen.stdin.write(input or "")
    popen.stdin.close()
    popen.stdin = None      # communicate() must not flush it again
    return popen


def records(popen):
    out, err = popen.communicate(timeout=nsutil.GUARD_SECONDS)
    assert popen.returncode == 0, err
    return nsutil.parse_records(out)


def wall_ms(record, t_ms):
    return record["start_ms"] + t_ms


def assert_arrives_in_order(record, added_ms, errors):
    """Every try before @added_ms failed with one of @errors, the first after it
    (one period later at most) succeeded, and nothing was tried after that."""
    tries = record["tries"]
    assert tries[-1][1] == 0 and all(err != 0 for _, err in tries[:-1]), tries
    assert record["ok"] and record["ok_ms"] >= tries[-1][0]
    for t_ms, err in tries[:-1]:
        assert wall_ms(record, t_ms) <= added_ms + SLACK_MS, (t_ms, added_ms, tries)
        assert err in errors, tries
    ok_at = wall_ms(record, record["ok_ms"])
    assert added_ms - SLACK_MS <= ok_at, (ok_at, added_ms)
    return ok_at


def test_an_address_that_arrives_late(pair):
    server = pair.h1.serve("--freebind", LATE, 7103)
    assert server.ready["ok"], server.ready         # freebind: listening at once
    batch = start(pair.h1, ["batch"], PLAN)
    late_bind = start(pair.h1, ["bind", "--retry-for", 3, LATE, 7105])
    client = start(pair.h2, ["connect", "--retry-for", 3, "--every", EVERY_MS,
                             "--timeout", 200, LATE, 7103])
    time.sleep(1.0)
    pair.h1.addr_add(pair.h1_dev, LATE + "/24")
    added_ms = time.time() * 1000
    by_id = {r["id"]: r for r in records(batch)}

    assert_outcome(by_id["plain"], ERRNO_99)
    assert "tries" not in by_id["plain"]            # no retry=: the record of old
    assert_outcome(by_id["free"], None)
    ok_at = assert_arrives_in_order(by_id["retry"], added_ms, {99})
    assert ok_at <= added_ms + EVERY_MS + SLACK_MS, (ok_at, added_ms)
    assert len(by_id["retry"]["tries"]) >= 5        # ~1 s of tries, 100 ms apart
    assert by_id["retry"]["options"] == ["retry=3", "every=100"]

    never = by_id["never"]                          # the budget ran out: said so
    assert_outcome(never, ERRNO_99)
    assert never["ok_ms"] is None
    assert [e for _, e in never["tries"]] == [99] * len(never["tries"])
    assert 4 <= len(never["tries"]) <= 6 and never["tries"][-1][0] <= 500

    after = by_id["after"]                          # started after the address: at once
    assert_outcome(after, None)
    assert after["options"] == ["delay=1500"] and after["tries"] == [[0, 0]]
    assert after["start_ms"] >= added_ms - SLACK_MS, (after["start_ms"], added_ms)

    (one,) = records(late_bind)                     # the command line, default every
    assert_arrives_in_order(one, added_ms, {99})

    (conn,) = records(client)                       # receiving only once it exists
    ok_at = assert_arrives_in_order(conn, added_ms, {110, 113})
    assert conn["peer_host"] == "h1" and conn["timeout_ms"] == 200
    # h2 asked for 10.0.0.9's MAC address when it started, and asks again once a
    # second (ARP's retransmission) while its connects wait: the answer comes with
    # the first request after the address arrived, at most a second later
    assert ok_at <= added_ms + 1000 + SLACK_MS, (ok_at, added_ms)
    assert server.stop() == 0


def test_serve_retries_until_its_address_exists(pair):
    timer = threading.Timer(0.5, pair.h1.addr_add, (pair.h1_dev, LATE + "/24"))
    timer.start()
    try:
        server = pair.h1.serve("--retry-for", 2, LATE, 7106)
    finally:
        timer.join()
    ready = server.ready
    assert ready["op"] == "serve" and ready["ok"], ready
    assert ready["tries"][0][1] == 99 and ready["tries"][-1][1] == 0
    assert 300 <= ready["ok_ms"] <= 1500, ready
    assert pair.h2.probe("connect", LATE, 7106).only()["peer_host"] == "h1"
    assert server.stop() == 0
