"""The snapshot file: its fields, and the one check of a snapshot read back.

A snapshot comes from a user or a CI artifact: hostile input.  check() walks every
field and raises BadInput naming the file and the field (`interfaces[2].addresses[0].
address: '10.0.0.300' is not an IPv4 address`); an unknown field is refused too (a
newer format says so in `version`).  Interface names are checked as the ledger checks
them (safe in a path), addresses and prefixes are parsed with ipaddress.
docs/snapshots.md describes every field.
"""

import ipaddress
import re

from ..errors import BadInput
from ..ledger import is_interface_name

FORMAT, VERSION = 'bindlab-snapshot', 1
MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024
MAX_ITEMS = 100000

# The sysctls of the whole namespace that decide a bind (or a connect's Errno 99).
GLOBAL_SYSCTLS = (
    'net.ipv4.ip_nonlocal_bind', 'net.ipv6.ip_nonlocal_bind',
    'net.ipv4.ip_local_port_range', 'net.ipv4.ip_local_reserved_ports',
    'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.ip_forward',
    'net.ipv4.conf.all.forwarding', 'net.ipv6.bindv6only', 'net.ipv4.tcp_tw_reuse',
    'net.ipv6.conf.all.disable_ipv6', 'net.ipv6.conf.default.disable_ipv6',
    'net.ipv6.conf.all.forwarding', 'net.ipv6.conf.all.accept_dad',
    'net.ipv6.conf.default.accept_dad', 'net.ipv6.conf.default.dad_transmits')
# Each interface's own (key in the snapshot: its path below /proc/sys/net/IPV/conf/IF/).
INTERFACE_SYSCTLS = ('ipv4.forwarding', 'ipv6.disable_ipv6', 'ipv6.accept_dad',
                     'ipv6.dad_transmits', 'ipv6.forwarding')
ADDR_FLAGS = ('secondary', 'tentative', 'dadfailed', 'deprecated', 'optimistic',
              'nodad', 'home', 'mngtmpaddr', 'noprefixroute', 'autojoin',
              'stable-privacy', 'permanent', 'dynamic')
FAMILIES = {'inet': 4, 'inet6': 6}

TOKEN = re.compile(r'[A-Za-z0-9_.:-]{1,64}\Z')
MAC = re.compile(r'[0-9a-f]{2}(:[0-9a-f]{2}){0,31}\Z')
NAME = re.compile(r'[A-Za-z0-9_.*-]{1,253}\Z')        # a host or domain name
NUMBER = re.compile(r'(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})\Z')
SYSCTL_VALUE = {'net.ipv4.ip_local_port_range': re.compile(r'[0-9]{1,5} [0-9]{1,5}\Z'),
                'net.ipv4.ip_local_reserved_ports':
                    re.compile(r'([0-9]{1,5}(-[0-9]{1,5})?(,[0-9]{1,5}(-[0-9]{1,5})?)*)?\Z')}
INT_VALUE = re.compile(r'-?[0-9]{1,10}\Z')


class Check:
    """The checks of one file: each failure a BadInput naming path and field."""

    def __init__(self, path):
        self.path = path

    def fail(self, field, why):
        raise BadInput(f'{self.path}: {field}: {why}')

    def obj(self, value, field, required, optional=()):
        if not isinstance(value, dict):
            self.fail(field, 'must be an object')
        missing = [k for k in required if k not in value]
        if missing:
            self.fail(f'{field}.{missing[0]}' if field else missing[0], 'missing')
        extra = sorted(set(value) - set(required) - set(optional))
        if extra:
            self.fail(f'{field}.{extra[0]}' if field else extra[0], 'unknown field')
        return value

    def items(self, value, field):
        if not isinstance(value, list):
            self.fail(field, 'must be a list')
        if len(value) > MAX_ITEMS:
            self.fail(field, f'more than {MAX_ITEMS} entries')
        return [(f'{field}[{n}]', x) for n, x in enumerate(value)]

    def integer(self, value, field, low=0, high=2**32 - 1):
        if type(value) is not int or not low <= value <= high:
            self.fail(field, f'{value!r} is not a whole number in {low}..{high}')
        return value

    def boolean(self, value, field, none=False):
        if not (isinstance(value, bool) or (none and value is None)):
            self.fail(field, f'{value!r} is not true or false')
        return value

    def text(self, value, field, pattern=None, limit=512, none=False):
        if none and value is None:
            return value
        if not isinstance(value, str) or len(value) > limit or not value.isprintable():
            self.fail(field, f'{_show(value)} is not a printable string of at most '
                             f'{limit} characters')
        if pattern is not None and not pattern.match(value):
            self.fail(field, f'{_show(value)} is not allowed here')
        return value

    def iface(self, value, field, none=False):
        if none and value is None:
            return value
        if not is_interface_name(value):
            self.fail(field, f'{_show(value)} is not an interface name')
        return value

    def address(self, value, field, family=None, scoped=False, none=False):
        if none and value is None:
            return value
        if not isinstance(value, str):
            self.fail(field, f'{_show(value)} is not an address')
        text, _, scope = value.partition('%') if scoped else (value, '', '')
        if scope:
            self.iface(scope, field)
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            self.fail(field, f'{_show(value)} is not an IP address')
        if family and addr.version != FAMILIES[family]:
            self.fail(field, f'{_show(value)} is not an IPv{FAMILIES[family]} address')
        return value

    def prefix(self, value, field, family=None, none=False):
        if none and value is None:
            return value
        try:
            net = ipaddress.ip_network(value)
        except (ValueError, TypeError):
            self.fail(field, f'{_show(value)} is not a prefix such as 10.0.0.0/24')
        if family and net.version != FAMILIES[family]:
            self.fail(field, f'{_show(value)} is not an IPv{FAMILIES[family]} prefix')
        return value

    def family(self, value, field):
        if value not in FAMILIES:
            self.fail(field, f'{_show(value)} is not inet or inet6')
        return value


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'

