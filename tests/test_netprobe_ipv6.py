"""netprobe over IPv6 on a real veth link: global and link-local addresses, DAD
that fails because another host holds the address, and scopes.

Addresses are added with ``nodad`` where DAD is not the point, so no test waits;
where it is the point, the test polls ``ip -6 addr`` for the kernel's flag.
"""

from nsutil import ERRNO_99, assert_outcome


def add_v6(pair):
    """Gives h1 2001:db8::1 and h2 2001:db8::2 (nodad: usable at once)."""
    pair.h1.addr_add(pair.h1_dev, "2001:db8::1/64", "nodad")
    pair.h2.addr_add(pair.h2_dev, "2001:db8::2/64", "nodad")


def test_ipv6_serve_says_its_name(pair):
    add_v6(pair)
    pair.h1.serve("2001:db8::1", 9000)
    record = pair.h2.probe("connect", "2001:db8::1", 9000).only()
    assert_outcome(record, None)
    assert record["family"] == "inet6"
    assert record["peer_host"] == "h1"
    assert record["local"].startswith("[2001:db8::2]:"), record


def test_ipv6_bind_of_the_other_hosts_address_is_errno_99(pair):
    add_v6(pair)
    assert_outcome(pair.h2.probe("bind", "2001:db8::1", 9001).only(), ERRNO_99)
    assert_outcome(pair.h2.probe("bind", "[2001:db8::2]", 9001).only(), None)


def test_link_local_connect_needs_its_scope(pair):
    pair.h1.addr_add(pair.h1_dev, "fe80::1/64", "nodad")
    pair.h2.addr_add(pair.h2_dev, "fe80::2/64", "nodad")
    pair.h1.serve("fe80::1%" + pair.h1_dev, 9002)
    record = pair.h2.probe("connect", "fe80::1%" + pair.h2_dev, 9002).only()
    assert_outcome(record, None)
    assert record["peer_host"] == "h1"
    # without the scope the kernel cannot tell which link is meant
    assert_outcome(pair.h2.probe("connect", "fe80::1", 9002).only(), "EINVAL")


def test_dad_failure_leaves_the_address_unusable(pair):
    """h1 holds 2001:db8::5; h2 adds it too, its DAD hears h1 answer, and the
    kernel marks it dadfailed: bind gives 99 for good, and addrs says why."""
    pair.h1.addr_add(pair.h1_dev, "2001:db8::5/64", "nodad")
    pair.h2.sysctl("net.ipv6.conf.%s.accept_dad" % pair.h2_dev, 1)
    pair.h2.addr_add(pair.h2_dev, "2001:db8::5/64")
    pair.h2.wait_dad_failed(pair.h2_dev, "2001:db8::5")
    assert_outcome(pair.h2.probe("bind", "2001:db8::5", 9003).only(), ERRNO_99)
    mine = [r for r in pair.h2.probe("addrs", "--json").records
            if r.get("addr") == "2001:db8::5"]
    assert len(mine) == 1 and "dadfailed" in mine[0]["flags"], mine
    # the host that really has it binds fine
    assert_outcome(pair.h1.probe("bind", "2001:db8::5", 9003).only(), None)


def test_v4_mapped_connect_reaches_the_ipv4_server(pair):
    pair.h1.serve("10.0.0.1", 9004)
    record = pair.h2.probe("batch", input="m connect tcp 10.0.0.1 9004 family=6\n").only()
    assert_outcome(record, None)
    assert record["addr"] == "::ffff:10.0.0.1"
    assert record["peer_host"] == "h1"
    assert record["local"].startswith("[::ffff:10.0.0.2]:"), record
