# SPDX-License-Identifier: ISC
"""Crash points: the test build dies (status 99, no cleanup) at a named
step of the spool's write, sync, rotate, ack and delete paths
(NOMX_CRASH=point:N).  After each crash and a restart: every message
that got 250 is there exactly once and whole, at most one more (the one
whose 250 the crash swallowed) is there whole, nothing is partial,
nothing unacknowledged is deleted, and sequence numbers go on."""
import random
import subprocess

from harness import Server, deliver, nomx_cmd, stored_messages

SPOOL_POINTS = ["append", "appended", "sync", "synced", "segment-created", "segment-headed"]


def body(rnd, i):
    # 1 KiB to 300 KiB: segments (1 MiB) rotate every few messages.
    n = rnd.choice([1, 4, 40, 150, 300])
    return b"Subject: crash %d\r\n\r\n" % i + (b"%06d" % i + b"c" * 992 + b"\r\n") * n


def run_until_crash(s, rnd, limit=30):
    """Deliver until the daemon dies; returns {seq: body} of the 250s and
    the body that was in flight when it died (or None)."""
    got = {}
    for i in range(limit):
        b = body(rnd, i)
        try:
            got[deliver(s.port, b)] = b
        except (OSError, EOFError, AssertionError):
            return got, b
    return got, None


def check_after(s, accepted, in_flight):
    """Against what the test sent: every 250'd message whole, at most the
    one in flight besides, read by the harness's own spool reader."""
    stored = stored_messages(s.spool)
    for seq, b in accepted.items():
        assert seq in stored, (seq, sorted(stored))
        assert stored[seq][2] == b, seq             # whole, byte for byte
    extra = [q for q in stored if q not in accepted]
    assert len(extra) <= 1, extra                  # only the one in flight
    for q in extra:
        assert in_flight is not None and stored[q][2] == in_flight, q
    r = subprocess.run(nomx_cmd("-s", s.spool, "spool", "fsck"), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    return max(stored) if stored else 0


def test_every_spool_crash_point():
    rnd = random.Random(11)
    hits = 0
    for point in SPOOL_POINTS:
        for n in (1, 3):
            s = Server(env={"NOMX_CRASH": "%s:%d" % (point, n)}).start()
            accepted, in_flight = run_until_crash(s, rnd)
            status = None
            if in_flight is not None:
                status = s.proc.wait(10)
                assert status == 99, (point, n, status, s.log()[-500:])
                hits += 1
            else:
                s.stop()        # this point was not passed n times
            s.env.pop("NOMX_CRASH")
            s.start()
            try:
                top = check_after(s, accepted, in_flight)
                after = deliver(s.port, body(rnd, 999))
                assert after > top, (point, n, after, top)   # never reused
            finally:
                s.stop()
    print("# crash points: %d of %d runs died at their point" % (hits, 2 * len(SPOOL_POINTS)))
    assert hits >= 10, hits     # the points were really reached


def export_token(s):
    out = subprocess.run(nomx_cmd("-s", s.spool, "spool", "export"), capture_output=True,
                         text=True, check=True).stdout
    return out.split("sess=")[1].split()[0]


def test_ack_crash_points_delete_nothing_unacknowledged():
    rnd = random.Random(5)
    for point in ("ack-written", "ack-removing"):
        with Server() as s:
            msgs = {}
            for i in range(14):     # 150 KiB each: three segments
                b = b"Subject: %d\r\n\r\n" % i + (b"%06d" % i + b"a" * 992 + b"\r\n") * 150
                msgs[deliver(s.port, b)] = b
            token = export_token(s)
            upto = sorted(msgs)[9]
            r = subprocess.run(nomx_cmd("-s", s.spool, "spool", "ack", str(upto), token),
                               capture_output=True, text=True,
                               env=dict(s.env, NOMX_CRASH=point + ":1"))
            assert r.returncode == 99, (point, r)
            # Everything after the ack is still there, whole.
            stored = stored_messages(s.spool)
            for seq, b in msgs.items():
                if seq > upto:
                    assert stored[seq][2] == b, (point, seq)
            st = subprocess.run(nomx_cmd("-s", s.spool, "spool", "status"), capture_output=True,
                                text=True).stdout
            assert "acked       %d" % upto in st, st       # the ack itself is durable
            # Acking again finishes the removal; still nothing later is lost.
            r = subprocess.run(nomx_cmd("-s", s.spool, "spool", "ack", str(upto), token),
                               capture_output=True, text=True)
            assert r.returncode == 0, r
            stored = stored_messages(s.spool)
            for seq, b in msgs.items():
                if seq > upto:
                    assert stored[seq][2] == b, (point, seq)
