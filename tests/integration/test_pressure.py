# SPDX-License-Identifier: ISC
"""When the slots run out (README): idle sessions give their slot or
TLS engine to a new client, a session doing work never does, and a
storm of connections puts the server under stress (short waits, one log
line when it begins and one when it ends) without costing it memory or
a legitimate message.  Dev config: 24 slots, 20 per address, 8 TLS
engines, stress from 18 sessions, NOMX_WORKING_MS 2 s."""
import os
import random
import smtplib
import socket
import ssl
import subprocess
import threading
import time

from harness import RUNNER, Client, Server, expect, queued_seq, session, stored_body

WORKING_S = 2.0         # NOMX_WORKING_MS
# A fresh client must be greeted within this (issue: 1 s).  The greeting
# pause is 100 ms; an emulated CPU (qemu, valgrind) gets more.
GREET_S = 3.0 if RUNNER else 1.0
MSG = b"From: ups@example.com\r\nSubject: on battery\r\n\r\nmains lost\r\n"


def _idle(port, src, n, mail=False):
    """n sessions that say EHLO (and MAIL, with mail) and then nothing."""
    out = []
    for i in range(n):
        c = session(port, src=src)
        if mail:
            expect(c.cmd("MAIL FROM:<stuck%d@example.com>" % i), 250)
        out.append(c)
    return out


def _timed_delivery(port, src="127.0.0.1", stay=None):
    """Connect, deliver MSG; returns (seconds to the greeting, seq).
    With a list as stay, the session is kept open and put there."""
    t0 = time.monotonic()
    c = Client(port, src=src)
    greeted = time.monotonic() - t0
    expect(c.cmd("EHLO fresh.example"), 250)
    expect(c.cmd("MAIL FROM:<ups@example.com>"), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    expect(c.cmd("DATA"), 354)
    c.send(MSG + b".\r\n")
    seq = queued_seq(expect(c.reply(), 250))
    if stay is not None:
        stay.append(c)
        return greeted, seq
    expect(c.cmd("QUIT"), 221)
    c.close()
    return greeted, seq


def _told(c):
    """The reply an idle session got when it was closed, or None."""
    if not c.closed(0.2):
        return None
    try:
        return c.reply()
    except EOFError:
        return (0, ["(closed without a reply)"])


def test_fresh_client_greeted_when_idle_sessions_fill_the_pool():
    """20 idle sessions from 127.0.0.2 (4 of them with MAIL given) and
    4 from 127.0.0.3 hold all 24 slots.  Three fresh clients, one after
    another, are each greeted within 1 s, deliver and stay; each took
    the slot of a session idle between commands, longest idle first
    (421 4.4.2), never one with a transaction open while another was to
    be had."""
    s = Server().start()
    stuck = _idle(s.port, "127.0.0.2", 4, mail=True)
    idle = _idle(s.port, "127.0.0.2", 16) + _idle(s.port, "127.0.0.3", 4)
    time.sleep(WORKING_S + 0.3)
    times, fresh = [], []
    for _ in range(3):
        greeted, seq = _timed_delivery(s.port, stay=fresh)
        times.append(greeted)
        assert stored_body(s.cat(seq))[2] == MSG
    print("# time to greeting with a full pool: %s s" % ", ".join("%.3f" % t for t in times))
    assert max(times) < GREET_S, times
    # The first three of the between-commands sessions went, in order,
    # and no other (the pool is under stress now: the rest time out
    # after 10 s idle, so this is read from the log, not waited for).
    told = [_told(c) for c in idle[:3]]
    assert all(t is not None and t[1][0].startswith("421 4.4.2") and "idle too long" in t[1][0]
               for t in told), told
    log = s.log()
    assert log.count("evicted: idle between commands") == 3, log
    assert "evicted: idle in a transaction" not in log, log
    for c in stuck + idle + fresh:
        c.close()
    s.stop()


def test_transactions_go_only_when_nothing_else_can():
    """Every slot idle with a transaction open: the longest idle one
    gives way (its transaction is dropped, nothing of it stored)."""
    s = Server().start()
    stuck = _idle(s.port, "127.0.0.2", 20, mail=True) + _idle(s.port, "127.0.0.3", 4, mail=True)
    time.sleep(WORKING_S + 0.3)
    greeted, _ = _timed_delivery(s.port)
    assert greeted < GREET_S, greeted
    t = _told(stuck[0])
    assert t is not None and t[1][0].startswith("421 4.4.2") and "idle too long" in t[1][0], t
    assert s.log().count("evicted: idle in a transaction") == 1, s.log()
    assert [r[0] for r in s.ls()] == [1], s.ls()
    for c in stuck:
        c.close()
    s.stop()


def test_working_sessions_keep_their_slots():
    """24 sessions that each finished a command within the last second:
    a new client is refused (421 4.3.2) and nobody is cut."""
    s = Server().start()
    busy = _idle(s.port, "127.0.0.2", 20) + _idle(s.port, "127.0.0.3", 4)
    stop = threading.Event()

    def keep_working():
        while not stop.is_set():
            for c in busy:
                expect(c.cmd("NOOP"), 250)
            time.sleep(0.2)
    # Long enough that a session the server took for idle would be cut.
    t = threading.Thread(target=keep_working)
    for c in busy:
        expect(c.cmd("NOOP"), 250)
    t.start()
    time.sleep(WORKING_S + 0.5)
    c = Client(s.port, src="127.0.0.4", greet=False)
    code, lines = c.reply()
    stop.set()
    t.join()
    assert code == 421 and "4.3.2" in lines[0], lines
    assert "evicted" not in s.log(), s.log()
    for b in busy:
        expect(b.cmd("QUIT"), 221)
    s.stop()


def _context(s):
    return ssl.create_default_context(cafile=s.cert)


def test_stalled_starttls_gives_way():
    """All 8 TLS engines held by clients that said STARTTLS and never
    began the handshake: a fresh STARTTLS client gets an engine within
    1 s and delivers over TLS."""
    with Server(tls=True) as s:
        stalled = []
        for _ in range(8):
            c = session(s.port, src="127.0.0.2")
            expect(c.cmd("STARTTLS"), 220)
            stalled.append(c)
        time.sleep(WORKING_S + 0.3)
        t0 = time.monotonic()
        with smtplib.SMTP("127.0.0.1", s.port, timeout=20) as m:
            m.ehlo("fresh.example")
            code, text = m.starttls(context=_context(s))
            took = time.monotonic() - t0
            assert code == 220, text
            m.sendmail("ups@example.com", ["alice@mail.example.com"], MSG)
        print("# STARTTLS with every engine stalled: %.3f s" % took)
        assert took < GREET_S + 1, took
        assert "handshake stalled, the engine is needed" in s.log(), s.log()
        assert [r[0] for r in s.ls()] == [1]
        for c in stalled:
            c.close()


def test_stalled_smtps_gives_way():
    """8 clients connected to the SMTPS port hold every engine and never
    send a ClientHello: a fresh SMTPS client completes its handshake and
    delivers."""
    with Server(tls=True) as s:
        stalled = [socket.create_connection(("127.0.0.1", s.tls_port),
                                            source_address=("127.0.0.2", 0)) for _ in range(8)]
        time.sleep(WORKING_S + 0.3)
        t0 = time.monotonic()
        with smtplib.SMTP_SSL("127.0.0.1", s.tls_port, context=_context(s), timeout=20) as m:
            took = time.monotonic() - t0
            m.sendmail("ups@example.com", ["alice@mail.example.com"], MSG)
        print("# SMTPS with every engine stalled: %.3f s" % took)
        assert took < GREET_S + 1, took
        assert [r[0] for r in s.ls()] == [1]
        for c in stalled:
            c.close()


def test_slow_big_message_survives_a_flood():
    """A 9 MiB message sent steadily in 64 KiB pieces while idle clients
    from other addresses fill every other slot and new ones keep coming
    (each takes an idle slot): the message arrives whole."""
    s = Server().start()
    size = 9 * 1024 * 1024
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\r\n"
    body = b"Subject: the big one\r\n\r\n" + line * (size // len(line))
    c = session(s.port, src="127.0.0.9")
    expect(c.cmd("MAIL FROM:<nas@example.com> SIZE=%d" % len(body)), 250)
    expect(c.cmd("RCPT TO:<bob@mail.example.com>"), 250)
    expect(c.cmd("DATA"), 354)
    flood = _idle(s.port, "127.0.0.2", 20) + _idle(s.port, "127.0.0.3", 3)
    stop = threading.Event()
    refused = []

    def newcomers():
        k = 0
        while not stop.is_set():
            time.sleep(0.5)
            try:
                flood.append(Client(s.port, src="127.0.0.%d" % (4 + k % 8), timeout=10))
            except AssertionError as e:  # 421: nothing idle long enough yet
                refused.append(str(e))
            k += 1
    t = threading.Thread(target=newcomers)
    t.start()
    piece = 64 * 1024
    # 64 KiB/s in the issue; faster here so the suite stays short: the
    # point is a gap between pieces that is well under NOMX_WORKING_MS.
    for off in range(0, len(body), piece):
        c.send(body[off:off + piece])
        time.sleep(0.03)
    c.send(b".\r\n")
    seq = queued_seq(expect(c.reply(), 250))
    stop.set()
    t.join()
    assert stored_body(s.cat(seq))[2] == body
    assert "evicted" in s.log(), "the newcomers never needed a slot: the test proves nothing"
    assert "client=127.0.0.9 evicted" not in s.log()
    for f in flood:
        f.close()
    s.stop()


def _static_bytes(binary):
    """text + data + bss of the binary: all the RAM it can hold."""
    try:
        out = subprocess.run(["size", binary], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return int(out.splitlines()[1].split()[3])


def test_storm_of_a_thousand_connections():
    """1,000 connections from 250 addresses, idle, quitting, or sending
    junk, while a device delivers 20 messages (retrying on 421 as a
    device would): all 20 arrive, memory stays within the static pools,
    and stress is logged once when it begins and once when it ends."""
    s = Server().start()
    delivered = []

    def device():
        for i in range(20):
            for _ in range(100):
                try:
                    _, seq = _timed_delivery(s.port)
                    delivered.append(seq)
                    break
                except (AssertionError, EOFError, ConnectionError, socket.timeout):
                    time.sleep(0.2)
            time.sleep(0.1)

    def storm(k):
        rnd = random.Random(k)
        held = []
        for i in range(250):
            src = "127.0.%d.%d" % (10 + k, 1 + i % 250)
            try:
                c = socket.create_connection(("127.0.0.1", s.port), timeout=5,
                                             source_address=(src, 0))
            except OSError:
                continue
            kind = rnd.random()
            try:
                if kind < 0.4:
                    held.append(c)                   # connects and says nothing
                    continue
                c.recv(512)
                c.sendall(b"QUIT\r\n" if kind < 0.7 else b"GET / HTTP/1.0\r\n\r\n")
            except OSError:
                pass
            c.close()
            if len(held) > 30:
                held.pop(0).close()
        for c in held:
            c.close()
    d = threading.Thread(target=device)
    d.start()
    storms = [threading.Thread(target=storm, args=(k,)) for k in range(4)]
    for t in storms:
        t.start()
    for t in storms:
        t.join()
    d.join()
    assert len(delivered) == 20, delivered
    assert sorted(r[0] for r in s.ls()) == sorted(delivered)
    s.wait_log(r"stress ends after", timeout=60)
    log = s.log()
    assert log.count("stress begins") == 1 and log.count("stress ends") == 1, \
        [l for l in log.splitlines() if "stress" in l]
    static = _static_bytes(s.binary or os.environ["NOMX"])
    if RUNNER or os.environ.get("TESTKIND") == "asan" or static is None:
        print("# memory not checked: the RSS of an emulator or sanitizer is not the daemon's")
    else:
        with open("/proc/%d/status" % s.proc.pid) as f:
            hwm = int([l for l in f if l.startswith("VmHWM:")][0].split()[1]) * 1024
        print("# peak RSS %d KiB, static size %d KiB" % (hwm // 1024, static // 1024))
        assert hwm <= static + 1024 * 1024, (hwm, static)
    s.stop()
