"""Per-student variants: the same lesson with the student's own addresses, roles, ports.

    sudo make lab SCENARIO=wrong-host STUDENT=alice

A variant is drawn from a seed derived from the lesson's name and the student ID
(sha256: the same ID always gives the same network, and two IDs almost always
differ), and applied as one translation to everything the lesson says: the
scenario's cases, expectations and reasons, setup and fault steps (their nft rule
text too), servers, each host's own resolver files, the topology as built (node names, addresses, routes), and the
lab sheet (goal and hints included).  So sheet, banner, goal and `check` all follow
the variant, and two students cannot swap answers.  What changes:

    roles      hosts of one family (h1, h2, ... and c1, c2, ...) swap names: the host
               that holds the address in alice's lab is another one in bob's;
    addresses  private IPv4 nets move: 10.0.x.y -> 10.K.x.y, 192.168.1.y ->
               192.168.K.y; the ULA fd00:: -> fdKK:: (documentation nets such as
               203.0.113.0/24 and Docker's 172.17.0.0/16 stay: they mean something);
    ports      the lesson's ports from 1024 to 9999 move up by 100 x k (1 <= k <= 9),
               all together, so their relations (a range, a pair) hold; privileged
               and ephemeral ports stay, they are the lesson.

A range of host names in the sheet ("`h1`..`h8`") is left as written: it names the
same set of hosts.
"""

import dataclasses
import hashlib
import random
import re

from ..scenarios import Case, Expect, HostFiles, Scenario, Server, Step, validate

_FAMILIES = (r'h\d+', r'c\d+')
_RANGE = re.compile(r'`?\b[hc]\d+`?\.\.`?[hc]\d+\b`?')
_IPV4 = re.compile(r'(?<![\w.])(10)\.0\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)|'
                   r'(?<![\w.])(192)\.168\.1\.(\d{1,3})(?![\w]|\.\d)')
_ULA = re.compile(r'(?<![\w:])fd00:(?=[:0-9a-fA-F])')


@dataclasses.dataclass(frozen=True)
class VariantScenario(Scenario):
    """A lesson's scenario as one student's variant: also its lesson's name, the
    variant's id, and the translated sheet text."""
    lesson: str = ''
    variant: str = ''
    sheet_text: str = None


class Variant:
    """The translation of one student's variant (see the module docstring)."""

    def __init__(self, lesson, student, hosts, ports):
        digest = hashlib.sha256(f'{lesson}\0{student}'.encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], 'big'))
        self.id = f'{student}-{digest.hex()[:8]}'
        self.net = rng.randrange(1, 250)
        self.shift = 100 * rng.randrange(1, 10)
        self.names = {}
        for family in _FAMILIES:
            group = sorted((h for h in hosts if re.fullmatch(family, h)),
                           key=lambda h: int(h[1:]))
            shuffled = list(group)
            while len(group) > 1 and shuffled == group:
                rng.shuffle(shuffled)
            self.names.update(zip(group, shuffled))
        self.ports = {p: p + self.shift for p in ports if 1024 <= p <= 9999}
        self._name_re = self._alternation(self.names, r'(?<![\w-])(?:{})(?![\w])')
        self._port_re = self._alternation({str(p): 0 for p in self.ports},
                                          r'(?<![\w])(?<!\d\.)(?:{})(?!\w|\.\d)')

    @staticmethod
    def _alternation(keys, pattern):
        keys = sorted(keys, key=len, reverse=True)
        return re.compile(pattern.format('|'.join(map(re.escape, keys)))) if keys else None

    def name(self, host):
        return self.names.get(host, host)

    def port(self, port):
        return self.ports.get(port, port)

    def text(self, text, sheet=False):
        """text with the variant's names, addresses and ports."""
        if not isinstance(text, str) or not text:
            return text
        kept = []
        if sheet:       # a range of host names names the same set: keep it
            def keep(m):
                kept.append(m.group())
                return f'\0{len(kept) - 1}\0'
            text = _RANGE.sub(keep, text)
        if self._name_re:
            text = self._name_re.sub(lambda m: self.names[m.group()], text)
        text = _IPV4.sub(self._ipv4, text)
        text = _ULA.sub(f'fd{self.net:02x}:', text)
        if self._port_re:
            text = self._port_re.sub(lambda m: str(self.ports[int(m.group())]), text)
        return re.sub('\0(\\d+)\0', lambda m: kept[int(m.group(1))], text) if kept else text

    def _ipv4(self, m):
        if m.group(1):
            return f'10.{self.net}.{m.group(2)}.{m.group(3)}'
        return f'192.168.{self.net}.{m.group(5)}'

    def value(self, value):
        """Any scenario value translated: text, tuples, dicts, the dataclasses."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, tuple):
            return tuple(self.value(v) for v in value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, (Case, Server)):
            return dataclasses.replace(
                value, host=self.name(value.host), addr=self.text(value.addr),
                port=self.port(value.port), options=self.value(value.options),
                **({'expect': self.value(value.expect), 'column': self.text(value.column)}
                   if isinstance(value, Case) else {}))
        if isinstance(value, Expect):
            return dataclasses.replace(value, reason=self.text(value.reason),
                                       peer=value.peer and self.name(value.peer))
        if isinstance(value, HostFiles):
            return dataclasses.replace(value, host=self.name(value.host),
                                       **{name: self.text(text)
                                          for name, _path, text in value.files()})
        if isinstance(value, Step):
            return dataclasses.replace(value, host=self.name(value.host),
                                       argv=self.value(value.argv),
                                       why=self.text(value.why),
                                       stdin=self.text(value.stdin))
        return value

    def topo(self, make):
        """A topology factory: make()'s topology with every node, link option and
        address translated (ports keep their numbers, so h1-eth0 follows h1)."""
        from mininet.topo import Topo
        variant = self

        def build(*args, **kwargs):
            old, new = make(*args, **kwargs), Topo()
            for node in old.nodes(sort=False):
                new.addNode(variant.name(node), **variant.value(dict(old.nodeInfo(node))))
            for _src, _dst, _key, info in old.links(withKeys=True, withInfo=True):
                info = dict(info)
                n1, n2 = info.pop('node1'), info.pop('node2')
                p1, p2 = info.pop('port1', None), info.pop('port2', None)
                new.addLink(variant.name(n1), variant.name(n2), p1, p2,
                            **variant.value(info))
            return new
        return build


def hosts_of(scenario):
    """The host names a scenario's data mentions."""
    names = {c.host for c in scenario.cases} | {s.host for s in scenario.servers}
    names |= {s.host for s in scenario.setup + scenario.faults}
    names |= {f.host for f in scenario.host_files}
    return names


def variant_for(scenario, student):
    """The Variant (translation) of a student for a lesson."""
    ports = {c.port for c in scenario.cases} | {s.port for s in scenario.servers}
    return Variant(scenario.name, student, hosts_of(scenario), ports)


def variant_of(scenario, student):
    """The student's VariantScenario of a lesson scenario."""
    from .goals import sheet_text
    if scenario.derived:
        return scenario          # a derived scenario has no lesson to vary
    var = variant_for(scenario, student)
    text, _path = sheet_text(scenario)
    fields = {f.name: getattr(scenario, f.name) for f in dataclasses.fields(Scenario)}
    fields.update(title=var.text(scenario.title), topo=var.topo(scenario.topo),
                  cases=var.value(scenario.cases), setup=var.value(scenario.setup),
                  faults=var.value(scenario.faults), servers=var.value(scenario.servers),
                  ready=var.value(scenario.ready), host_files=var.value(scenario.host_files))
    out = VariantScenario(**fields, lesson=scenario.name, variant=var.id,
                          sheet_text=var.text(text, sheet=True) if text else None)
    validate(out, out.topo())       # a translation that broke the lesson fails here
    return out
