"""The topology of a run as inline SVG (report.html): switches on top, hosts below."""

import re

from .markdown import esc


def normalize_topology(topo):
    """(nodes, links) from a topology record, whatever its exact shape.

    nodes: [(name, kind 'host'|'switch', [address text, ...])]; links: [(a, b, label)].
    The harness writes hosts as [{name, interfaces: [{name, ip, prefixlen}]}],
    switches as [{name, class}] and links as [intf1, intf2] (interface names).  Also
    accepts hosts/switches as lists of names, lists of dicts (name, ips/ip/addrs), or
    dicts {name: info}; links as [a, b], (a, b, info) or dicts (node1/node2, a/b, src/dst).
    """
    nodes, seen, owner = [], set(), {}

    def add(kind, item, info=None):
        if isinstance(item, dict):
            info, item = item, item.get('name') or item.get('node')
        name = str(item)
        if name in seen:
            return
        seen.add(name)
        addrs = []
        if isinstance(info, dict):
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
        elif isinstance(info, str):
            addrs.append(info)
        nodes.append((name, kind, addrs))

    for kind, key in (('host', 'hosts'), ('switch', 'switches')):
        group = topo.get(key) if isinstance(topo, dict) else None
        if isinstance(group, dict):
            for name, info in group.items():
                add(kind, name, info)
        elif isinstance(group, (list, tuple)):
            for item in group:
                add(kind, item)
    links = []
    for link in (topo.get('links') or () if isinstance(topo, dict) else ()):
        if isinstance(link, dict):
            a = link.get('node1') or link.get('a') or link.get('src')
            b = link.get('node2') or link.get('b') or link.get('dst')
            label = ' '.join(str(link[k]) for k in ('intf1', 'intf2') if link.get(k))
        elif isinstance(link, (list, tuple)) and len(link) >= 2:
            a, b, label = link[0], link[1], ''
        else:
            continue
        if a is None or b is None:
            continue
        a, b = _link_end(str(a), owner, seen), _link_end(str(b), owner, seen)
        label = label or ''
        for end in (a, b):
            if str(end) not in seen:
                add('switch' if re.match(r'^s\d+$', str(end)) else 'host', end)
        links.append((str(a), str(b), label))
    return nodes, links


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
    hosts = [n for n in nodes if n[1] != 'switch']
    first_switch = {}
    sw_order = {n[0]: i for i, n in enumerate(switches)}
    for a, b, _ in links:
        for x, y in ((a, b), (b, a)):
            if y in sw_order:
                first_switch.setdefault(x, sw_order[y])
    hosts.sort(key=lambda n: first_switch.get(n[0], len(sw_order)))
    box_w, box_h, gap_x, gap_y = 118, 46, 18, 70
    per_row = max(1, min(max_per_row, max(len(hosts), len(switches), 1)))
    width = per_row * (box_w + gap_x) + gap_x
    pos = {}

    def place(group, top):
        rows = (len(group) + per_row - 1) // per_row
        for i, node in enumerate(group):
            r, c = divmod(i, per_row)
            in_row = min(per_row, len(group) - r * per_row)
            x0 = (width - (in_row * (box_w + gap_x) - gap_x)) / 2
            pos[node[0]] = (x0 + c * (box_w + gap_x), top + r * (box_h + gap_y / 2))
        return top + rows * (box_h + gap_y / 2) + gap_y / 2

    y = place(switches, 14) if switches else 14
    height = (place(hosts, y) if hosts else y) - gap_y + 10
    out = [f'<svg class="topo" xmlns="http://www.w3.org/2000/svg" width="{int(width)}" '
           f'height="{int(height)}" viewBox="0 0 {int(width)} {int(height)}" '
           f'role="img" aria-label="topology">']
    kinds = {n[0]: n[1] for n in nodes}
    for a, b, label in links:
        if a not in pos or b not in pos:
            continue
        (ax, ay), (bx, by) = pos[a], pos[b]
        ax, bx = ax + box_w / 2, bx + box_w / 2
        if kinds[a] == kinds[b] and ay == by:
            mid = ay - 22 if kinds[a] == 'switch' else ay + box_h + 22
            ay_, by_ = (ay, by) if kinds[a] == 'switch' else (ay + box_h, by + box_h)
            out.append(f'<path d="M{ax:.0f},{ay_:.0f} Q{(ax + bx) / 2:.0f},{mid:.0f} '
                       f'{bx:.0f},{by_:.0f}" fill="none" stroke="#778" stroke-width="1.5">'
                       f'<title>{esc(a)} \u2014 {esc(b)} {esc(label)}</title></path>')
            continue
        if ay > by:
            (ax, ay), (bx, by) = (bx, by), (ax, ay)
        out.append(f'<line x1="{ax:.0f}" y1="{ay + box_h:.0f}" x2="{bx:.0f}" y2="{by:.0f}" '
                   f'stroke="#778" stroke-width="1.5"><title>{esc(a)} \u2014 {esc(b)} '
                   f'{esc(label)}</title></line>')
    for name, kind, addrs in nodes:
        x, y0 = pos[name]
        fill, stroke = ('#e4ecfa', '#5473b8') if kind == 'switch' else ('#f2f7ec', '#5f8f3a')
        shown = addrs[:2] + ([f'+{len(addrs) - 2} more'] if len(addrs) > 2 else [])
        out.append(f'<g data-node="{esc(name)}" data-node-kind="{kind}"><title>{esc(name)}'
                   f'{" " + esc(", ".join(addrs)) if addrs else ""}</title>'
                   f'<rect x="{x:.0f}" y="{y0:.0f}" width="{box_w}" height="{box_h}" '
                   f'rx="{10 if kind == "switch" else 4}" fill="{fill}" stroke="{stroke}"/>'
                   f'<text x="{x + box_w / 2:.0f}" y="{y0 + 15:.0f}" text-anchor="middle" '
                   f'font-size="12" font-weight="600">{esc(_clip(name, 16))}</text>')
        for i, addr in enumerate(shown):
            out.append(f'<text x="{x + box_w / 2:.0f}" y="{y0 + 28 + i * 11:.0f}" '
                       f'text-anchor="middle" font-size="9.5" fill="#333">'
                       f'{esc(_clip(addr, 22))}</text>')
        out.append('</g>')
    out.append('</svg>')
    return ''.join(out)


def _clip(text, n):
    """text cut to n characters with an ellipsis."""
    text = str(text)
    return text if len(text) <= n else text[:n - 1] + '\u2026'


