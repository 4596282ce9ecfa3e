"""Connected, then what: netprobe's connect record says what followed the handshake.

A published Docker port whose container refuses is accepted by docker-proxy and then
closed: the connect "succeeds" and the user sees `curl: (52) Empty reply from server`.
Each test makes one of those endings happen on a real veth link and checks the
record's `after` (greeting, eof, reset, data, timeout), so a cell can tell
"connected, then closed" from "answered by h1".
"""

import os
import select
import subprocess
import sys

import pytest

import nsutil
from nsutil import GUARD_SECONDS, assert_outcome

HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'programs', 'helpers',
                      'handshake_then.py')


def listen_then(host, mode, port):
    """Starts handshake_then.py MODE in @host on 10.0.0.1:@port; returns once ready."""
    popen = subprocess.Popen(host.argv([sys.executable, HELPER, mode, '10.0.0.1', str(port)]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    host.lab.processes.append(popen)
    ready, _, _ = select.select([popen.stdout], [], [], GUARD_SECONDS)
    assert ready and popen.stdout.readline().strip() == 'ready', popen.stderr.read()


def test_an_answer_is_a_greeting(pair):
    pair.h1.serve('10.0.0.1', 8190)
    record = pair.h2.probe('connect', '10.0.0.1', 8190).only()
    assert_outcome(record, None)
    assert (record['peer_host'], record['after']) == ('h1', 'greeting')


@pytest.mark.parametrize('mode, error, after', [
    ('eof', None, 'eof'),                 # docker-proxy when the container refuses
    ('reset', 'ECONNRESET', 'reset'),
    ('data', None, 'data'),
])
def test_connected_then(pair, mode, error, after):
    listen_then(pair.h1, mode, 8191)
    record = pair.h2.probe('connect', '10.0.0.1', 8191).only()
    assert_outcome(record, error)
    assert record['peer_host'] is None, record
    assert record['after'] == after, record
    if mode != 'reset':     # an RST that beat netprobe's look may leave no local address
        assert record['local'].startswith('10.0.0.2:'), record   # the handshake happened


def test_connected_then_silence_is_a_greeting_timeout(pair):
    listen_then(pair.h1, 'silent', 8192)
    record = pair.h2.probe('connect', '--timeout', 200, '10.0.0.1', 8192).only()
    assert_outcome(record, 'ETIMEDOUT')
    assert (record['call'], record['after']) == ('recv', 'timeout'), record


def test_a_refused_connect_has_no_after(pair):
    record = pair.h2.probe('connect', '10.0.0.1', 8193).only()
    assert_outcome(record, 'ECONNREFUSED')
    assert record['after'] is None


def test_no_greet_does_not_say_what_followed(pair):
    pair.h1.serve('10.0.0.1', 8194)
    record = pair.h2.probe('connect', '--no-greet', '10.0.0.1', 8194).only()
    assert_outcome(record, None)
    assert record['after'] is None


def test_the_proxy_relays_an_answer_and_closes_when_its_backend_refuses(pair):
    """serve --proxy-to, netprobe's docker-proxy: through it, a working backend still
    answers (its greeting is relayed), a refusing one becomes connected-then-EOF."""
    pair.h1.serve('10.0.0.1', 8195)
    pair.h1.serve('--proxy-to', '10.0.0.1:8195', '10.0.0.1', 8196)
    pair.h1.serve('--proxy-to', '10.0.0.1:8197', '10.0.0.1', 8198)   # nothing on 8197
    good = pair.h2.probe('connect', '10.0.0.1', 8196).only()
    assert (good['ok'], good['peer_host'], good['after']) == (True, 'h1', 'greeting')
    bad = pair.h2.probe('connect', '10.0.0.1', 8198).only()
    assert (bad['ok'], bad['peer_host'], bad['after']) == (True, None, 'eof'), bad
    direct = pair.h2.probe('connect', '10.0.0.1', 8197).only()
    assert_outcome(direct, 'ECONNREFUSED')        # the same backend, without the proxy


def test_a_cell_tells_connected_then_closed_from_an_answer(pair):
    """The judge on a real proxy record: "connected, then closed" fails a cell that
    expects an answer from c1, says so in words, and passes one that expects it."""
    sys.path.insert(0, nsutil.REPO)
    from harness.ci import baseline
    from harness.judge import cells
    from harness.judge import Cell, make_cell
    from harness.probe import Observation
    from harness.scenario import connect, explicit

    pair.h1.serve('--proxy-to', '10.0.0.1:8199', '10.0.0.1', 8200)    # nothing on 8199
    obs = Observation.of_record(pair.h2.probe('connect', '10.0.0.1', 8200).only())
    wants_c1 = make_cell('c1', connect('h2', '10.0.0.1', 8200,
                                       explicit('OK', 'c1 listens', peer='c1')), obs)
    assert (wants_c1.actual, wants_c1.after, wants_c1.verdict) == ('OK', 'eof', 'fail')
    assert cells.short(wants_c1) == 'OK/eof!'
    assert 'connected, then closed without a byte' in cells.describe(wants_c1)
    assert cells.state(wants_c1) == 'OK (connected, then closed without a byte)'
    wants_eof = make_cell('c2', connect('h2', '10.0.0.1', 8200,
                                        explicit('OK', 'the proxy closes', after='eof')), obs)
    assert wants_eof.verdict == 'pass'
    wants_answer = make_cell('c3', connect('h2', '10.0.0.1', 8200,
                                           explicit('OK', 'any answer', after='greeting')), obs)
    assert wants_answer.verdict == 'fail'
    assert 'expected' in cells.describe(wants_answer)
    # A cell of an older run folder has no `after`: it reads, and means unknown.
    old = Cell.of_json({k: v for k, v in wants_eof.to_json().items()
                        if k not in ('after', 'expected_after')}, 'old cell')
    assert old.after is None and not old.sees_peer
    assert cells.short(old) == 'OK'
    now, was = baseline.observation(wants_eof), baseline.observation(old)
    assert now['after'] == 'eof' and 'after' not in was
    assert baseline.same(now, was) and baseline.shown(now) == 'OK/eof'
    assert not baseline.same(now, dict(now, after='greeting'))


def test_udp_has_no_handshake_so_no_after(pair):
    """UDP answers (or is refused) without a handshake: its after is null."""
    pair.h1.serve('--udp', '10.0.0.1', 8201)
    answered = pair.h2.probe('connect', '--udp', '10.0.0.1', 8201).only()
    assert (answered['peer_host'], answered['after']) == ('h1', None)
    refused = pair.h2.probe('connect', '--udp', '10.0.0.1', 8202).only()
    assert_outcome(refused, 'ECONNREFUSED')
    assert refused['after'] is None
