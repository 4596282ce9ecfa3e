"""Every field of a snapshot checked, section by section (schema.py: the words)."""

import json

from ..errors import BadInput
from ..files import read_bytes
from .schema import (ADDR_FLAGS, Check, FORMAT, GLOBAL_SYSCTLS, INT_VALUE,
                     INTERFACE_SYSCTLS, MAC, MAX_SNAPSHOT_BYTES, NAME, NUMBER,
                     SYSCTL_VALUE, TOKEN, VERSION)

TOP = ('format', 'version', 'taken', 'bindlab', 'redacted', 'host', 'interfaces',
       'routes', 'rules', 'neighbours', 'listeners', 'sysctls', 'hosts', 'resolv',
       'unreadable')


def read_snapshot(path):
    """The snapshot in path, every field checked (BadInput naming file and field)."""
    data = read_bytes(path, 'snapshot', cap=MAX_SNAPSHOT_BYTES)
    try:
        snap = json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadInput(f'{path}: not a JSON snapshot: {exc}') from None
    check_snapshot(snap, path)
    return snap


def check_snapshot(snap, path):
    """BadInput naming path and the first bad field, unless snap is a snapshot."""
    c = Check(path)
    if not isinstance(snap, dict) or snap.get('format') != FORMAT:
        c.fail('format', f'not a bindlab snapshot (format must be {FORMAT!r})')
    if snap.get('version') != VERSION or type(snap.get('version')) is not int:
        c.fail('version', f'{snap.get("version")!r}: this bindlab reads version {VERSION}')
    c.obj(snap, '', TOP)
    c.text(snap['taken'], 'taken', TOKEN)
    c.text(snap['bindlab'], 'bindlab', TOKEN)
    c.boolean(snap['redacted'], 'redacted')
    c.obj(snap['host'], 'host', ('hostname', 'kernel'))
    c.text(snap['host']['hostname'], 'host.hostname', NAME)
    c.text(snap['host']['kernel'], 'host.kernel', limit=128)
    names = interfaces(c, snap['interfaces'])
    routes(c, snap['routes'])
    rules(c, snap['rules'])
    for field, n in c.items(snap['neighbours'], 'neighbours'):
        c.obj(n, field, ('address', 'dev', 'mac', 'state'))
        c.address(n['address'], f'{field}.address')
        c.iface(n['dev'], f'{field}.dev')
        c.text(n['mac'], f'{field}.mac', MAC, none=True)
        for f, s in c.items(n['state'], f'{field}.state'):
            c.text(s, f, TOKEN)
    listeners(c, snap['listeners'])
    sysctls(c, snap['sysctls'], 'sysctls', GLOBAL_SYSCTLS)
    files(c, snap)
    for field, u in c.items(snap['unreadable'], 'unreadable'):
        c.obj(u, field, ('what', 'why'))
        c.text(u['what'], f'{field}.what', limit=200)
        c.text(u['why'], f'{field}.why', limit=1000)
    return names


def interfaces(c, value):
    names = set()
    for field, i in c.items(value, 'interfaces'):
        c.obj(i, field, ('name', 'index', 'kind', 'mac', 'mtu', 'up', 'carrier',
                         'operstate', 'master', 'addresses', 'sysctls'))
        c.iface(i['name'], f'{field}.name')
        if i['name'] in names:
            c.fail(f'{field}.name', f'{i["name"]!r} is there twice')
        names.add(i['name'])
        c.integer(i['index'], f'{field}.index')
        c.text(i['kind'], f'{field}.kind', TOKEN)
        if i['mac'] is not None and not MAC.match(str(i['mac'])):
            c.address(i['mac'], f'{field}.mac')         # a tunnel's "0.0.0.0"
        c.integer(i['mtu'], f'{field}.mtu')
        c.boolean(i['up'], f'{field}.up')
        c.boolean(i['carrier'], f'{field}.carrier')
        c.text(i['operstate'], f'{field}.operstate', TOKEN)
        c.iface(i['master'], f'{field}.master', none=True)
        for f, a in c.items(i['addresses'], f'{field}.addresses'):
            c.obj(a, f, ('family', 'address', 'prefixlen', 'scope', 'flags', 'label',
                         'peer'))
            c.family(a['family'], f'{f}.family')
            c.address(a['address'], f'{f}.address', a['family'])
            c.integer(a['prefixlen'], f'{f}.prefixlen',
                      high=32 if a['family'] == 'inet' else 128)
            c.text(a['scope'], f'{f}.scope', TOKEN)
            for ff, flag in c.items(a['flags'], f'{f}.flags'):
                if flag not in ADDR_FLAGS:
                    c.fail(ff, f'{flag!r} is not an address flag')
            c.text(a['label'], f'{f}.label', TOKEN, limit=15, none=True)
            c.address(a['peer'], f'{f}.peer', a['family'], none=True)
        sysctls(c, i['sysctls'], f'{field}.sysctls', INTERFACE_SYSCTLS)
    return names


def routes(c, value):
    for field, r in c.items(value, 'routes'):
        c.obj(r, field, ('family', 'table', 'type', 'dst', 'gateway', 'dev', 'src',
                         'metric', 'protocol', 'scope', 'flags'), ('nexthops',))
        c.family(r['family'], f'{field}.family')
        for key in ('table', 'type', 'protocol', 'scope'):
            c.text(r[key], f'{field}.{key}', TOKEN)
        c.prefix(r['dst'], f'{field}.dst', r['family'])
        c.address(r['gateway'], f'{field}.gateway', none=True)
        c.iface(r['dev'], f'{field}.dev', none=True)
        c.address(r['src'], f'{field}.src', r['family'], none=True)
        if r['metric'] is not None:
            c.integer(r['metric'], f'{field}.metric')
        for f, flag in c.items(r['flags'], f'{field}.flags'):
            c.text(flag, f, TOKEN)
        for f, hop in c.items(r.get('nexthops', []), f'{field}.nexthops'):
            c.obj(hop, f, ('gateway', 'dev', 'weight'))
            c.address(hop['gateway'], f'{f}.gateway', none=True)
            c.iface(hop['dev'], f'{f}.dev', none=True)
            c.integer(hop['weight'], f'{f}.weight', high=256)


def rules(c, value):
    for field, r in c.items(value, 'rules'):
        c.obj(r, field, ('family', 'priority', 'not', 'src', 'dst', 'iif', 'oif',
                         'fwmark', 'fwmask', 'table', 'action'), ('unsupported',))
        c.family(r['family'], f'{field}.family')
        c.integer(r['priority'], f'{field}.priority')
        c.boolean(r['not'], f'{field}.not')
        c.prefix(r['src'], f'{field}.src', r['family'], none=True)
        c.prefix(r['dst'], f'{field}.dst', r['family'], none=True)
        c.iface(r['iif'], f'{field}.iif', none=True)
        c.iface(r['oif'], f'{field}.oif', none=True)
        c.text(r['fwmark'], f'{field}.fwmark', NUMBER, none=True)
        c.text(r['fwmask'], f'{field}.fwmask', NUMBER, none=True)
        c.text(r['table'], f'{field}.table', TOKEN, none=True)
        c.text(r['action'], f'{field}.action', TOKEN)
        for f, key in c.items(r.get('unsupported', []), f'{field}.unsupported'):
            c.text(key, f, TOKEN)


def listeners(c, value):
    for field, x in c.items(value, 'listeners'):
        c.obj(x, field, ('proto', 'address', 'port', 'device', 'v6only', 'processes'))
        if x['proto'] not in ('tcp', 'udp'):
            c.fail(f'{field}.proto', f'{x["proto"]!r} is not tcp or udp')
        c.address(x['address'], f'{field}.address')
        c.integer(x['port'], f'{field}.port', high=65535)
        c.iface(x['device'], f'{field}.device', none=True)
        c.boolean(x['v6only'], f'{field}.v6only', none=True)
        for f, p in c.items(x['processes'], f'{field}.processes'):
            c.obj(p, f, ('name', 'pid'))
            c.text(p['name'], f'{f}.name', limit=64)
            c.integer(p['pid'], f'{f}.pid', low=1, high=2**22)


def sysctls(c, value, field, known):
    c.obj(value, field, (), known)
    for key, text in value.items():
        pattern = SYSCTL_VALUE.get(key, INT_VALUE)
        c.text(text, f'{field}.{key}', pattern, limit=4096)


def files(c, snap):
    for field, h in c.items(snap['hosts'], 'hosts'):
        c.obj(h, field, ('address', 'names'))
        c.address(h['address'], f'{field}.address', scoped=True)
        for f, name in c.items(h['names'], f'{field}.names'):
            c.text(name, f, NAME)
    c.obj(snap['resolv'], 'resolv', ('nameservers', 'search', 'options'))
    for f, server in c.items(snap['resolv']['nameservers'], 'resolv.nameservers'):
        c.address(server, f, scoped=True)
    for f, name in c.items(snap['resolv']['search'], 'resolv.search'):
        c.text(name, f, NAME)
    for f, option in c.items(snap['resolv']['options'], 'resolv.options'):
        c.text(option, f, TOKEN)
