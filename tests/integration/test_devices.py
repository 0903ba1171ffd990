# SPDX-License-Identifier: ISC
"""The sloppy SMTP stacks devices really have, replayed byte for byte
against the real daemon: sessions whose every line ends in a bare LF,
paths without angle brackets.  Every message is checked with `nomx
spool cat`: stored whole, with CRLF line ends."""
import os
import ssl

from harness import Client, Server, Skip, expect, queued_seq, shared_server, stored_body


class LfClient(Client):
    """A device that ends its lines in a bare LF (the replies are still
    CRLF: nomx's)."""

    def cmd(self, line):
        self.send(line + "\n")
        return self.reply()


def lf_session(port):
    c = LfClient(port)
    expect(c.cmd("HELO ups.example"), 250)
    return c


def lf_lines(n_lines, width):
    """A body of n_lines LF-ended lines, some starting with a dot."""
    out = []
    for i in range(n_lines):
        line = ("%06d " % i + "x" * width)[:width]
        out.append(("." + line) if i % 7 == 0 else line)
    return out


def stored(s, seq):
    return stored_body(s.cat(seq))[2]


def test_lf_only_session_is_stored_with_crlf():
    s = shared_server()
    # One line, 64 KiB and 1 MiB, one after another in one session.
    for n_lines, width in ((1, 20), (800, 80), (13000, 80)):
        c = lf_session(s.port)
        expect(c.cmd("MAIL FROM:<ups@example.com>"), 250)
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        lines = ["Subject: on battery %d" % n_lines, ""] + lf_lines(n_lines, width)
        # Dot-stuffed on the wire, as the device's code does it.
        wire = "".join(("." + l if l.startswith(".") else l) + "\n" for l in lines)
        c.send(wire.encode() + b".\n")
        seq = queued_seq(expect(c.reply(), 250))
        want = "".join(l + "\r\n" for l in lines).encode()
        got = stored(s, seq)
        assert got == want, (n_lines, len(got), len(want), got[:200])
        expect(c.cmd("QUIT"), 221)
        c.close()


def lf_tls_client(s, mode):
    """An LF device over TLS: STARTTLS on the SMTP port, or SMTPS."""
    ctx = ssl.create_default_context(cafile=s.cert)
    if mode == "smtps":
        c = LfClient(s.tls_port, greet=False)
        c.s = ctx.wrap_socket(c.s, server_hostname="127.0.0.1")
        expect(c.reply(), 220)
        expect(c.cmd("HELO ups.example"), 250)
        return c
    c = lf_session(s.port)
    expect(c.cmd("STARTTLS"), 220)
    c.s = ctx.wrap_socket(c.s, server_hostname="127.0.0.1")
    c.buf = b""
    expect(c.cmd("HELO ups.example"), 250)
    return c


def test_lf_client_over_starttls_and_smtps():
    """The same device over each TLS transport: one line, 64 KiB and
    1 MiB, one after another on one daemon, each stored with CRLF."""
    with Server(tls=True) as s:
        for mode in ("starttls", "smtps"):
            c = lf_tls_client(s, mode)
            for n_lines, width in ((1, 20), (800, 80), (13000, 80)):
                expect(c.cmd("MAIL FROM:<ups@example.com>"), 250)
                expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
                expect(c.cmd("DATA"), 354)
                lines = ["Subject: %s %d" % (mode, n_lines), ""] + lf_lines(n_lines, width)
                wire = "".join(("." + l if l.startswith(".") else l) + "\n" for l in lines)
                c.send(wire.encode() + b".\n")
                seq = queued_seq(expect(c.reply(), 250))
                assert stored(s, seq) == "".join(l + "\r\n" for l in lines).encode(), \
                    (mode, n_lines)
            expect(c.cmd("QUIT"), 221)
            c.close()
        assert s.log().count(" tls TLSv") == 2, s.log()


def test_lf_client_ends_data_at_every_lf_dot_mix():
    s = shared_server()
    for end in (b"\n.\n", b"\r\n.\n", b"\n.\r\n"):
        c = lf_session(s.port)
        expect(c.cmd("MAIL FROM:<plc@example.com>"), 250)
        expect(c.cmd("RCPT TO:<bob@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        c.send(b"Subject: tank low\n\nlevel 3%" + end)
        seq = queued_seq(expect(c.reply(), 250))
        assert stored(s, seq) == b"Subject: tank low\r\n\r\nlevel 3%\r\n", end
        expect(c.cmd("NOOP"), 250)
        c.close()


# The smuggling variants of test_smtp, from an LF client: those made of
# LFs and dots end its data (it means them so; a relaying MTA never
# speaks LF); any with a bare CR is refused at the real end.
SMUGGLING = [b"\n.\n", b"\r.\r", b"\r.\n", b"\n.\r\n", b"\r\n.\r", b"\r\n.\n", b"\r.\r\n"]


def test_lf_client_smuggling_variants():
    s = shared_server()
    for v in SMUGGLING:
        c = lf_session(s.port)
        expect(c.cmd("MAIL FROM:<a@a.example>"), 250)
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        c.send(b"Subject: v\n\nhello" + v + b"NOOP\n.\r\n")
        if b"\r" in v.replace(b"\r\n", b""):
            expect(c.reply(), 550, "5.6.0")       # a bare CR: read to the end, refused
        else:
            seq = queued_seq(expect(c.reply(), 250))
            assert stored(s, seq) == b"Subject: v\r\n\r\nhello\r\n", v
            expect(c.reply(), 250)                # NOOP was a command
            expect(c.reply(), 500, "5.5.1")       # and "." an unknown one
        expect(c.cmd("NOOP"), 250)
        c.close()


def test_crlf_client_bare_lf_still_refused():
    """A client that speaks CRLF is no LF client: LF . LF inside its
    message neither ends it nor gets stored."""
    s = shared_server()
    c = Client(s.port)
    expect(c.cmd("EHLO relay.example"), 250)
    expect(c.cmd("MAIL FROM:<a@a.example>"), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    expect(c.cmd("DATA"), 354)
    c.send(b"x\n.\nMAIL FROM:<smuggled@evil.example>\r\n.\r\n")
    expect(c.reply(), 550, "5.6.0")
    expect(c.cmd("QUIT"), 221)
    assert "smuggled@evil.example" not in repr(s.ls())


def test_bracketless_paths_are_taken_as_bracketed():
    s = shared_server()
    c = Client(s.port)
    expect(c.cmd("EHLO cam.example"), 250)
    expect(c.cmd("MAIL FROM:cam@example.com SIZE=40"), 250)
    expect(c.cmd("RCPT TO:alice@mail.example.com"), 250)
    expect(c.cmd("RCPT TO: bob@[127.0.0.1]"), 250)
    expect(c.cmd("RCPT TO:someone@example.org"), 550, "5.7.1")
    expect(c.cmd("RCPT TO:nobody@mail.example.com"), 550, "5.1.1")
    expect(c.cmd("DATA"), 354)
    c.send(b"Subject: motion\r\n\r\nfront door\r\n.\r\n")
    seq = queued_seq(expect(c.reply(), 250))
    row = [r for r in s.ls() if r[0] == seq][0]
    assert row[1] == "cam@example.com" and row[2] == ["alice@mail.example.com",
                                                      "bob@[127.0.0.1]"], row
    assert stored(s, seq) == b"Subject: motion\r\n\r\nfront door\r\n"
    expect(c.cmd("MAIL FROM:"), 501, "5.5.4")
    expect(c.cmd("QUIT"), 221)


def test_lf_and_bracketless_together():
    """The worst device seen: LF lines, lower-case commands, no brackets."""
    s = shared_server()
    c = LfClient(s.port)
    expect(c.cmd("helo nas"), 250)
    expect(c.cmd("mail from:nas@example.com"), 250)
    expect(c.cmd("rcpt to:postmaster@mail.example.com"), 250)
    expect(c.cmd("data"), 354)
    c.send(b"Subject: disk 2 failed\n\nreplace it\n.\n")
    seq = queued_seq(expect(c.reply(), 250))
    assert stored(s, seq) == b"Subject: disk 2 failed\r\n\r\nreplace it\r\n"
    expect(c.cmd("quit"), 221)


def test_strict_envelopes_switch():
    """NOMX_STRICT_ENVELOPES 1 (the legacy test build) wants brackets."""
    legacy = os.environ.get("NOMX_LEGACY", "")
    if not legacy:
        raise Skip("no legacy build")
    with Server(binary=legacy) as s:
        c = Client(s.port)
        expect(c.cmd("EHLO cam.example"), 250)
        expect(c.cmd("AUTH PLAIN AGRldmljZQBzZWNyZXQ="), 235)   # AUTH is required there
        expect(c.cmd("MAIL FROM:cam@example.com"), 501, "5.5.4")
        expect(c.cmd("MAIL FROM:<cam@example.com>"), 250)
        expect(c.cmd("RCPT TO:alice@mail.example.com"), 501, "5.5.4")
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("QUIT"), 221)
