# SPDX-License-Identifier: ISC
"""The SMTP session against the real binary: delivery, the accept
tables, ESMTP, pipelining, BDAT, limits, bad input.  Every accepted
message is checked byte for byte with `nomx spool cat`; every refused
one is checked absent."""
import re
import smtplib
import time

from harness import (HOST, Client, deliver, expect, queued_seq, session, shared_server,
                     stored_body)


def _msg(subject, extra=b""):
    return (b"From: dev@ups.example\r\nTo: alice@mail.example.com\r\nSubject: " +
            subject.encode() + b"\r\nMessage-ID: <" + subject.encode() + b"@ups.example>\r\n\r\n" +
            b"body of " + subject.encode() + b"\r\n" + extra)


def _count():
    return len(shared_server().ls())


def test_ehlo_capabilities():
    s = shared_server()
    with smtplib.SMTP("127.0.0.1", s.port) as c:
        code, _ = c.ehlo("ups.example")
        assert code == 250
        f = c.esmtp_features
        for ext in ("pipelining", "8bitmime", "enhancedstatuscodes", "smtputf8", "chunking"):
            assert ext in f, (ext, f)
        assert f["size"] == str(10 * 1024 * 1024), f
        assert "starttls" not in f
        assert c.ehlo_resp.decode().startswith(HOST)


def test_smtplib_delivers_to_every_kind_of_our_address():
    s = shared_server()
    cases = [
        ("alice@mail.example.com", "alice"),
        ("bob@[127.0.0.1]", "bob"),
        ("A.Smith@MAIL.EXAMPLE.COM.", "alice"),
        ("alice.smith@mail.example.com", "alice"),
        ("postmaster", "postmaster"),
        ("postmaster@[127.0.0.1]", "postmaster"),
    ]
    for rcpt, _mailbox in cases:
        msg = _msg("kind-" + re.sub(r"\W", "_", rcpt))
        with smtplib.SMTP("127.0.0.1", s.port) as c:
            c.ehlo("ups.example")
            c.mail("dev@ups.example")
            code, _ = c.rcpt(rcpt)
            assert code == 250, rcpt
            code, resp = c.data(msg)
            assert code == 250, resp
            seq = queued_seq(resp.decode())
        rp, received, body = stored_body(s.cat(seq))
        assert rp == "dev@ups.example"
        assert body == msg, (body, msg)
        assert "by mail.example.com (nomx) with ESMTP id %d" % seq in received, received
        assert "from ups.example ([127.0.0.1])" in received, received
        assert "for <%s>" % rcpt in received, received
        row = [r for r in s.ls() if r[0] == seq][0]
        assert row[1:3] == ("dev@ups.example", [rcpt]), row


def test_relay_and_unknown_refused_and_logged():
    s = shared_server()
    before = _count()
    c = session(s.port)
    expect(c.cmd("MAIL FROM:<spammer@evil.example>"), 250)
    relay = ["victim@example.com", "alice@mail.example.com.evil.example", "alice@[10.0.0.1]",
             "alice@[127.0.0.2]", "alice@[IPv6:::2]", "@other.example:alice@mail.example.com",
             "alice%victim.example@mail.example.com", "victim.example!alice@mail.example.com",
             "\"alice@victim.example\"@mail.example.com", "alice@localhost"]
    for r in relay:
        expect(c.cmd("RCPT TO:<%s>" % r), 550, "5.7.1")
    expect(c.cmd("RCPT TO:<carol@mail.example.com>"), 550, "5.1.1")
    expect(c.cmd("RCPT TO:<>"), 501, "5.1.3")
    expect(c.cmd("RCPT TO:<alice@mail.example.com"), 501)      # unclosed
    expect(c.cmd("DATA"), 554, "5.5.1")
    c.cmd("QUIT")
    assert _count() == before
    assert "rcpt-refused reason=relay to=<victim@example.com>" in s.log()


def test_sequence_and_syntax_errors():
    s = shared_server()
    c = Client(s.port)
    expect(c.cmd("MAIL FROM:<a@b.example>"), 503, "5.5.1")
    expect(c.cmd("EHLO"), 501, "5.5.4")
    expect(c.cmd("EHLO bad(name)"), 501, "5.5.4")
    expect(c.cmd("EHLO ok.example"), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 503, "5.5.1")
    expect(c.cmd("DATA"), 503, "5.5.1")
    expect(c.cmd("MAIL FROM:"), 501, "5.5.4")
    expect(c.cmd("MAIL TO:<a@b.example>"), 501, "5.5.4")
    expect(c.cmd("MAIL FROM:<a@b.example> RET=HDRS"), 555, "5.5.4")
    expect(c.cmd("MAIL FROM:<a@b.example> SIZE=abc"), 501, "5.5.4")
    expect(c.cmd("MAIL FROM:<a@b.example> SIZE=20000000"), 552, "5.3.4")
    expect(c.cmd("MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME"), 250, "2.1.0")
    expect(c.cmd("MAIL FROM:<a@b.example>"), 503, "5.5.1")
    expect(c.cmd("DATA"), 554, "5.5.1")
    expect(c.cmd("RCPT TO:<alice@mail.example.com> NOTIFY=NEVER"), 555)
    expect(c.cmd("RSET x"), 501)
    expect(c.cmd("DATA x"), 501)
    expect(c.cmd("RSET"), 250, "2.0.0")
    expect(c.cmd("QUIT"), 221, "2.0.0")
    assert c.closed()


def test_misc_commands():
    s = shared_server()
    c = Client(s.port)
    expect(c.cmd("HELO old.example"), 250)
    expect(c.cmd("NOOP"), 250, "2.0.0")
    expect(c.cmd("VRFY alice"), 252, "2.5.0")
    expect(c.cmd("VRFY"), 501)
    expect(c.cmd("HELP"), 214, "2.0.0")
    expect(c.cmd("EXPN staff"), 502, "5.5.1")
    expect(c.cmd("STARTTLS"), 454, "4.7.0")       # this server has no key
    expect(c.cmd("AUTH PLAIN AGEAYg=="), 538, "5.7.11")  # only after TLS
    expect(c.cmd("FOO bar"), 500, "5.5.1")
    expect(c.cmd("NO\x00OP"), 500, "5.5.2")
    expect(c.cmd("NOOP\rRSET"), 500, "5.5.2")
    expect(c.cmd("\xff\xfe garbage"), 500)
    expect(c.cmd("noop"), 250)
    # HELO (not EHLO): "with SMTP" in Received.
    expect(c.cmd("MAIL FROM:<>"), 250)
    expect(c.cmd("RCPT TO:<bob@mail.example.com>"), 250)
    expect(c.cmd("DATA"), 354)
    c.send(b"Subject: helo\r\n\r\nx\r\n.\r\n")
    seq = queued_seq(expect(c.reply(), 250))
    rp, received, body = stored_body(s.cat(seq))
    assert rp == "" and "with SMTP id" in received and body == b"Subject: helo\r\n\r\nx\r\n"
    c.cmd("QUIT")


def test_pipelining_one_write():
    s = shared_server()
    c = Client(s.port)
    msg = _msg("pipelined")
    c.send(b"EHLO p.example\r\nMAIL FROM:<p@p.example>\r\nRCPT TO:<alice@mail.example.com>\r\n"
           b"RCPT TO:<nobody@elsewhere.example>\r\nRCPT TO:<bob@mail.example.com>\r\nDATA\r\n")
    expect(c.reply(), 250)
    expect(c.reply(), 250, "2.1.0")
    expect(c.reply(), 250, "2.1.5")
    expect(c.reply(), 550, "5.7.1")
    expect(c.reply(), 250, "2.1.5")
    expect(c.reply(), 354)
    c.send(msg + b".\r\nMAIL FROM:<p@p.example>\r\nRCPT TO:<bob@mail.example.com>\r\nDATA\r\n")
    seq = queued_seq(expect(c.reply(), 250))
    expect(c.reply(), 250)
    expect(c.reply(), 250)
    expect(c.reply(), 354)
    c.send(b"Subject: second\r\n\r\n.\r\nQUIT\r\n")
    seq2 = queued_seq(expect(c.reply(), 250))
    expect(c.reply(), 221)
    assert seq2 == seq + 1 or seq2 > seq
    assert stored_body(s.cat(seq))[2] == msg
    rows = {r[0]: r for r in s.ls()}
    assert rows[seq][2] == ["alice@mail.example.com", "bob@mail.example.com"], rows[seq]
    assert stored_body(s.cat(seq2))[2] == b"Subject: second\r\n\r\n"


def test_pipelined_flood_of_commands():
    s = shared_server()
    c = Client(s.port)
    n = 3000
    c.send(b"EHLO flood.example\r\n" + b"NOOP\r\n" * n + b"QUIT\r\n")
    expect(c.reply(), 250)
    for _ in range(n):
        expect(c.reply(), 250)
    expect(c.reply(), 221)


def test_bdat_chunks():
    s = shared_server()
    c = session(s.port)
    expect(c.cmd("MAIL FROM:<b@b.example>"), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    part1 = b"Subject: bdat\r\n\r\n.a line starting with a dot\r\n"
    part2 = b".\r\nlast line\r\n"
    c.send(b"BDAT %d\r\n" % len(part1) + part1)
    expect(c.reply(), 250, "2.0.0")
    c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
    seq = queued_seq(expect(c.reply(), 250))
    assert stored_body(s.cat(seq))[2] == part1 + part2
    # BDAT 0 LAST ends a message; DATA may not follow BDAT.
    expect(c.cmd("MAIL FROM:<b@b.example>"), 250)
    expect(c.cmd("RCPT TO:<bob@mail.example.com>"), 250)
    c.send(b"BDAT 9\r\nSubject: ")
    expect(c.reply(), 250)
    expect(c.cmd("DATA"), 503, "5.5.1")
    c.send(b"BDAT 5\r\nz\r\n\r\n")
    expect(c.reply(), 250)
    seq = queued_seq(expect(c.cmd("BDAT 0 LAST"), 250))
    assert stored_body(s.cat(seq))[2] == b"Subject: z\r\n\r\n"
    # BDAT without a transaction: the chunk is read, then refused.
    c.send(b"BDAT 5\r\nNOOP\n")
    expect(c.reply(), 503, "5.5.1")
    expect(c.cmd("NOOP"), 250)
    # A BDAT size we cannot parse: the stream is lost, so we close.
    expect(c.cmd("BDAT ten"), 501, "5.5.4")
    assert c.closed()


def test_early_talker_refused():
    s = shared_server()
    before = _count()
    c = Client(s.port, greet=False)
    c.send(b"EHLO fast.example\r\nMAIL FROM:<x@y.example>\r\n")
    code, lines = c.reply()
    assert code == 554 and "5.5.0" in lines[0], lines
    assert c.closed()
    assert _count() == before


def test_line_too_long_keeps_session():
    s = shared_server()
    c = session(s.port)
    expect(c.cmd("NOOP " + "x" * 2000), 500, "5.5.2")
    expect(c.cmd("NOOP"), 250)
    expect(c.cmd("MAIL FROM:<" + "a" * 9000 + "@x.example>"), 500, "5.5.2")
    expect(c.cmd("RSET"), 250)
    c.cmd("QUIT")


def test_too_many_errors_closes():
    s = shared_server()
    c = session(s.port)
    for i in range(19):
        expect(c.cmd("BOGUS %d" % i), 500)
    code, lines = c.cmd("BOGUS last")
    assert code == 500
    expect(c.reply(), 421, "4.7.0")
    assert c.closed()


def test_http_request_closed():
    s = shared_server()
    c = Client(s.port)
    expect(c.cmd("GET / HTTP/1.0"), 500)
    assert c.closed()


SMUGGLING = [b"\n.\n", b"\r.\r", b"\r.\n", b"\n.\r\n", b"\r\n.\r", b"\r\n.\n", b"\r.\r\n"]


def test_smtp_smuggling_never_ends_data():
    s = shared_server()
    before = {r[0] for r in s.ls()}
    for v in SMUGGLING:
        c = session(s.port)
        expect(c.cmd("MAIL FROM:<a@a.example>"), 250)
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        c.send(b"Subject: smuggle\r\n\r\nhello" + v +
               b"MAIL FROM:<smuggled@evil.example>\r\nRCPT TO:<bob@mail.example.com>\r\n"
               b"DATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n")
        expect(c.reply(), 550, "5.6.0")
        # The session is still in step: the next command is a command.
        expect(c.cmd("NOOP"), 250)
        c.cmd("QUIT")
    new = [r for r in s.ls() if r[0] not in before]
    assert new == [], new
    assert "smuggled@evil.example" not in repr(s.ls())


def test_bare_lf_in_bdat_refused():
    s = shared_server()
    before = _count()
    c = session(s.port)
    expect(c.cmd("MAIL FROM:<a@a.example>"), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    body = b"Subject: x\r\n\r\nbare\nlf\r\n"
    c.send(b"BDAT %d LAST\r\n" % len(body) + body)
    expect(c.reply(), 550, "5.6.0")
    c.cmd("QUIT")
    assert _count() == before


def test_dot_stuffing_undone():
    s = shared_server()
    wire = b"Subject: dots\r\n\r\n..leading dot\r\n...\r\n.\r\n"[:-3]
    seq = deliver(s.port, wire)
    assert stored_body(s.cat(seq))[2] == b"Subject: dots\r\n\r\n.leading dot\r\n..\r\n"


def test_received_loop_refused():
    s = shared_server()
    hops = b"".join(b"Received: from hop%d by x; Thu, 1 Jan 2026 00:00:00 +0000\r\n" % i
                    for i in range(100))
    seq = deliver(s.port, hops + b"Subject: 100 hops\r\n\r\nok\r\n")
    assert stored_body(s.cat(seq))[2].count(b"Received: from hop") == 100
    before = _count()
    c = session(s.port)
    expect(c.cmd("MAIL FROM:<a@a.example>"), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    expect(c.cmd("DATA"), 354)
    c.send(hops + b"Received: from one-more\r\nSubject: loop\r\n\r\nx\r\n.\r\n")
    expect(c.reply(), 554, "5.4.6")
    c.cmd("QUIT")
    assert _count() == before


def test_message_too_big():
    s = shared_server()
    before = _count()
    c = session(s.port)
    expect(c.cmd("MAIL FROM:<a@a.example>"), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    expect(c.cmd("DATA"), 354)
    line = b"x" * 998 + b"\r\n"
    c.send(b"Subject: big\r\n\r\n" + line * (11 * 1024 + 10) + b".\r\n")
    expect(c.reply(), 552, "5.3.4")
    expect(c.cmd("NOOP"), 250)
    c.cmd("QUIT")
    assert _count() == before


def test_large_message_byte_exact():
    s = shared_server()
    body = b"Subject: large\r\n\r\n" + b"".join(b"%07d " % i + b"y" * 90 + b"\r\n"
                                                 for i in range(60000))
    seq = deliver(s.port, body)
    assert stored_body(s.cat(seq))[2] == body


def test_long_data_lines_accepted():
    s = shared_server()
    body = b"Subject: long line\r\n\r\n" + b"z" * 50000 + b"\r\n"
    seq = deliver(s.port, body)
    assert stored_body(s.cat(seq))[2] == body


def test_max_recipients():
    s = shared_server()
    c = session(s.port)
    expect(c.cmd("MAIL FROM:<a@a.example>"), 250)
    for i in range(100):
        expect(c.cmd("RCPT TO:<%s@mail.example.com>" % ("alice", "bob", "a.smith")[i % 3]), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 452, "4.5.3")
    expect(c.cmd("DATA"), 354)
    c.send(b"Subject: many\r\n\r\nx\r\n.\r\n")
    seq = queued_seq(expect(c.reply(), 250))
    row = [r for r in s.ls() if r[0] == seq][0]
    assert len(row[2]) == 100
    rp, received, body = stored_body(s.cat(seq))
    assert "for <" not in received


def test_smtputf8_and_8bit():
    s = shared_server()
    c = session(s.port)
    expect(c.cmd("MAIL FROM:<d\u00e9v@ups.example>"), 553, "5.6.7")
    expect(c.cmd("MAIL FROM:<d\u00e9v@ups.example> SMTPUTF8 BODY=8BITMIME"), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    expect(c.cmd("DATA"), 354)
    body = "Subject: caf\u00e9\r\n\r\n\u00fcber 8-bit \xff\r\n".encode("utf-8")
    c.send(body + b".\r\n")
    seq = queued_seq(expect(c.reply(), 250))
    rp, received, stored = stored_body(s.cat(seq))
    assert rp == "d\u00e9v@ups.example" and stored == body
    assert "with UTF8SMTP id" in received, received
    c.cmd("QUIT")


def test_stalled_client_does_not_block_others():
    s = shared_server()
    stalled = session(s.port)
    stalled.send(b"MAIL FROM:<slow@slow.exa")      # no end of line, ever
    stalled2 = session(s.port)
    expect(stalled2.cmd("MAIL FROM:<a@a.example>"), 250)
    expect(stalled2.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    expect(stalled2.cmd("DATA"), 354)
    stalled2.send(b"Subject: half a messa")         # stalls inside DATA
    t0 = time.time()
    seq = deliver(s.port, _msg("while-others-stall"))
    assert time.time() - t0 < 10, "waited on the stalled sessions (their timeout is 20 s)"
    assert seq > 0
    stalled.close()
    stalled2.close()


def test_idle_client_times_out():
    s = shared_server()
    c = session(s.port)
    t0 = time.time()
    c.s.settimeout(40)
    code, lines = c.reply()
    took = time.time() - t0
    assert code == 421 and "4.4.2" in lines[0], lines
    assert 15 < took < 30, took
    assert c.closed()
