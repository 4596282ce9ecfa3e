"""Safe HTML text for the report: esc() and a small Markdown subset (lab sheets).

Every piece of input text is escaped (and its control bytes made visible) before any
tag of ours is added, so a hostile lab sheet, host name or message cannot produce
markup of its own.
"""

import html
import re

from ..judge import printable


def esc(value):
    """Any value as escaped HTML text (quotes too, so it is safe inside attributes)."""
    return html.escape(printable('' if value is None else value), quote=True)


# -- a tiny, safe Markdown renderer ---------------------------------------------------------

_HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')
_ITEM = re.compile(r'^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$')
_FENCE = re.compile(r'^(\s*)(```|~~~)')


def render_markdown(text):
    """A small, safe subset of Markdown as HTML.

    Headings (#..######), paragraphs, fenced code blocks (``` or ~~~, also indented
    inside list items), pipe tables, inline `code`, **bold**, and bullet / numbered
    lists whose items may hold further blocks (indented continuation).  Everything else is text.
    Every piece of input text is escaped before our own tags are added, so the input
    cannot produce markup of its own.
    """
    return _blocks(text.replace('\r\n', '\n').replace('\t', '    ').split('\n'))


def _blocks(lines):
    """Render a list of lines as a sequence of blocks."""
    out, i, n = [], 0, len(lines)
    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        fence = _FENCE.match(line)
        heading = _HEADING.match(line)
        item = _ITEM.match(line)
        if fence:
            i = _code_block(lines, i, fence, out)
        elif heading:
            level = len(heading.group(1))
            out.append(f'<h{level}>{inline(heading.group(2))}</h{level}>')
            i += 1
        elif item and len(item.group(1)) < 4:
            i = _list(lines, i, out)
        elif _is_table(lines, i):
            i = _table(lines, i, out)
        else:
            para = []
            while i < n and lines[i].strip() and not _starts_block(lines[i]):
                para.append(lines[i].strip())
                i += 1
            out.append(f'<p>{inline(" ".join(para))}</p>')
    return '\n'.join(out)


def _starts_block(line):
    """True when line opens a heading, a fence or a list item (ends a paragraph)."""
    item = _ITEM.match(line)
    return bool(_FENCE.match(line) or _HEADING.match(line)
                or (item and len(item.group(1)) < 4))


_TABLE_RULE = re.compile(r'^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$')


def _is_table(lines, i):
    """True when lines[i] is a '| a | b |' header followed by a '|---|---|' rule."""
    return (lines[i].lstrip().startswith('|') and i + 1 < len(lines)
            and bool(_TABLE_RULE.match(lines[i + 1])))


def _table_cells(line):
    """The cells of one '| a | b |' row (a backslash-escaped pipe stays a pipe)."""
    text = line.strip()
    text = text[1:] if text.startswith('|') else text
    text = text[:-1] if text.endswith('|') and not text.endswith('\\|') else text
    return [c.strip().replace('\\|', '|') for c in re.split(r'(?<!\\)\|', text)]


def _table(lines, i, out):
    """Append a <table> for the pipe table at lines[i]; return the next index."""
    head = _table_cells(lines[i])
    i += 2
    rows = []
    while i < len(lines) and lines[i].lstrip().startswith('|'):
        rows.append(_table_cells(lines[i]))
        i += 1
    th = ''.join(f'<th>{inline(c)}</th>' for c in head)
    body = ''.join('<tr>' + ''.join(f'<td>{inline(c)}</td>' for c in row) + '</tr>'
                   for row in rows)
    out.append(f'<table class="md"><thead><tr>{th}</tr></thead><tbody>{body}</tbody>'
               '</table>')
    return i


def _code_block(lines, i, fence, out):
    """Append a <pre><code> block starting at lines[i]; return the next index."""
    indent, marker = len(fence.group(1)), fence.group(2)
    body, i = [], i + 1
    while i < len(lines) and not lines[i].strip().startswith(marker):
        line = lines[i]
        strip = min(indent, len(line) - len(line.lstrip(' ')))
        body.append(line[strip:])
        i += 1
    out.append(f'<pre><code>{_escape(chr(10).join(body))}</code></pre>')
    return i + 1


def _list(lines, i, out):
    """Append a <ul>/<ol> starting at lines[i]; return the index after it.

    An item is its marker line plus the lines after it that are indented (or that
    continue its first paragraph without a blank line); those lines, dedented, are
    rendered as blocks inside the <li>.  A blank line followed by a line that is
    neither indented nor another item of the same kind ends the list.
    """
    first = _ITEM.match(lines[i])
    ordered = first.group(2)[0].isdigit()
    items, n = [], len(lines)
    while i < n:
        m = _ITEM.match(lines[i])
        if not _same_list(m, ordered):
            break
        body, i = _item(lines, i, m)
        items.append(body)
        while i < n and not lines[i].strip():
            nxt = next((l for l in lines[i:] if l.strip()), None)
            if not _same_list(_ITEM.match(nxt) if nxt else None, ordered):
                break
            i += 1
    tag = 'ol' if ordered else 'ul'
    start = ''
    if ordered:
        num = int(first.group(2)[:-1])
        start = f' start="{num}"' if num != 1 else ''
    lis = []
    for body in items:
        inner = _blocks(body)
        if inner.startswith('<p>') and inner.count('<p>') == 1 and inner.endswith('</p>'):
            inner = inner[3:-4]
        lis.append(f'<li>{inner}</li>')
    out.append(f'<{tag}{start}>' + ''.join(lis) + f'</{tag}>')
    return i


def _same_list(m, ordered):
    """True when the item match m (or None) continues a list of this kind."""
    return bool(m) and m.group(2)[0].isdigit() == ordered and len(m.group(1)) < 4


def _item(lines, i, m):
    """(the lines of the item whose marker line lines[i] matched m, dedented; the
    index after it)."""
    width = len(m.group(1)) + len(m.group(2)) + 1
    body, i, n = [m.group(3)], i + 1, len(lines)
    in_fence = False
    while i < n:
        line = lines[i]
        if in_fence:
            body.append(_dedent(line, width))
            in_fence = not line.strip().startswith(('```', '~~~'))
        elif not line.strip():
            nxt = next((l for l in lines[i + 1:] if l.strip()), None)
            if nxt is None or _indent(nxt) < 2:
                break
            body.append('')
        elif _indent(line) >= 2:
            in_fence = bool(_FENCE.match(line))
            body.append(_dedent(line, width))
        elif _starts_block(line) or not body[-1].strip():
            break
        else:
            body.append(line)
        i += 1
    return body, i


def _indent(line):
    """Number of leading spaces."""
    return len(line) - len(line.lstrip(' '))


def _dedent(line, width):
    """line without up to width leading spaces."""
    return line[min(width, _indent(line)):]


def inline(text):
    """Inline Markdown: `code` and **bold**; everything escaped first."""
    parts = re.split(r'(`[^`]+`)', text)
    out = []
    for part in parts:
        if len(part) >= 2 and part.startswith('`') and part.endswith('`'):
            out.append(f'<code>{_escape(part[1:-1])}</code>')
        else:
            escaped = _escape(part)
            out.append(re.sub(r'\*\*(.+?)\*\*', r'<strong>\1</strong>', escaped))
    return ''.join(out)


def _escape(text):
    return html.escape(printable(text))
