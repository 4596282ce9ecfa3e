"""netprobe's records, read strictly.

A stdout line that is not a JSON record with the fields of the netprobe contract
(docs/netprobe.md), a record whose id is unknown or repeated, or a case without a
record all become error Observations carrying the text -- never a guessed outcome.
"""

import json

from .observation import Observation

RECORD_FIELDS = ('op', 'proto', 'addr', 'port', 'ok', 'errno', 'error', 'message',
                 'elapsed_us')
CONNECT_FIELDS = ('src', 'local', 'peer_host')


def parse_record(line, kind=None):
    """The record in one stdout line, or raise ValueError saying what is wrong."""
    try:
        rec = json.loads(line)
    except ValueError as exc:
        raise ValueError(f'not JSON ({exc}): {line[:200]!r}') from None
    if not isinstance(rec, dict):
        raise ValueError(f'not a record: {line[:200]!r}')
    fields = RECORD_FIELDS + (CONNECT_FIELDS if rec.get('op') == 'connect' else ())
    missing = [f for f in fields if f not in rec]
    if missing:
        raise ValueError(f'record lacks {", ".join(missing)}: {line[:200]!r}')
    if not isinstance(rec['ok'], bool) or not isinstance(rec['errno'], int):
        raise ValueError(f'record has a bad ok/errno: {line[:200]!r}')
    if not rec['ok'] and not rec['error']:
        raise ValueError(f'failed record without an error name: {line[:200]!r}')
    if 'tries' in rec and not _good_tries(rec):
        raise ValueError(f'record has bad tries/start_ms/ok_ms: {line[:200]!r}')
    if 'resolved' in rec and not (isinstance(rec['resolved'], list) and all(
            isinstance(a, str) for a in rec['resolved']) and
            isinstance(rec['addr'], (str, type(None)))):
        raise ValueError(f'a name record with a bad resolved/addr: {line[:200]!r}')
    if kind is not None and rec['op'] != kind:
        raise ValueError(f'expected a {kind} record, got {rec["op"]}: {line[:200]!r}')
    return rec


def _good_tries(rec):
    """True when a retrying record's start_ms, tries ([ms, errno] each, the last one's
    errno the record's) and ok_ms (null when it failed, else no earlier than its last
    try's start) have their shape."""
    tries, ok_ms = rec.get('tries'), rec.get('ok_ms')
    whole = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0
    return whole(rec.get('start_ms')) and isinstance(tries, list) and bool(tries) and \
        all(isinstance(t, list) and len(t) == 2 and whole(t[0]) and whole(t[1])
            for t in tries) and tries[-1][1] == rec['errno'] and \
        (ok_ms is None if tries[-1][1] else whole(ok_ms) and ok_ms >= tries[-1][0])


def collect(stdout, ids, kinds):
    """Map the batch output of one host to {index: Observation}.

    ids: {plan id: case index}; kinds: {case index: 'bind'|'connect'}.  A line that
    is not a record poisons every case of the host (the output cannot be trusted),
    and is named in their error.  A case without a record is not in the answer.
    """
    got, junk = {}, []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            rec = parse_record(line)
        except ValueError as exc:
            junk.append(str(exc))
            continue
        index = ids.get(rec.get('id'))
        if index is None:
            junk.append(f'record with an unknown id {rec.get("id")!r}')
        elif index in got:
            junk.append(f'two records for id {rec["id"]!r}')
        elif rec['op'] != kinds[index]:
            junk.append(f'id {rec["id"]!r} is a {kinds[index]} case, record says '
                        f'{rec["op"]}')
        else:
            got[index] = Observation.of_record(rec)
    if junk:
        for index in ids.values():
            got[index] = Observation.error(f'unparseable probe output: {junk[0]}')
    return got


def no_record(host, rc, err):
    """The Observation of a case whose batch on host gave no record for it."""
    tail = ' '.join(err.strip().splitlines()[-3:])[:300]
    return Observation.error(f'no record from netprobe batch on {host} (exit {rc}): '
                             f'{tail or "no message"}')


def first_ok(out):
    """True when the first record of a command's output says ok."""
    try:
        return parse_record(out.splitlines()[0])['ok'] is True
    except (ValueError, IndexError, KeyError, TypeError):
        return False
