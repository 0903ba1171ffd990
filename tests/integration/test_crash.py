# SPDX-License-Identifier: ISC
"""kill -9 under load: concurrent senders, the daemon killed at random
moments and restarted, CYCLES times.  Afterwards every message that got
a 250 is in the spool exactly once, every stored message is whole
(byte for byte what its sender sent), and sequence numbers only grow.
A message stored but killed before its 250 reached the client may be
there (once); nothing partial ever is."""
import hashlib
import random
import re
import threading
import time

from harness import VALGRIND, Client, Server, expect, queued_seq, read_spool

CYCLES = 20 if VALGRIND else 50
SENDERS = 4
# Messages a cycle may send, all senders together: the test config's
# spool holds 10,000 (NOMX_QUOTA_MSGS) and this test acknowledges none,
# so an idle fast machine (260 a cycle seen in CI) would fill it and be
# told 452 by cycle 37.  With 180 a cycle the spool never fills, and a
# kill still lands while messages are arriving.
PER_CYCLE = 9000 // CYCLES


def _body(mid):
    size = int(hashlib.sha256(mid.encode()).hexdigest()[:8], 16) % (96 * 1024)
    line = (mid.encode() + b" ") * 8
    text = (line * (size // len(line) + 1))[:size]
    lines = b"\r\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    return b"Message-ID: <" + mid.encode() + b"@crash.example>\r\nSubject: crash\r\n\r\n" + \
        lines + b"\r\n"


def _sender(port, cycle, tid, acked, lock, killed, errors, budget):
    """Send until the daemon is killed or the cycle's budget (a list
    holding one count, shared by the senders) is spent.  A broken
    connection is expected only once it has been; any other end, before
    it, fails the test."""
    try:
        c = Client(port)
        expect(c.cmd("EHLO crash%d.example" % tid), 250)
        i = 0
        while True:
            with lock:
                if budget[0] == 0:
                    return
                budget[0] -= 1
            mid = "c%d-t%d-m%d" % (cycle, tid, i)
            i += 1
            expect(c.cmd("MAIL FROM:<crash@crash.example>"), 250)
            expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
            expect(c.cmd("DATA"), 354)
            c.send(_body(mid) + b".\r\n")
            lines = expect(c.reply(), 250)
            with lock:
                acked[mid] = queued_seq(lines)
    except (OSError, EOFError) as e:
        if not killed.is_set():
            errors.append("sender %d of cycle %d, before the kill: %r" % (tid, cycle, e))
    except Exception as e:      # noqa: BLE001: a wrong reply, a bad seq
        errors.append("sender %d of cycle %d: %r" % (tid, cycle, e))


def test_kill9_under_load():
    rng = random.Random(1234)
    s = Server()
    acked, lock, errors = {}, threading.Lock(), []
    for cycle in range(CYCLES):
        s.start()
        killed, budget = threading.Event(), [PER_CYCLE]
        threads = [threading.Thread(target=_sender,
                                    args=(s.port, cycle, t, acked, lock, killed, errors, budget))
                   for t in range(SENDERS)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 0.4))
        killed.set()
        s.kill9()
        for t in threads:
            t.join(30)
            assert not t.is_alive(), "a sender hangs after the kill"
    assert not errors, "\n".join(errors[:10])
    s.start()
    # Every start (each cycle's and this one) scanned the spool again.
    assert s.log().count("spool dir=") == CYCLES + 1, s.log()[-2000:]
    rows = s.ls()
    seqs = [r[0] for r in rows]
    assert seqs == sorted(set(seqs)), "sequence numbers must be unique and growing"
    records = {seq: body for seq, env, body in read_spool(s.spool)}
    assert sorted(records) == seqs, "nomx spool ls and the segment files disagree"
    # `nomx spool cat` on a sample; the segment files for all of them.
    for seq in rng.sample(seqs, min(40, len(seqs))):
        assert s.cat(seq).split(b"\r\n", 1)[1] == records[seq], seq
    seen = {}
    for seq in seqs:
        body = records[seq]
        body = body[body.index(b"Message-ID:"):]     # after our Received:
        m = re.match(rb"Message-ID: <([^@]+)@crash.example>", body)
        assert m, body[:100]
        mid = m.group(1).decode()
        assert body == _body(mid), "message %s (seq %d) is not whole" % (mid, seq)
        assert mid not in seen, "message %s stored twice (seq %d and %d)" % (mid, seen[mid], seq)
        seen[mid] = seq
    missing = [m for m in acked if m not in seen]
    assert not missing, "acknowledged but lost: %r" % missing[:10]
    for mid, seq in acked.items():
        assert seen[mid] == seq, (mid, seq, seen[mid])
    s.stop()
    assert len(acked) > CYCLES, len(acked)
