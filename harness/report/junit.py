"""junit.xml: a testsuite per scenario, a testcase per cell, one per (mutation,
target, host) of a mutation run, and for a scenario not run here one per case it
would have judged, each <skipped message="why" /> (the suite's `skipped` counts
them); written as text, byte for byte what ElementTree with ET.indent() writes
(tests/test_report.py checks it)."""

import json
import re

from ..judge import cell_json, history_words, printable
from .formats import described

_ATTR_SPECIAL = re.compile('[&<>"\r\n\t]')


def junit_xml(run_id, scenario_results):
    """junit.xml: a testsuite per scenario, a testcase per cell, and one per
    (mutation, target, host) of a mutation run.  Written as text, byte for byte what
    ElementTree with ET.indent() writes (tests/test_report.py checks it), at a
    fraction of its time for 80,000 test cases."""
    suites = [_junit_suite(res) for res in scenario_results]
    root = _attrs(name=f'bindlab {run_id}')
    body = (f'<testsuites{root}>\n' + '\n'.join(suites) + '\n</testsuites>' if suites
            else f'<testsuites{root} />')
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + '\n'


def _junit_suite(res):
    """One scenario's <testsuite>: a passing cell is one line, built from attribute
    texts escaped once per distinct host, kind and column (_case_attrs); a cell that
    did not pass, and each mutation case, as before."""
    cells = res.cells
    verdicts = [cell.verdict for cell in cells]
    lines = [_passed_case(attrs, cell) if verdict == 'pass' else
             _failed_case(attrs, [cell], [cell])
             for attrs, verdict, cell in zip(_case_attrs(res.scenario, cells),
                                             verdicts, cells)]
    failures, errors = verdicts.count('fail'), verdicts.count('error')
    skipped = _skipped_cases(res)
    lines += skipped
    mutated = _mutation_cases(res)
    for classname, name, group in mutated:
        attrs = f' classname="{_attr(classname)}" name="{_attr(printable(name))}"'
        wrong = [c for c in group if c.verdict != 'pass']
        lines.append(_failed_case(attrs, group, wrong) if wrong else
                     f'    <testcase{attrs} />')
        failures += bool(wrong) and wrong[0].verdict == 'fail'
        errors += bool(wrong) and wrong[0].verdict == 'error'
    head = _attrs(name=res.scenario, tests=str(len(cells) + len(skipped) + len(mutated)),
                  failures=str(failures), errors=str(errors), skipped=str(len(skipped)),
                  time=f'{sum(res.timings.values()):.3f}')
    return (f'  <testsuite{head}>\n' + '\n'.join(lines) + '\n  </testsuite>' if lines
            else f'  <testsuite{head} />')


def _skipped_cases(res):
    """The <testcase>s of a scenario not run here, each with <skipped message=why>:
    one per case it would have judged, named as its cell would be."""
    if not res.skipped:
        return []
    message = _attrs(message=printable(f'{res.scenario} skipped: {res.skipped}'))
    out = []
    for case in res.cases or ():
        kind, host, column = case['kind'], case['host'], case['column']
        out.append(f'    <testcase classname="{_attr(f"bindlab.{res.scenario}.{kind}")}" '
                   f'name="{_name_piece(host)} {_name_piece(kind)} {_name_piece(column)}">'
                   f'\n      <skipped{message} />\n    </testcase>')
    return out


def _passed_case(attrs, cell):
    """A passing <testcase>; a cell in time says its history in <system-out>."""
    if not cell.tries:
        return f'    <testcase{attrs} />'
    return (f'    <testcase{attrs}>\n      <system-out>'
            f'{_xml_text(printable(history_words(cell)))}</system-out>\n    </testcase>')


def _failed_case(attrs, group, wrong):
    """A <testcase> with its <failure> or <error>: what went wrong in words (at most
    five cells) and the cells as JSON."""
    tag = 'failure' if wrong[0].verdict == 'fail' else 'error'
    message = _attrs(message=printable('; '.join(described(c) for c in wrong[:5])))
    text = _xml_text(json.dumps(wrong[0] if len(group) == 1 else wrong, sort_keys=True,
                                default=cell_json))
    return (f'    <testcase{attrs}>\n      <{tag}{message}>{text}</{tag}>\n'
            '    </testcase>')


def _case_attrs(scenario, cells):
    """' classname="bindlab.S.KIND" name="HOST KIND COLUMN"' of each cell, escaped.
    printable and _attr change each character on its own, so the name is escaped
    piece by piece (_name_piece), and each piece once per distinct text (_each_once):
    200 hosts, 2 kinds and 400 columns, not 80,000 names."""
    kinds = [cell.kind for cell in cells]
    classes = _each_once(kinds, lambda kind: _attr(f'bindlab.{scenario}.{kind}'))
    hosts = _each_once([cell.host for cell in cells], _name_piece)
    columns = _each_once([cell.column for cell in cells], _name_piece)
    return [f' classname="{c}" name="{h} {k} {o}"'
            for c, h, k, o in zip(classes, hosts, _each_once(kinds, _name_piece), columns)]


def _name_piece(value):
    """A piece of a test case's name as its attribute text: control bytes visible,
    escaped."""
    return _attr(printable(f'{value}'))


def _each_once(values, make):
    """[make(v) for v in values], make called once per distinct text.  Values that
    are not all texts (1 and True are equal keys, a list is none) are made one by
    one."""
    if set(map(type, values)) - {str}:
        return list(map(make, values))
    table = {v: make(v) for v in set(values)}
    return list(map(table.__getitem__, values))


def _xml_text(text):
    """text escaped as XML character data (as ElementTree escapes it)."""
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def _attrs(**attrs):
    """' key="value" ...' with each value escaped as ElementTree escapes attributes."""
    return ''.join(f' {key}="{_attr(value)}"' for key, value in attrs.items())


def _attr(value):
    """value escaped as an XML attribute value (as ElementTree escapes it)."""
    if not _ATTR_SPECIAL.search(value):
        return value
    return (_xml_text(value).replace('"', '&quot;').replace('\r', '&#13;')
            .replace('\n', '&#10;').replace('\t', '&#09;'))


def _mutation_cases(res):
    """[(classname, name, cells)]: one test case per (mutation, target, host)."""
    out = []
    for m in res.mutations or ():
        hosts = {}
        for cell in m['cells']:
            hosts.setdefault(cell.host, []).append(
                cell.but(mutation=f'{m["name"]} {m["target"]}'))
        for host, cells in hosts.items():
            out.append((f'bindlab.{res.scenario}.mutation.{m["name"]}',
                        f'{host} under {m["name"]} on {m["target"]}', cells))
    return out
