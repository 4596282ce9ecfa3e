"""report.html, checked in a real browser against a real harness run.

A real `python3 -m harness run` (under the Mininet lock) takes the wrong-host matrices
and, beside them, the same scenario with one deliberately wrong expectation, so the run
has exactly one failing cell.  The renderer turns that run folder into report.html,
Debian's headless Chromium loads it, and a small script appended to a COPY of the page
reads the page itself: how many cells each matrix grid has and how each cell is drawn
(its computed background colour).  A screenshot is kept in the test's tmp_path.

The report itself has no script; the test's script is added only to the copy.  A
hostile matrix.json (markup in host names, reasons, messages, titles, topology node
names, lab text) must come out as text: no element, no handler, nothing run.
"""

import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness_util as hu  # noqa: E402

from harness.judge import Cell, cells, ScenarioResult  # noqa: E402
from harness.report import reader  # noqa: E402
from harness.report import markdown  # noqa: E402
from harness.report import page as report_page  # noqa: E402


def C(**fields):
    """A Cell with these fields and the others empty: what the writer may meet (the
    dataclass checks no types; a reader's Cell.of_json does)."""
    return Cell(**{**dict(kind='bind', host=None, column=None, expected=None,
                          actual=None, verdict=None), **fields})

PYTHON = '/usr/bin/python3'
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                  '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync')
FAIL_BG = 'rgb(243, 165, 165)'     # td.v-fail in report_page._CSS
PASS_BG = 'rgb(205, 236, 205)'     # td.v-pass
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'


# Appended to a copy of the report: writes what the page shows into a <pre> as JSON.
PROBE_SCRIPT = """
<script>
(function () {
  var out = {title: document.title, grids: {}, cells: [], scripts:
             document.querySelectorAll('script').length,
             imgs: document.querySelectorAll('img').length,
             svgs: document.querySelectorAll('svg.topo').length,
             labs: document.querySelectorAll('.lab').length};
  document.querySelectorAll('table.grid').forEach(function (t) {
    var key = t.getAttribute('data-matrix');
    var n = t.querySelectorAll('td[data-verdict]').length;
    out.grids[key] = (out.grids[key] || 0) + n;
  });
  document.querySelectorAll('td[data-verdict]').forEach(function (td) {
    var st = getComputedStyle(td);
    out.cells.push({matrix: td.getAttribute('data-matrix'),
                    verdict: td.getAttribute('data-verdict'),
                    host: td.getAttribute('data-host'),
                    column: td.getAttribute('data-column'),
                    text: td.textContent,
                    bg: st.backgroundColor, visible: td.offsetWidth > 0});
  });
  var pre = document.createElement('pre');
  pre.id = 'bindlab-test-out';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


# -- browser ----------------------------------------------------------------------

def chromium():
    """Path of Debian's chromium; fail (not skip) with the install command if absent."""
    path = shutil.which('chromium')
    assert path, 'chromium is missing: apt-get install chromium (a test dependency)'
    return path


def browse(page, *args):
    """Run headless Chromium on page with args; returns stdout (text)."""
    profile = tempfile.mkdtemp(prefix='bindlab-chromium-')
    try:
        proc = subprocess.run([chromium(), *CHROMIUM_FLAGS, f'--user-data-dir={profile}',
                               *args, f'file://{page}'],
                              capture_output=True, text=True, timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, f'chromium failed: {proc.stderr[-2000:]}'
    return proc.stdout


def page_facts(report_path, tmp_path):
    """Load a copy of the report with PROBE_SCRIPT in Chromium; the facts it wrote."""
    with open(report_path, encoding='utf-8') as f:
        text = f.read()
    assert '<script' not in text.lower(), 'the report must not contain any script'
    probe = tmp_path / 'report-probed.html'
    probe.write_text(text.replace('</body>', PROBE_SCRIPT + '</body>'), encoding='utf-8')
    dom = browse(str(probe), '--dump-dom', '--virtual-time-budget=2000')
    start = dom.find('<pre id="bindlab-test-out">')
    assert start >= 0, 'the page did not run the probe script:\n' + dom[-1500:]
    end = dom.find('</pre>', start)
    raw = dom[start + len('<pre id="bindlab-test-out">'):end]
    return json.loads(html_unescape(raw))


def html_unescape(text):
    """Undo the escaping of a <pre>'s text in a serialised DOM."""
    import html
    return html.unescape(text)


def screenshot(report_path, png):
    """A full-width screenshot of the report."""
    browse(str(report_path), f'--screenshot={png}', '--window-size=1300,2400')
    assert os.path.getsize(png) > 10000, 'the screenshot is empty'


# -- a real harness run --------------------------------------------------------------

WRONG_EXPECTATION = '''\
"""wrong-host with one deliberately wrong expectation (written by tests/test_report.py)."""
import dataclasses
import sys
sys.path.insert(0, {repo!r})
from harness.scenario import explicit
from topologies.wrong_host import scenarios as _base

_sc = _base[0]
_cases = list(_sc.cases)
_i = next(i for i, c in enumerate(_cases)
          if (c.kind, c.host, c.addr, c.proto) == ('bind', 'h2', '10.0.0.1', 'tcp'))
_cases[_i] = dataclasses.replace(_cases[_i], expect=explicit(
    'OK', 'deliberately wrong: h2 does not hold 10.0.0.1'))
topos = {{}}
scenarios = [dataclasses.replace(_sc, name='wrong-host-misexpected',
                                 title='wrong-host with one wrong expectation',
                                 cases=tuple(_cases))]
'''


@pytest.fixture(scope='module')
def real_run(tmp_path_factory):
    """A run folder from a real harness run: wrong-host and wrong-host-misexpected."""
    base = tmp_path_factory.mktemp('report-run')
    scenario_file = base / 'misexpected.py'
    scenario_file.write_text(WRONG_EXPECTATION.format(repo=REPO))
    out = base / 'results'
    proc = subprocess.run(hu.lock_argv() + [PYTHON, '-m', 'harness', 'run', 'wrong-host',
                           'wrong-host-misexpected', '--scenario-file', str(scenario_file),
                           '--switch', 'lxbr', '--out', str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, (f'expected exit 1 (one wrong expectation), got '
                                  f'{proc.returncode}\n{proc.stdout[-3000:]}\n'
                                  f'{proc.stderr[-3000:]}')
    runs = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(runs) == 1, runs
    return runs[0]


def read_matrix(run_dir, scenario):
    with open(os.path.join(run_dir, scenario, 'matrix.json'), encoding='utf-8') as f:
        return json.load(f)


def test_report_of_a_real_run_in_chromium(real_run, tmp_path):
    """Every matrix grid has one cell per matrix.json cell; the one failing cell is
    drawn as failing, every passing cell as passing; a screenshot is kept."""
    report = tmp_path / 'report.html'
    report_page.write_report(str(real_run), str(report))
    facts = page_facts(report, tmp_path)
    screenshot(report, str(tmp_path / 'report.png'))
    print(f'screenshot: {tmp_path / "report.png"}')

    for scenario in ('wrong-host', 'wrong-host-misexpected'):
        cells = read_matrix(real_run, scenario)['cells']
        for kind in ('bind', 'connect'):
            want = sum(1 for c in cells if c['kind'] == kind)
            assert want > 0
            assert facts['grids'].get(f'{scenario}/{kind}') == want, (scenario, kind)

    good = [c for c in facts['cells'] if c['matrix'].startswith('wrong-host/')]
    assert good and all(c['verdict'] == 'pass' and c['bg'] == PASS_BG for c in good)
    bad = [c for c in facts['cells'] if c['verdict'] == 'fail']
    assert len(bad) == 1, bad
    cell = bad[0]
    assert cell['matrix'] == 'wrong-host-misexpected/bind'
    assert (cell['host'], cell['column']) == ('h2', 'tcp 10.0.0.1')
    assert cell['bg'] == FAIL_BG and cell['visible']
    assert 'EADDRNOTAVAIL' in cell['text'] and 'expected OK' in cell['text']
    others = [c for c in facts['cells'] if c['verdict'] != 'fail']
    assert all(c['bg'] != FAIL_BG for c in others)
    assert facts['scripts'] == 1 and facts['imgs'] == 0   # only the test's own script
    assert facts['svgs'] == 2                               # one topology per scenario
    assert facts['labs'] >= 1                               # wrong-host's lab sheet


def test_reason_is_inline_and_on_hover(real_run):
    """Each cell's reason is in its title (hover) and in the table under the grid."""
    text = report_page.render_run(str(real_run))
    cells = read_matrix(real_run, 'wrong-host-misexpected')['cells']
    bad = next(c for c in cells if c['verdict'] == 'fail')
    parser = TagCollector()
    parser.feed(text)
    tds = [a for tag, a in parser.tags if tag == 'td' and a.get('data-verdict') == 'fail']
    assert len(tds) == 1
    assert bad['reason'] in tds[0]['title'] and 'expected OK' in tds[0]['title']
    assert text.count(bad['reason']) >= 3     # title, the "differ" table, the full table


def test_the_written_page_is_the_page_of_the_files(real_run):
    """write_run renders report.html from the data in memory; reading the files back
    (render_run, the page `report` regenerates) gives the very same page, and every
    file of the run reads back (reader.read_run checks every field)."""
    assert (real_run / 'report.html').read_text() == report_page.render_run(str(real_run))
    _folder, summary, matrices = reader.read_run(str(real_run))
    assert [m['scenario'] for m in matrices] == ['wrong-host', 'wrong-host-misexpected']
    assert summary['failed'] == 1


# -- hostile input ---------------------------------------------------------------------

def hostile_run(tmp_path):
    """A run folder whose matrix.json puts markup everywhere it can."""
    run = tmp_path / 'run'
    name = 'evil'
    (run / name).mkdir(parents=True)
    cells = []
    for i, verdict in enumerate(('pass', 'fail', 'error')):
        cells.append({'kind': 'bind', 'host': HOSTILE + str(i), 'addr': '10.0.0.1',
                      'port': 6677, 'proto': 'tcp', 'options': [HOSTILE],
                      'column': 'tcp 10.0.0.1 ' + HOSTILE, 'expected': HOSTILE,
                      'actual': 'EADDRNOTAVAIL" onmouseover="document.title=1',
                      'verdict': verdict, 'reason': HOSTILE, 'rule': HOSTILE,
                      'message': HOSTILE, 'peer': HOSTILE, 'expected_peer': None})
    cells.append(dict(cells[0], kind='connect', verdict='fail', actual='OK'))
    matrix = {'scenario': name, 'title': HOSTILE, 'problem': HOSTILE,
              'environment': {'switch': HOSTILE, HOSTILE: HOSTILE},
              'topology': {'hosts': [{'name': HOSTILE, 'interfaces': [
                  {'name': HOSTILE + '-eth0', 'ip': HOSTILE, 'prefixlen': 24}]}],
                  'switches': [{'name': 's1<x>'}], 'links': [[HOSTILE + '-eth0', 's1<x>']]},
              'steps': [{'kind': 'fault', 'host': HOSTILE, 'argv': [HOSTILE], 'why': HOSTILE,
                         'ok': False, 'error': HOSTILE}],
              'cells': cells}
    (run / name / 'matrix.json').write_text(json.dumps(matrix))
    (run / 'summary.json').write_text(json.dumps({'run_id': HOSTILE,
                                                  'environment': {'kernel': HOSTILE}}))
    labs = tmp_path / 'labs'
    labs.mkdir()
    (labs / f'{name}.md').write_text(
        f'# {HOSTILE}\n\nText {HOSTILE} and `{HOSTILE}` and **{HOSTILE}**\n\n'
        f'- {HOSTILE}\n\n```\n{HOSTILE}\n```\n')
    return run, labs


class TagCollector(html.parser.HTMLParser):
    """Every start tag with its attributes, as the browser's tokenizer would see it."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_hostile_matrix_cannot_inject_markup(tmp_path):
    """Markup in every field comes out as text: no <script>, no <img>, no handler."""
    run, labs = hostile_run(tmp_path)
    text = report_page.render_run(str(run), labs_dir=str(labs))
    parser = TagCollector()
    parser.feed(text)
    names = {tag for tag, _ in parser.tags}
    assert not names & {'script', 'img', 'x', 'iframe', 'object'}, names
    for tag, attrs in parser.tags:
        assert not any(k.startswith('on') for k in attrs), (tag, attrs)
    assert '&lt;script&gt;' in text


def test_hostile_matrix_in_chromium(tmp_path):
    """The browser agrees: nothing injected runs or appears, the cells still count."""
    run, labs = hostile_run(tmp_path)
    report = tmp_path / 'evil.html'
    report.write_text(report_page.render_run(str(run), labs_dir=str(labs)))
    facts = page_facts(report, tmp_path)
    assert facts['title'] != 'pwned' and facts['title'] != '1'
    assert facts['scripts'] == 1 and facts['imgs'] == 0
    assert facts['grids'] == {'evil/bind': 3, 'evil/connect': 1}
    verdicts = sorted(c['verdict'] for c in facts['cells'])
    assert verdicts == ['error', 'fail', 'fail', 'pass']
    assert all(HOSTILE[:20] in c['host'] for c in facts['cells'])
    assert [c['bg'] for c in facts['cells'] if c['verdict'] == 'fail'] == [FAIL_BG] * 2


# -- the Markdown subset ---------------------------------------------------------------

def test_markdown_subset():
    """Headings, paragraphs, lists with code blocks inside, inline code, bold."""
    text = textwrap.dedent('''\
        # Title <b>

        A paragraph with `h2 netprobe bind 10.0.0.1 6677` and **bold**
        continued on a second line.

        1. **First** fix:

           ```
           mininet> h2 ip addr add 10.0.0.1/24 dev h2-eth0 <x>
           ```

           (a note under the block)

        2. Second fix.

        - a bullet
        - another

        | port | goes to |
        |---|---|
        | `8080` | c1 <b> |

        ## Check
        ''')
    out = markdown.render_markdown(text)
    assert '<h1>Title &lt;b&gt;</h1>' in out
    assert '<code>h2 netprobe bind 10.0.0.1 6677</code>' in out
    assert '<strong>bold</strong>' in out and 'continued on a second line' in out
    assert out.count('<ol>') == 1 and out.count('<li>') == 4
    assert '<pre><code>mininet&gt; h2 ip addr add 10.0.0.1/24 dev h2-eth0 &lt;x&gt;' in out
    ol = out[out.index('<ol>'):out.index('</ol>')]
    assert '<pre>' in ol and 'a note under the block' in ol and 'Second fix.' in ol
    assert '<ul><li>a bullet</li><li>another</li></ul>' in out
    assert '<h2>Check</h2>' in out
    assert ('<table class="md"><thead><tr><th>port</th><th>goes to</th></tr></thead><tbody>'
            '<tr><td><code>8080</code></td><td>c1 &lt;b&gt;</td></tr></tbody></table>') in out


def test_every_lab_sheet_renders():
    """Each lab sheet renders with its sections and balanced lists and code blocks."""
    sheets = sorted(f for f in os.listdir(os.path.join(REPO, 'labs')) if f.endswith('.md'))
    assert 'wrong-host.md' in sheets and len(sheets) >= 10
    for sheet in sheets:
        with open(os.path.join(REPO, 'labs', sheet), encoding='utf-8') as f:
            out = markdown.render_markdown(f.read())
        for section in ('What you will see', 'Why', 'Fixes', 'Check'):
            assert f'>{section}</h2>' in out, (sheet, section)
        for tag in ('pre', 'ol', 'ul', 'li', 'p', 'code', 'table', 'tr', 'td'):
            assert out.count(f'<{tag}>') + out.count(f'<{tag} ') == \
                out.count(f'</{tag}>'), (sheet, tag)
        assert '```' not in out, sheet


# -- junit.xml: written as text, checked against hand-written text ----------------------

def _junit_cell(verdict, host, actual='OK', message=None):
    return C(kind='bind', host=host, addr='10.0.0.1', port=6677, proto='tcp',
             column='tcp 10.0.0.1', expected='OK', actual=actual, verdict=verdict,
             rule='owner-binds', reason='r', message=message, options=[])


# What junit_xml must write for the run in test_junit_text_is_the_hand_written_text:
# attributes escape <, >, &, " and the tab (&#09;); ESC is shown as the four
# characters \x1b (XML 1.0 forbids the byte); the element text escapes <, > and &;
# tests, failures and errors count the cells and the mutation cases (a mutation
# case per host, failing when any of its cells fails); time is the sum of timings;
# a scenario not run here has a <skipped> test case per case it would have judged.
JUNIT_WANT = r'''<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="bindlab r&lt;1&gt;">
  <testsuite name="s&lt;1&gt;" tests="5" failures="2" errors="1" skipped="0" time="1.750">
    <testcase classname="bindlab.s&lt;1&gt;.bind" name="h1 bind tcp 10.0.0.1" />
    <testcase classname="bindlab.s&lt;1&gt;.bind" name="h&quot;2&amp;&#09;\x1b bind tcp 10.0.0.1">
      <failure message="h&quot;2&amp;&#09;\x1b bind tcp 10.0.0.1: expected OK, got EADDRNOTAVAIL (r)">{"actual": "EADDRNOTAVAIL", "addr": "10.0.0.1", "column": "tcp 10.0.0.1", "elapsed_us": null, "expected": "OK", "expected_peer": null, "host": "h\"2&amp;\t\u001b", "id": null, "kind": "bind", "local": null, "message": null, "method": null, "options": [], "peer": null, "port": 6677, "proto": "tcp", "reason": "r", "rule": "owner-binds", "verdict": "fail"}</failure>
    </testcase>
    <testcase classname="bindlab.s&lt;1&gt;.bind" name="h3 bind tcp 10.0.0.1">
      <error message="h3 bind tcp 10.0.0.1: could not be measured: a&lt;b">{"actual": "ERROR", "addr": "10.0.0.1", "column": "tcp 10.0.0.1", "elapsed_us": null, "expected": "OK", "expected_peer": null, "host": "h3", "id": null, "kind": "bind", "local": null, "message": "a&lt;b", "method": null, "options": [], "peer": null, "port": 6677, "proto": "tcp", "reason": "r", "rule": "owner-binds", "verdict": "error"}</error>
    </testcase>
    <testcase classname="bindlab.s&lt;1&gt;.mutation.addr-del" name="h1 under addr-del on h1">
      <failure message="[addr-del h1] h1 bind tcp 10.0.0.1: expected OK, got EADDRNOTAVAIL (r)">{"actual": "EADDRNOTAVAIL", "addr": "10.0.0.1", "changed": true, "column": "tcp 10.0.0.1", "control": "OK", "elapsed_us": null, "expected": "OK", "expected_peer": null, "host": "h1", "id": null, "kind": "bind", "local": null, "message": null, "method": null, "mutation": "addr-del h1", "options": [], "peer": null, "port": 6677, "proto": "tcp", "reason": "r", "rule": "owner-binds", "verdict": "fail"}</failure>
    </testcase>
    <testcase classname="bindlab.s&lt;1&gt;.mutation.addr-del" name="h2 under addr-del on h1" />
  </testsuite>
  <testsuite name="empty" tests="0" failures="0" errors="0" skipped="0" time="0.000" />
  <testsuite name="vrf" tests="2" failures="0" errors="0" skipped="2" time="0.000">
    <testcase classname="bindlab.vrf.bind" name="h1 bind tcp 10.0.0.1">
      <skipped message="vrf skipped: needs the kernel module vrf &lt;x&gt;" />
    </testcase>
    <testcase classname="bindlab.vrf.connect" name="h&amp;2 connect tcp 10.0.0.1:7001">
      <skipped message="vrf skipped: needs the kernel module vrf &lt;x&gt;" />
    </testcase>
  </testsuite>
</testsuites>
'''


def test_junit_text_is_the_hand_written_text():
    """junit_xml on a small hostile run writes exactly JUNIT_WANT (written by hand, not
    by a second implementation), which any XML parser reads back to the same names;
    no scenario is an empty <testsuites />."""
    import xml.etree.ElementTree as ET
    from harness.report import junit
    run = [ScenarioResult(
        scenario='s<1>', title='', switch='lxbr', timings={'build_s': 1.25, 'probe_s': 0.5},
        cells=[_junit_cell('pass', 'h1'),
               _junit_cell('fail', 'h"2&\t\x1b', 'EADDRNOTAVAIL'),
               _junit_cell('error', 'h3', 'ERROR', message='a<b')],
        mutations=[{'name': 'addr-del', 'target': 'h1', 'cells': [
            _junit_cell('fail', 'h1', 'EADDRNOTAVAIL').but(control='OK', changed=True),
            _junit_cell('pass', 'h2').but(control='OK', changed=False)]}]),
        ScenarioResult(scenario='empty', title='', switch='lxbr', cells=[]),
        ScenarioResult(scenario='vrf', title='', switch='lxbr', cells=[],
                       skipped='needs the kernel module vrf <x>',
                       cases=[{'kind': 'bind', 'host': 'h1', 'column': 'tcp 10.0.0.1'},
                              {'kind': 'connect', 'host': 'h&2',
                               'column': 'tcp 10.0.0.1:7001'}])]
    text = junit.junit_xml('r<1>', run)
    assert text == JUNIT_WANT
    root = ET.fromstring(text.split('\n', 1)[1])
    names = [case.get('name') for case in root.iter('testcase')]
    assert names[1] == 'h"2&\t\\x1b bind tcp 10.0.0.1'
    assert [s.get('message') for s in root.iter('skipped')] == \
        ['vrf skipped: needs the kernel module vrf <x>'] * 2
    assert junit.junit_xml('r1', []) == \
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bindlab r1" />\n'


# -- the CSVs: checked against hand-written text and read back by csv.reader --------------

HOSTILE_VALUES = ('=SUM(A1)', '+1', '-1', '@x', 'a=b', '\x1b[31mred', 'bell\x07', 'tab\tnl\n',
                  'cr\r', 'quote"comma,', '\ud800', '\x9f', '', None, 0, 1, True, False, 6677,
                  1.5, ['a', 'b'], {'k': 'v'}, 'OK', "'=already")


def _hostile_cells():
    """Cells with every hostile value in every CSV field, some fields missing."""
    from harness.report.formats import CONNECT_EXTRA, CSV_FIELDS
    out = []
    for n, value in enumerate(HOSTILE_VALUES * 3):
        for kind in ('bind', 'connect'):
            cell = {'kind': kind, 'options': ['=x', 'timeout=5'] if n % 2 else []}
            for k, key in enumerate(CSV_FIELDS + CONNECT_EXTRA):
                if key != 'options' and (n + k) % 5:
                    cell[key] = HOSTILE_VALUES[(n + k) % len(HOSTILE_VALUES)]
            out.append(C(**cell))
    return out


_CSV_CELLS = [C(**c) for c in [
    {'kind': 'bind', 'host': 'h1', 'addr': '10.0.0.1', 'port': 6677, 'proto': 'tcp',
     'options': [], 'expected': 'OK', 'actual': 'OK', 'verdict': 'pass',
     'rule': 'owner-binds', 'reason': 'h1 holds it', 'message': None},
    {'kind': 'bind', 'host': '=SUM(A1)', 'addr': '+1', 'port': True, 'proto': '-1',
     'options': ['=x', 'timeout=5'], 'expected': '@x', 'actual': '\x1b[31mred',
     'verdict': 'bell\x07', 'rule': 'quote"comma,', 'reason': 'tab\tnl\n', 'message': 'cr\r'},
    {'kind': 'bind', 'host': ['a', 'b'], 'port': 1.5, 'proto': {'k': 'v'},
     'expected': "'=already", 'actual': '', 'verdict': 0, 'rule': 'a=b', 'reason': '\x9f',
     'message': 'mid\rcr'},
    {'kind': 'connect', 'host': 'h2', 'addr': '10.0.0.1', 'port': 7001, 'proto': 'udp',
     'options': ['timeout=300'], 'expected': 'OK', 'actual': 'ETIMEDOUT', 'verdict': 'fail',
     'rule': 'listener-answers', 'reason': 'r', 'message': None, 'expected_peer': 'h1',
     'peer': None, 'local': '10.0.0.2:40000', 'expected_after': '-', 'after': 1},
]]
# What cells_csv must write for _CSV_CELLS, by hand: a leading = + - @ gets a quote
# mark (a spreadsheet would run it as a formula); ESC, BEL and C1 bytes are shown as
# \xNN; a comma, a quote, a newline or a carriage return makes the field quoted (a
# quote doubled); None and a missing field are empty; True, 1.5, 0, a list and a dict
# as Python writes them; options joined by spaces.
CSV_BIND_WANT = (
    'host,addr,port,proto,options,expected,actual,verdict,rule,reason,message\n'
    'h1,10.0.0.1,6677,tcp,,OK,OK,pass,owner-binds,h1 holds it,\n'
    "'=SUM(A1),'+1,True,'-1,'=x timeout=5,'@x,\\x1b[31mred,bell\\x07,"
    '"quote""comma,","tab\tnl\n","cr\r"\n'
    '"[\'a\', \'b\']",,1.5,{\'k\': \'v\'},,\'=already,,0,a=b,\\x9f,"mid\rcr"\n')
CSV_CONNECT_WANT = (
    'host,addr,port,proto,options,expected,actual,verdict,rule,reason,message,'
    'expected_peer,peer,local,expected_after,after\n'
    "h2,10.0.0.1,7001,udp,timeout=300,OK,ETIMEDOUT,fail,listener-answers,r,,h1,,"
    "10.0.0.2:40000,'-,1\n")


def test_csv_text_is_the_hand_written_text():
    """cells_csv writes exactly the hand-written CSV_*_WANT: formulas quoted, control
    bytes visible, None empty, 1 and True apart, commas, quotes, newlines and carriage
    returns quoted, a list (unhashable) in a column, missing fields, no cells; and
    csv.reader reads every hostile cell back as one row of the right width."""
    import csv
    import io
    from harness.report import formats as results
    assert results.cells_csv(_CSV_CELLS, 'bind', ()) == CSV_BIND_WANT
    assert results.cells_csv(_CSV_CELLS, 'connect', results.CONNECT_EXTRA) == CSV_CONNECT_WANT
    assert results.cells_csv([], 'bind', ()) == ','.join(results.CSV_FIELDS) + '\n'
    hostile = _hostile_cells() + [c.but(message='a\rb') for c in _hostile_cells()[:2]]
    for kind, extra in (('bind', ()), ('connect', results.CONNECT_EXTRA)):
        text = results.cells_csv(hostile, kind, extra)
        rows = list(csv.reader(io.StringIO(text, newline='')))
        assert len(rows) == 1 + sum(1 for c in hostile if c.kind == kind), kind
        assert {len(r) for r in rows} == {len(results.CSV_FIELDS) + len(extra)}, kind
    column = [1, True, 1.0, None, '=1', '1', 'a,b', 'a\nb', 'a\rb']
    assert results.csv_column(column) == ['1', 'True', '1.0', '', "'=1", '1', '"a,b"',
                                          '"a\nb"', '"a\rb"']
    assert results.csv_column([1, None, 'a', 'b\n', 'c']) == ['1', '', 'a', '"b\n"', 'c']
    clean = ['OK', 'h1 holds it', 'x' * 3]
    assert results.csv_column(clean) is clean


# -- matrix.json: one C encoder for all cells, the same bytes as encode() per cell ------

def test_json_rows_are_what_encode_writes(monkeypatch):
    """json_rows writes the head, then each row on a line of its own, each as
    JSONEncoder(sort_keys=True).encode writes it and a Cell as its to_json(): text
    with control bytes, quotes, non-ASCII and lone surrogates, floats, nested lists
    and objects, non-text keys, an empty list of rows and no head; the text reads
    back as the rows; the same whatever the rows a piece (a piece ends at the last
    row, one before it, one after it)."""
    import json
    from harness.report import formats
    enc = json.JSONEncoder(sort_keys=True)
    cells_ = _hostile_cells()
    rows = [dict(cell.to_json(), n=n, f=n / 7, inf=float('inf'),
                 nested={'b': [1, {'z': None}], 'a': ()}, **{'\u00e9': True, '': False})
            for n, cell in enumerate(cells_)] + cells_ + [[], 'text', 1, None, {1: 'one'}]
    datas = [{'scenario': 'x<', 'cells': rows, 'counts': {'pass': 1}}, {'cells': rows},
             {'title': '\x1b', 'cells': []}]
    pieces = (formats.ROWS_A_PIECE, len(rows), len(rows) - 1, len(rows) + 1, 1, 2)
    for data, piece in ((d, p) for d in datas for p in pieces):
        monkeypatch.setattr(formats, 'ROWS_A_PIECE', piece)
        head = {k: v for k, v in data.items() if k != 'cells'}
        want = (enc.encode(head)[:-1] + (', ' if head else '') + '"cells": [\n'
                + ',\n'.join(enc.encode(r.to_json() if isinstance(r, Cell) else r)
                             for r in data['cells']) + '\n]}\n')
        got = ''.join(formats.json_rows(data, 'cells'))
        assert got == want
        assert got.count('\n') == len(data['cells']) + 2 + (not data['cells'])
    assert json.loads(''.join(formats.json_rows({'cells': cells_[:1]}, 'cells'))) == {
        'cells': [json.loads(json.dumps(cells_[0].to_json()))]}


def _grid_by_lists(cells_, kind):
    """cells.grid as it was (rows and columns gathered in lists): the reference."""
    rows, cols, table = [], [], {}
    for cell in cells_:
        if cell.kind != kind:
            continue
        if cell.host not in rows:
            rows.append(cell.host)
        if cell.column not in cols:
            cols.append(cell.column)
        table[(cell.host, cell.column)] = cell
    return rows, cols, table


def test_grid_keeps_the_order_of_first_appearance():
    """cells.grid (dict keys) gives the rows, columns and table of the list-based
    grid, in the same order: cells out of order, a (host, column) twice (the later
    cell wins), other kinds between them, none of a kind."""
    def cell(kind, host, column, n):
        return C(kind=kind, host=host, column=column, id=n)
    cells_ = [cell('connect', 'h3', 'b', 0), cell('bind', 'h9', 'x', 1),
              cell('connect', 'h1', 'c', 2), cell('connect', 'h3', 'a', 3),
              cell('connect', 'h3', 'b', 4), cell('connect', 'h2', 'c', 5),
              cell('connect', 'h1', 'a', 6)]
    for kind in ('bind', 'connect', 'none'):
        got, want = cells.grid(cells_, kind), _grid_by_lists(cells_, kind)
        assert got == want and list(got[2].items()) == list(want[2].items()), kind
    assert cells.grid(cells_, 'connect')[:2] == (['h3', 'h1', 'h2'], ['b', 'c', 'a'])


# -- the page's counts and numbers: against hand-written values ------------------------

def test_page_counts_and_numbers_are_the_hand_written_ones():
    """scenario_status: a verdict other than pass and fail, and a cell that is no
    object, count as error; a problem, a load error, an error cell or no cell at all
    make the scenario error; else any fail makes it fail.  Mutated cells count.
    _numbered numbers cells per (kind, proto), proto tcp when missing."""
    from harness.report import grid as report_grid
    p, f, e, w = C(verdict='pass'), C(verdict='fail'), C(verdict='error'), \
        C(verdict='weird')

    def mutated(cells_):
        return [{'name': 'm', 'target': 'h1', 'cells': cells_}]
    mixed = [C(kind=k, proto=pr, verdict=v)
             for k in ('bind', 'connect') for pr in ('tcp', 'udp', None)
             for v in ('pass', 'fail', 'error', 'weird', None)] + [C(kind='bind')]
    want = [({}, 'error', 0, 0, 0), ({'cells': None}, 'error', 0, 0, 0),
            ({'cells': [p, p]}, 'pass', 2, 0, 0), ({'cells': [p, f]}, 'fail', 1, 1, 0),
            ({'cells': [p, w]}, 'error', 1, 0, 1), ({'cells': [p, 'text', 3]}, 'error', 1, 0, 2),
            ({'cells': [p], 'problem': 'x'}, 'error', 1, 0, 0),
            ({'cells': [], 'load_error': 'bad'}, 'error', 0, 0, 0),
            ({'cells': [p], 'mutations': mutated([f])}, 'fail', 1, 1, 0),
            ({'cells': [p, f], 'mutations': mutated([e])}, 'error', 1, 1, 1),
            ({'cells': [], 'mutations': mutated([p])}, 'pass', 1, 0, 0),
            ({'cells': [p] * 3, 'mutations': mutated([])}, 'pass', 3, 0, 0),
            ({'cells': [C(kind='bind')]}, 'error', 0, 0, 1),
            ({'cells': mixed}, 'error', 6, 6, 19)]
    for matrix, status, n_pass, n_fail, n_error in want:
        assert report_page.scenario_status(matrix) == \
            (status, {'pass': n_pass, 'fail': n_fail, 'error': n_error}), matrix
    cells_ = [C(kind='bind', proto='tcp'), C(kind='connect', proto='tcp'),
              C(kind='bind', proto='udp'), C(kind='bind'),
              C(kind='bind', proto='tcp'), C(kind='connect', proto='tcp'),
              C(kind=None, proto='tcp')]
    numbered = report_grid._numbered(cells_)
    assert [n for n, _cell in numbered] == [1, 1, 1, 2, 3, 2, 1]
    assert all(a is b for (_n, a), b in zip(numbered, cells_))
    assert report_grid._numbered([]) == []
    assert report_grid.verdict_counts([p, f, f, e, w, C()]) == {'pass': 1, 'fail': 2,
                                                               'error': 1}
    assert report_grid.verdict_counts([]) == {'pass': 0, 'fail': 0, 'error': 0}


# -- write_run in two processes: the same files, whole or nothing -----------------------

def _scenario_result(name='two', n=40):
    """A scenario result as the runner hands it to write_run, hostile texts included,
    with a mutation and a program log."""
    texts = [t for t in HOSTILE_VALUES if isinstance(t, str)] + [HOSTILE]
    rows = []
    for k in range(n):
        verdict = ('pass', 'fail', 'error')[k % 3]
        rows.append(C(**{'id': f'c{k}', 'kind': ('bind', 'connect')[k % 2],
                     'host': f'h{k % 5}' + ('' if k % 4 else texts[k % len(texts)]),
                     'addr': '10.0.0.1', 'port': 6677, 'proto': ('tcp', 'udp')[k % 5 == 0],
                     'options': [texts[k % len(texts)]] if k % 3 else [],
                     'column': f'col{k % 7} ' + texts[(k + 1) % len(texts)],
                     'expected': 'OK', 'actual': 'OK' if verdict == 'pass' else 'ERROR',
                     'verdict': verdict, 'reason': texts[(k + 2) % len(texts)],
                     'rule': texts[(k + 3) % len(texts)], 'message': texts[k % len(texts)],
                     'peer': None, 'expected_peer': None, 'local': '10.0.0.1:4000',
                     'elapsed_us': k, 'after': ('eof', None)[k % 2],
                     'expected_after': None}))
    mutated = [c.but(control='OK', changed=bool(k % 2)) for k, c in enumerate(rows[:6])]
    return ScenarioResult(
        scenario=name, title=HOSTILE, switch='lxbr', source='',
        topology={'hosts': [{'name': 'h1'}], 'switches': [], 'links': []},
        steps=[{'kind': 'fault', 'host': 'h1', 'argv': ['ip', HOSTILE], 'why': 'w',
                'ok': True, 'error': None}],
        servers=[], timings={'probe_s': 1.5}, problem=None, cells=rows,
        mutations=[{'name': 'addr-del', 'target': 'h1', 'does': 'x', 'stands_for': 'y',
                    'steps': [], 'problem': None, 'skipped': None, 'cells': mutated}],
        programs=[{'log': 'programs/b1-h1', 'files': {'.out': 'out', '.err': '\x1b'}}])


META = {'switch': 'lxbr', 'environment': {'kernel': 'k', 'mininet': '2.3'}}


def _files(folder):
    """{relative path: bytes} of every file under folder."""
    out = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, 'rb') as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out


@pytest.fixture
def forks(monkeypatch):
    """The pids of the children write_run forks (os.fork recorded)."""
    from harness.report import results
    pids, real = [], os.fork

    def fork():
        pid = real()
        if pid:
            pids.append(pid)
        return pid
    monkeypatch.setattr(results.os, 'fork', fork)
    return pids


def _reaped(pid):
    """True when pid is no child of this process any more (waited for)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_two_processes_write_the_files_of_one(tmp_path, forks):
    """write_run with fork=True writes the very bytes of fork=False, in a child that
    is waited for; every file is there (program logs, mutations.json)."""
    from harness.report import results
    runs = [_scenario_result('one'), _scenario_result('two', 12)]
    os.mkdir(tmp_path / 'a')
    os.mkdir(tmp_path / 'b')
    serial = results.write_run(str(tmp_path / 'a'), 'r', META, runs, fork=False)
    assert not forks
    forked = results.write_run(str(tmp_path / 'b'), 'r', META, runs, fork=True)
    assert len(forks) == 1 and _reaped(forks[0])
    files = _files(serial)
    assert files == _files(forked)
    assert {'junit.xml', 'report.html', 'summary.md', 'summary.json', 'one/matrix.json',
            'one/mutations.json', 'one/bind.csv', 'two/connect.csv',
            'one/programs/b1-h1.err'} <= set(files)
    assert os.path.realpath(tmp_path / 'b' / 'latest') == forked


def _boom(*_args):
    raise ValueError('boom <in a job>')


@pytest.mark.parametrize('where', ['json_rows', 'junit_xml', 'cells_csv', 'summary_md'])
def test_a_failing_file_in_either_process_leaves_no_folder(tmp_path, forks, monkeypatch,
                                                          where):
    """A job that raises, in the child (matrix.json, junit.xml) or in this process
    (a CSV, summary.md): write_run raises its exception with its text, the run
    folder is gone, the child is waited for."""
    from harness.report import results
    monkeypatch.setattr(results, where, _boom)
    with pytest.raises(ValueError, match='boom <in a job>'):
        results.write_run(str(tmp_path), 'r', META, [_scenario_result()], fork=True)
    assert not os.path.lexists(tmp_path / 'r') and not os.path.lexists(tmp_path / 'latest')
    assert len(forks) == 1 and _reaped(forks[0])


def test_the_childs_usage_error_and_death_are_raised_here(tmp_path, forks, monkeypatch):
    """The child's UsageError comes back as one, with its message (a folder where
    junit.xml goes); a child killed by a signal, or one whose exception pickle cannot
    take, fails the run as well."""
    from harness.report import results
    from harness.errors import UsageError
    real = results.junit_xml

    def folder_in_the_way(run_id, scenario_results):
        os.mkdir(tmp_path / 'r1' / 'junit.xml')
        return real(run_id, scenario_results)
    monkeypatch.setattr(results, 'junit_xml', folder_in_the_way)
    with pytest.raises(UsageError, match='junit.xml: cannot write it'):
        results.write_run(str(tmp_path), 'r1', META, [_scenario_result()], fork=True)

    monkeypatch.setattr(results, 'junit_xml', lambda *a: os.kill(os.getpid(), 9))
    with pytest.raises(RuntimeError, match='junit.xml was killed by signal 9'):
        results.write_run(str(tmp_path), 'r2', META, [_scenario_result()], fork=True)

    class Unpicklable(Exception):
        def __reduce__(self):
            raise TypeError('no')

    def unpicklable(*_args):
        raise Unpicklable('its own text')
    monkeypatch.setattr(results, 'junit_xml', unpicklable)
    with pytest.raises(RuntimeError, match='Unpicklable: its own text'):
        results.write_run(str(tmp_path), 'r3', META, [_scenario_result()], fork=True)
    assert os.listdir(tmp_path) == []
    assert len(forks) == 3 and all(_reaped(pid) for pid in forks)


def test_ctrl_c_while_writing_stops_the_child(tmp_path, forks, monkeypatch):
    """KeyboardInterrupt in this process while the child writes: the child is
    stopped and waited for, the folder removed, the interrupt raised."""
    import time
    from harness.report import results
    real = results.json_rows

    def slow(*args):
        time.sleep(30)
        return real(*args)
    monkeypatch.setattr(results, 'json_rows', slow)

    def interrupted(*_args):
        raise KeyboardInterrupt
    monkeypatch.setattr(results, 'summary_md', interrupted)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        results.write_run(str(tmp_path), 'r', META, [_scenario_result()], fork=True)
    assert time.monotonic() - start < 10
    assert os.listdir(tmp_path) == [] and len(forks) == 1 and _reaped(forks[0])
