"""The topology of a run as inline SVG (report.html): switches on top, hosts below."""

import re

from .markdown import esc

BOX_W, BOX_H, GAP_X, GAP_Y = 118, 46, 18, 70      # a node's box, the gaps between boxes


def normalize_topology(topo):
    """(nodes, links) from a topology record, whatever its exact shape.

    nodes: [(name, kind 'host'|'switch', [address text, ...])]; links: [(a, b, label)].
    The harness writes hosts as [{name, interfaces: [{name, ip, prefixlen}]}],
    switches as [{name, class}] and links as [intf1, intf2] (interface names).  Also
    accepts hosts/switches as lists of names, lists of dicts (name, ips/ip/addrs), or
    dicts {name: info}; links as [a, b], (a, b, info) or dicts (node1/node2, a/b, src/dst).
    """
    topo = topo if isinstance(topo, dict) else {}
    found = _Nodes()
    for kind, key in (('host', 'hosts'), ('switch', 'switches')):
        group = topo.get(key)
        if isinstance(group, dict):
            for name, info in group.items():
                found.add(kind, name, info)
        elif isinstance(group, (list, tuple)):
            for item in group:
                found.add(kind, item)
    links = []
    for link in topo.get('links') or ():
        ends = _link_record(link)
        if ends:
            links.append(found.link(*ends))
    return found.nodes, links


class _Nodes:
    """The nodes met so far, in order; their names; which node owns which interface."""

    def __init__(self):
        self.nodes, self.seen, self.owner = [], set(), {}

    def add(self, kind, item, info=None):
        """Record a node (a name, or a dict with its name) once, the first time met."""
        if isinstance(item, dict):
            info, item = item, item.get('name') or item.get('node')
        name = str(item)
        if name in self.seen:
            return
        self.seen.add(name)
        kind, addrs = _node_facts(name, kind, info, self.owner)
        self.nodes.append((name, kind, addrs))

    def link(self, a, b, label):
        """(a, b, label) with both ends named as nodes; an end not met yet becomes a node
        (a switch if it is named like Mininet's s1, s2, else a host)."""
        a, b = _link_end(str(a), self.owner, self.seen), _link_end(str(b), self.owner, self.seen)
        for end in (a, b):
            if end not in self.seen:
                self.add('switch' if re.match(r'^s\d+$', end) else 'host', end)
        return a, b, label


def _node_facts(name, kind, info, owner):
    """(kind, [address text]) of node name from its info (a dict or an address); a dict's
    interfaces are noted in owner ({interface name: node name})."""
    if isinstance(info, str):
        return kind, [info]
    if not isinstance(info, dict):
        return kind, []
    addrs = []
    for intf in info.get('interfaces') or ():
        if isinstance(intf, dict) and intf.get('name'):
            owner[str(intf['name'])] = name
            if intf.get('ip'):
                plen = intf.get('prefixlen')
                addrs.append(f'{intf["ip"]}{"/" + str(plen) if plen else ""}'
                             f' {intf["name"]}')
    for key in ('ips', 'ip', 'addrs', 'addresses', 'ipv6', 'ip6'):
        val = info.get(key)
        if isinstance(val, str):
            addrs.append(val)
        elif isinstance(val, (list, tuple)):
            addrs.extend(str(v) for v in val)
        elif isinstance(val, dict):
            for intf, a in val.items():
                for one in (a if isinstance(a, (list, tuple)) else [a]):
                    addrs.append(f'{one} ({intf})')
    node_kind = info.get('kind') or info.get('role')
    if node_kind in ('switch', 'router', 'host'):
        kind = 'switch' if node_kind == 'switch' else 'host'
    return kind, addrs


def _link_record(link):
    """(a, b, label) from one link record, or None for one without two ends."""
    if isinstance(link, dict):
        a = link.get('node1') or link.get('a') or link.get('src')
        b = link.get('node2') or link.get('b') or link.get('dst')
        label = ' '.join(str(link[k]) for k in ('intf1', 'intf2') if link.get(k))
    elif isinstance(link, (list, tuple)) and len(link) >= 2:
        a, b, label = link[0], link[1], ''
    else:
        return None
    if a is None or b is None:
        return None
    return a, b, label


def _link_end(end, owner, seen):
    """The node a link end names: a node name, or an interface name ('s1-eth2')
    mapped to its node (from the hosts' interfaces, else Mininet's NODE-ethN form)."""
    if end in seen:
        return end
    if end in owner:
        return owner[end]
    node = end.rsplit('-', 1)[0] if '-' in end else end
    return node if node in seen else end


def topology_svg(topo, max_per_row=12):
    """The topology as an inline SVG: switches on top, hosts below, links as lines.

    Hosts are ordered by the switch they hang off, so links do not cross much; large
    topologies wrap onto several rows.  Links between two hosts (routers) are drawn as
    arcs.  All text is escaped.
    """
    nodes, links = normalize_topology(topo)
    if not nodes:
        return '<p class="facts">(no topology recorded)</p>'
    switches = [n for n in nodes if n[1] == 'switch']
    hosts = _by_first_switch([n for n in nodes if n[1] != 'switch'], switches, links)
    pos, width, height = _layout(switches, hosts, max_per_row)
    out = [f'<svg class="topo" xmlns="http://www.w3.org/2000/svg" width="{int(width)}" '
           f'height="{int(height)}" viewBox="0 0 {int(width)} {int(height)}" '
           f'role="img" aria-label="topology">']
    kinds = {n[0]: n[1] for n in nodes}
    for a, b, label in links:
        if a in pos and b in pos:
            out.append(_link_svg(a, b, label, pos, kinds))
    for name, kind, addrs in nodes:
        out.append(_node_svg(name, kind, addrs, pos[name]))
    out.append('</svg>')
    return ''.join(out)


def _by_first_switch(hosts, switches, links):
    """hosts sorted by the first switch each is linked to (in switch order); hosts on
    no switch last.  The sort is stable: ties keep their order."""
    first_switch = {}
    sw_order = {n[0]: i for i, n in enumerate(switches)}
    for a, b, _ in links:
        for x, y in ((a, b), (b, a)):
            if y in sw_order:
                first_switch.setdefault(x, sw_order[y])
    return sorted(hosts, key=lambda n: first_switch.get(n[0], len(sw_order)))


def _layout(switches, hosts, max_per_row):
    """({node name: (x, y) of its box's top left}, width, height): switches in rows on
    top, hosts in rows below, at most max_per_row to a row, each row centred."""
    per_row = max(1, min(max_per_row, max(len(hosts), len(switches), 1)))
    width = per_row * (BOX_W + GAP_X) + GAP_X
    pos = {}

    def place(group, top):
        rows = (len(group) + per_row - 1) // per_row
        for i, node in enumerate(group):
            r, c = divmod(i, per_row)
            in_row = min(per_row, len(group) - r * per_row)
            x0 = (width - (in_row * (BOX_W + GAP_X) - GAP_X)) / 2
            pos[node[0]] = (x0 + c * (BOX_W + GAP_X), top + r * (BOX_H + GAP_Y / 2))
        return top + rows * (BOX_H + GAP_Y / 2) + GAP_Y / 2

    y = place(switches, 14) if switches else 14
    height = (place(hosts, y) if hosts else y) - GAP_Y + 10
    return pos, width, height


def _link_svg(a, b, label, pos, kinds):
    """One link: an arc between two nodes of a kind side by side in a row (above the
    switches, below the hosts), else a line from the upper node's bottom to the lower's top."""
    (ax, ay), (bx, by) = pos[a], pos[b]
    ax, bx = ax + BOX_W / 2, bx + BOX_W / 2
    if kinds[a] == kinds[b] and ay == by:
        mid = ay - 22 if kinds[a] == 'switch' else ay + BOX_H + 22
        ay_, by_ = (ay, by) if kinds[a] == 'switch' else (ay + BOX_H, by + BOX_H)
        return (f'<path d="M{ax:.0f},{ay_:.0f} Q{(ax + bx) / 2:.0f},{mid:.0f} '
                f'{bx:.0f},{by_:.0f}" fill="none" stroke="#778" stroke-width="1.5">'
                f'<title>{esc(a)} \u2014 {esc(b)} {esc(label)}</title></path>')
    if ay > by:
        (ax, ay), (bx, by) = (bx, by), (ax, ay)
    return (f'<line x1="{ax:.0f}" y1="{ay + BOX_H:.0f}" x2="{bx:.0f}" y2="{by:.0f}" '
            f'stroke="#778" stroke-width="1.5"><title>{esc(a)} \u2014 {esc(b)} '
            f'{esc(label)}</title></line>')


def _node_svg(name, kind, addrs, at):
    """One node at (x, y): its box, its name, its first two addresses (and how many more)."""
    x, y0 = at
    fill, stroke = ('#e4ecfa', '#5473b8') if kind == 'switch' else ('#f2f7ec', '#5f8f3a')
    shown = addrs[:2] + ([f'+{len(addrs) - 2} more'] if len(addrs) > 2 else [])
    out = [f'<g data-node="{esc(name)}" data-node-kind="{kind}"><title>{esc(name)}'
           f'{" " + esc(", ".join(addrs)) if addrs else ""}</title>'
           f'<rect x="{x:.0f}" y="{y0:.0f}" width="{BOX_W}" height="{BOX_H}" '
           f'rx="{10 if kind == "switch" else 4}" fill="{fill}" stroke="{stroke}"/>'
           f'<text x="{x + BOX_W / 2:.0f}" y="{y0 + 15:.0f}" text-anchor="middle" '
           f'font-size="12" font-weight="600">{esc(_clip(name, 16))}</text>']
    for i, addr in enumerate(shown):
        out.append(f'<text x="{x + BOX_W / 2:.0f}" y="{y0 + 28 + i * 11:.0f}" '
                   f'text-anchor="middle" font-size="9.5" fill="#333">'
                   f'{esc(_clip(addr, 22))}</text>')
    out.append('</g>')
    return ''.join(out)


def _clip(text, n):
    """text cut to n characters with an ellipsis."""
    text = str(text)
    return text if len(text) <= n else text[:n - 1] + '\u2026'
