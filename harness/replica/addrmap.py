"""Relabelling addresses for `snapshot --redact`: the same address always gives the
same label, subnets stay subnets.

- Public addresses go into the documentation ranges: IPv4 into 192.0.2.0/24,
  198.51.100.0/24 and 203.0.113.0/24, IPv6 into 2001:db8::/32.  Private ones (10/8,
  172.16/12, 192.168/16, 100.64/10, 169.254/16, fc00::/7) stay in their range,
  renumbered.  Loopback, unspecified, multicast and reserved addresses are kept as
  they are (they say nothing about the host); IPv6 link-local addresses keep fe80::/64
  with their interface ids renumbered (an EUI-64 id is the MAC).
- A *block* is a subnet of an interface address (or, failing that, a route's or the
  address's own /32 or /128); a block moves whole to a free aligned block of the same
  size, so prefix lengths and subnet membership hold.  IPv4 keeps host numbers inside
  a block; IPv6 keeps subnet ids down to /64 and renumbers interface ids 1, 2, ...
  A public IPv4 block larger than a /24 lands in one /24 of the documentation ranges,
  its members numbered 1, 2, ... (the prefix length is kept, so members stay members).
"""

import ipaddress

from ..errors import UsageError

_net = ipaddress.ip_network
PRIVATE = [_net(x) for x in ('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16',
                             '100.64.0.0/10', '169.254.0.0/16', 'fc00::/7')]
KEEP = [_net(x) for x in ('0.0.0.0/8', '127.0.0.0/8', '224.0.0.0/4', '240.0.0.0/4',
                          '::/128', '::1/128', 'ff00::/8')]
LINK_LOCAL6 = _net('fe80::/10')
MAPPED4 = _net('::ffff:0:0/96')
DOC4 = [_net(x) for x in ('192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24')]
DOC6 = [_net('2001:db8::/32')]


class Pool:
    """Free aligned blocks of one destination space, handed out in order."""

    def __init__(self, ranges, start_half=False):
        self.ranges = ranges
        self.cursor = [int(r.network_address) + (r.num_addresses // 2 if start_half
                                                 else 0) for r in ranges]
        self.wrapped = [not start_half] * len(ranges)

    def take(self, size):
        for n, r in enumerate(self.ranges):
            if size > r.num_addresses:
                continue
            while True:
                pos = -(-self.cursor[n] // size) * size
                if size == 1 and pos % 256 in (0, 255):     # not a .0 or .255
                    self.cursor[n] = pos + 1
                    continue
                if pos + size <= int(r.network_address) + r.num_addresses:
                    self.cursor[n] = pos + size
                    return pos
                if self.wrapped[n]:
                    break
                self.wrapped[n], self.cursor[n] = True, int(r.network_address)
        raise UsageError(f'--redact: too many subnets to relabel into {self.ranges[0]}; '
                         'the snapshot was not written')


class Block:
    """One source subnet and where it went."""

    def __init__(self, net, base, size, sequential):
        self.net, self.base, self.size, self.sequential = net, base, size, sequential
        self.hosts = {}          # sequential numbering: source offset -> number

    def place(self, addr):
        offset = int(addr) - int(self.net.network_address)
        if addr.version == 6 and not self.sequential:
            low = offset & (2**64 - 1)            # the interface id: renumbered
            return self.base + (offset - low) % self.size + self._number(low, 2**64 - 1)
        if self.sequential:
            return self.base + self._number(offset, 254 if addr.version == 4
                                            else self.size - 1)
        return self.base + offset

    def _number(self, offset, most):
        if offset == 0:
            return 0
        if offset not in self.hosts:
            self.hosts[offset] = len(self.hosts) + 1
        if self.hosts[offset] > most:
            raise UsageError(f'--redact: more addresses in {self.net} than its relabelled '
                             'block holds; the snapshot was not written')
        return self.hosts[offset]


class AddressMap:
    """The address relabelling of one snapshot."""

    def __init__(self):
        self.blocks = []
        self.pools = {('public', 4): Pool(DOC4), ('public', 6): Pool(DOC6)}
        for r in PRIVATE:
            self.pools[(r, r.version)] = Pool([r], start_half=True)

    @staticmethod
    def region(net):
        """'keep', 'linklocal', a private range, 'public', or None when net spans
        more than one of them."""
        for r in KEEP + [LINK_LOCAL6] + PRIVATE:
            if r.version == net.version and net.subnet_of(r):
                return 'keep' if r in KEEP else 'linklocal' if r == LINK_LOCAL6 else r
        if any(r.version == net.version and net.overlaps(r)
               for r in KEEP + [LINK_LOCAL6] + PRIVATE):
            return None
        return 'public'

    def add_subnet(self, net):
        """Register an interface's subnet as a block (outermost ones first)."""
        if net.prefixlen and self.region(net) not in (None, 'keep') and \
                not self.inside(net) and not self.containing(net):
            self._new_block(net)

    def inside(self, net):
        return next((b for b in self.blocks if b.net.version == net.version
                     and net.subnet_of(b.net)), None)

    def containing(self, net):
        return any(b.net.version == net.version and b.net.subnet_of(net)
                   for b in self.blocks)

    def _new_block(self, net):
        region = self.region(net)
        if region == 'linklocal':
            net = net.supernet(new_prefix=64) if net.prefixlen > 64 else net
            block = Block(net, int(net.network_address), net.num_addresses, False)
        else:
            size = net.num_addresses
            sequential = net.version == 4 and region == 'public' and size > 256
            if sequential or (net.version == 6 and net.prefixlen > 64):
                sequential, size = True, min(size, 256 if net.version == 4 else 2**16)
            if net.version == 6 and region == 'public' and net.prefixlen < 32:
                size = 2**96
            base = self.pools[(region, net.version)].take(size)
            block = Block(net, base, size, sequential)
        self.blocks.append(block)
        return block

    def address(self, text):
        """The label of one address (text, as the snapshot spells it)."""
        addr = ipaddress.ip_address(text)
        if addr.version == 6 and addr in MAPPED4:
            return '::ffff:' + self.address(str(addr.ipv4_mapped))
        one = _net(f'{addr}/{addr.max_prefixlen}')
        region = self.region(one)
        if region == 'keep':
            return str(addr)
        block = self.inside(one) or self._new_block(one)
        return str(ipaddress.ip_address(block.place(addr)))

    def network(self, text):
        """The label of a prefix (a route's dst, a rule's src): the same length."""
        net = _net(text)
        region = self.region(net)
        if region == 'keep' or not net.prefixlen:
            return str(net)
        if region is not None and not self.inside(net) and not self.containing(net):
            self._new_block(net)
        label = ipaddress.ip_address(self.address(str(net.network_address)))
        return str(_net(f'{label}/{net.prefixlen}', strict=False))
