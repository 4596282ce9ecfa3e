"""README.md is the front door and docs/ holds the guides: both must say what the
code does.  Reads files only (and asks make and the harness for their own lists):
no root, no namespaces, no lock.

- README.md stays short (at most 160 lines) and shows the two commands a newcomer
  runs, `sudo make mininet-test` and `sudo make test`.
- Every relative link of README.md and docs/*.md leads to a file that exists, and a
  `#section` in it to a heading of that file.
- Every `make TARGET` they show is a target of the Makefile.
- Every `python3 -m harness COMMAND` and `bindlab COMMAND` they show is a command of
  the harness (`python3 -m harness help`).
"""

import fnmatch
import glob
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, 'README.md')
DOCS = [README] + sorted(glob.glob(os.path.join(REPO, 'docs', '*.md')))

FENCE = re.compile(r'^[ \t]*```.*?^[ \t]*```', re.M | re.S)   # also in a list item
LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
# make [VAR=VALUE ...] TARGET ...: the targets end at a shell word or a comment.
MAKE = re.compile(r'(?:^|[\s(`;&|])make((?:[ \t]+[^\s`#;&|()\[\]]+)+)', re.M)
# The harness's commands, as a shell line or a code span begins them.
HARNESS = re.compile(r'(?:^|[\s(;&|`$]|sudo[ \t]+)(?:(?:/usr/bin/)?python3 -m harness|bindlab)'
                     r'[ \t]+([a-z][a-z-]*)', re.M)
# `bindlab cells` is the section the pytest plugin adds to a failed test's report.
NOT_COMMANDS = {'cells'}


def text(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def rel(path):
    return os.path.relpath(path, REPO)


def code(doc):
    """The code of a Markdown text: its fenced blocks and its `spans` (a span may
    run over a line break), one string each."""
    blocks = [m.group(0) for m in FENCE.finditer(doc)]
    prose = re.sub(r'``+', '', FENCE.sub('', doc))    # a ```goal block named in prose
    spans = [s.replace('\n', ' ') for s in re.findall(r'`([^`]+)`', prose)]
    return blocks + spans


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces -> -."""
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def anchors(path):
    return {slug(m.group(1)) for m in re.finditer(r'^#+\s+(.*)$', FENCE.sub('', text(path)),
                                                   re.M)}


def test_readme_is_a_front_door():
    lines = text(README).splitlines()
    assert len(lines) <= 160, f'README.md has {len(lines)} lines: move detail to docs/'
    commands = [line.split('#')[0].strip() for line in lines]
    for command in ('sudo make mininet-test', 'sudo make test'):
        assert command in commands, f'README.md must show `{command}` as a command line'


def test_docs_exist_and_readme_links_every_guide():
    guides = [p for p in DOCS if p != README]
    assert len(guides) >= 6, 'the guides moved to docs/ are missing'
    linked = {os.path.normpath(os.path.join(REPO, target.split('#')[0]))
              for target in LINK.findall(FENCE.sub('', text(README)))}
    missing = [rel(p) for p in guides if p not in linked]
    assert not missing, f'README.md links no guide {missing}'


@pytest.mark.parametrize('path', DOCS, ids=rel)
def test_relative_links_lead_somewhere(path):
    bad = []
    for target in LINK.findall(FENCE.sub('', text(path))):
        if re.match(r'[a-z]+:', target):            # https:, mailto: ...
            continue
        name, _, section = target.partition('#')
        where = os.path.normpath(os.path.join(os.path.dirname(path), name)) if name \
            else path
        if not os.path.exists(where):
            bad.append(f'{target}: no such file')
        elif section and where.endswith('.md') and section not in anchors(where):
            bad.append(f'{target}: no heading #{section} in {rel(where)}')
    assert not bad, f'{rel(path)}: ' + '; '.join(bad)


def make_targets():
    """Every target make knows in the Makefile (its database, names expanded)."""
    out = subprocess.run(['make', '-C', REPO, '-pRrq', ':'], capture_output=True,
                         text=True).stdout
    return {m.group(1) for m in re.finditer(r'^([^#\s=:$][^=:]*?):(?:[^=]|$)', out, re.M)}


def test_make_targets_exist():
    targets = make_targets()
    assert {'test', 'mininet-test', 'install'} <= targets, 'could not read the Makefile'
    patterns = [t for t in targets if '%' in t]
    bad = []
    for path in DOCS:
        for snippet in code(text(path)):
            for m in MAKE.finditer(snippet):
                first = True
                for word in m.group(1).split():
                    if '=' in word or word.startswith('-') or word in ('|', '...'):
                        continue
                    # After the first target only file targets (build/...) follow:
                    # `make test runs it` names one target.
                    if not re.fullmatch(r'[\w./-]+', word) or not (first or '/' in word):
                        break
                    first = False
                    if word not in targets and not any(
                            fnmatch.fnmatch(word, p.replace('%', '*')) for p in patterns):
                        bad.append(f'{rel(path)}: make {word}')
    assert not bad, 'not a Makefile target: ' + '; '.join(sorted(set(bad)))


def harness_commands():
    """The harness's commands, from its own help: the subcommands and, from the
    epilog, the lab's `lab` and `check`."""
    out = subprocess.run([sys.executable, '-m', 'harness', 'help'], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    listed = re.search(r'\{([a-z,-]+)\}', out)
    assert listed, f'no command list in `harness help`:\n{out}'
    return set(listed.group(1).split(',')) | set(re.findall(r'`([a-z-]+) ', out))


def test_harness_commands_exist():
    commands = harness_commands()
    assert {'run', 'list', 'lab', 'check'} <= commands, commands
    bad, seen = [], set()
    for path in DOCS:
        for snippet in code(text(path)):
            for word in HARNESS.findall(snippet):
                seen.add(word)
                if word not in commands and word not in NOT_COMMANDS:
                    bad.append(f'{rel(path)}: {word}')
    assert 'run' in seen, 'found no harness command in the docs: the pattern is broken'
    assert not bad, 'not a harness command: ' + '; '.join(sorted(set(bad)))


def test_catalogue_table_names_every_mutation():
    """docs/scenarios.md's catalogue table has a row for each name `bindlab list
    --mutations` prints (the catalogue itself), and no row for a name it does not."""
    out = subprocess.run([sys.executable, '-m', 'harness', 'list', '--mutations'], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    listed = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {'addr-late', 'vip-failover', 'link-flap', 'dad-slow', 'renumber'} <= listed
    doc = text(os.path.join(REPO, 'docs', 'scenarios.md'))
    table = doc[doc.index('The catalogue (`bindlab list --mutations` prints it):'):]
    table = table[:table.index('\n\n', table.index('|'))]
    rows = re.findall(r'^\| (`[a-z0-9-]+`(?:, `[a-z0-9-]+`)*) \|', table, re.M)
    documented = {name for row in rows for name in re.findall(r'`([a-z0-9-]+)`', row)}
    assert listed == documented, (sorted(listed - documented), sorted(documented - listed))
