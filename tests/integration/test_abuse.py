# SPDX-License-Identifier: ISC
"""Abuse resistance against the real binary: a table of relay tricks
(none accepted, none stored), and a connection storm with slowloris and
non-reading clients while a fresh client is still served."""
import resource
import socket
import subprocess
import time

from harness import WAIT, Client, Server, expect, queued_seq, session, stored_body

# Every way we know to ask a receive-only MTA to send mail elsewhere.
# Expected: the enhanced code of the refusal (5.7.1 relay, 5.1.1 no such
# user here, 5.1.3 not a valid address).
RELAY_TRICKS = [
    ("victim@example.com", "5.7.1"),
    ("victim@EXAMPLE.COM", "5.7.1"),
    ("alice@mail.example.com.evil.example", "5.7.1"),
    ("alice@evil.mail.example.com", "5.7.1"),
    ("alice@mail.example.co", "5.7.1"),
    ("alice@mail-example.com", "5.7.1"),
    ("alice@mail.example.com..", "5.1.3"),
    ("alice@.mail.example.com", "5.1.3"),
    ("alice@[10.0.0.1]", "5.7.1"),
    ("alice@[127.0.0.2]", "5.7.1"),
    ("alice@[0x7f.0.0.1]", "5.7.1"),
    ("alice@[2130706433]", "5.7.1"),
    ("alice@[IPv6:::2]", "5.7.1"),
    ("alice@[IPv6:::1%lo]", "5.7.1"),
    ("alice@[IPv6:::ffff:127.0.0.1]", "5.7.1"),
    ("alice@[IPv6:::127.0.0.1]", "5.7.1"),
    ("alice@[::1]", "5.7.1"),
    ("alice@localhost", "5.7.1"),
    ("alice@127.0.0.1", "5.7.1"),
    ("@other.example:alice@mail.example.com", "5.7.1"),
    ("@mail.example.com,@other.example:victim@example.com", "5.7.1"),
    ("@mail.example.com:victim@example.com", "5.7.1"),
    ("alice%victim.example@mail.example.com", "5.7.1"),
    ("victim.example!alice@mail.example.com", "5.7.1"),
    ("victim@example.com@mail.example.com", "5.1.3"),
    ("\"alice@victim.example\"@mail.example.com", "5.7.1"),
    ("\"victim@example.com\"", "5.1.3"),
    ("alice@mail.ex\u0430mple.com", "5.6.7"),        # Cyrillic a, no SMTPUTF8
    ("alice@m\u0430il.example.com", "5.6.7"),
    ("postmaster@other.example", "5.7.1"),
    ("postmaster@[10.1.1.1]", "5.7.1"),
    ("root@mail.example.com", "5.1.1"),
    ("alice+ext@mail.example.com", "5.1.1"),
    ("alice.smith.evil@mail.example.com", "5.1.1"),
    ("victim@example.com.", "5.7.1"),
    ("victim", "5.1.3"),
    ("alice@", "5.1.3"),
    ("@mail.example.com", "5.1.3"),
]


def test_relay_trick_table_all_refused_none_stored():
    with Server() as s:
        for rcpt, code in RELAY_TRICKS:
            # A session each: a spammer's errors count toward its limit.
            c = session(s.port)
            expect(c.cmd("MAIL FROM:<spammer@evil.example>"), 250)
            got = c.cmd("RCPT TO:<%s>" % rcpt)
            assert got[0] in (550, 553, 501) and got[1][-1][4:].startswith(code), (rcpt, got)
            # Without its brackets, as devices send paths: the same answer.
            got = c.cmd("RCPT TO:%s" % rcpt)
            assert got[0] in (550, 553, 501) and got[1][-1][4:].startswith(code), (rcpt, got)
            expect(c.cmd("DATA"), 554, "5.5.1")       # no valid recipient: no message
            expect(c.cmd("QUIT"), 221)
        c = session(s.port)
        # Leading zeros are allowed in an address literal (RFC 5321 Snum,
        # decimal): that is our own address, not a way out.
        expect(c.cmd("MAIL FROM:<spammer@evil.example>"), 250)
        expect(c.cmd("RCPT TO:<alice@[127.000.000.001]>"), 250)
        expect(c.cmd("RCPT TO:<alice@[127.0.0.010]>"), 550, "5.7.1")
        expect(c.cmd("RSET"), 250)
        # With SMTPUTF8 the look-alike hostnames are well-formed, and
        # still not ours.
        expect(c.cmd("MAIL FROM:<spammer@evil.example> SMTPUTF8"), 250)
        expect(c.cmd("RCPT TO:<alice@mail.ex\u0430mple.com>"), 550, "5.7.1")
        expect(c.cmd("QUIT"), 221)
        assert s.ls() == []
        log = s.log()
        assert log.count("rcpt-refused") >= len(RELAY_TRICKS) - 2, log
        assert "client=127.0.0.1 rcpt-refused reason=relay" in log


def connect_from(src, port):
    """A connection from address src; the port is chosen at connect time
    (IP_BIND_ADDRESS_NO_PORT), so it never collides with one of the
    server's TIME_WAIT pairs from the connections it refused."""
    sk = socket.socket()
    sk.setsockopt(socket.SOL_IP, getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24), 1)
    sk.bind((src, 0))
    sk.connect(("127.0.0.1", port))
    return sk


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_all_closed(s):
    """Until every session the log shows connected has disconnected."""
    deadline = time.time() + WAIT
    while time.time() < deadline:
        log = s.log()
        if log.count(" connect\n") == log.count(" disconnect\n"):
            return
        time.sleep(0.05)
    raise AssertionError("sessions still open after %d s" % WAIT)


def test_connection_storm_slowloris_and_deaf_clients():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    with Server() as s:
        warm = session(s.port, src="127.0.0.9")      # touch the code paths first
        expect(warm.cmd("QUIT"), 221)
        s.wait_log(r"client=127\.0\.0\.9 disconnect")
        before = rss_kib(s.proc.pid)
        # The listen backlog is deep enough for the burst below
        # (NOMX_LISTEN_BACKLOG, capped by the kernel's somaxconn).
        with open("/proc/sys/net/core/somaxconn") as f:
            want = min(256, int(f.read()))
        ss = subprocess.run(["ss", "-Hltn", "sport = :%d" % s.port], capture_output=True,
                            text=True, check=True).stdout.split()
        assert int(ss[2]) == want, ss                  # Send-Q of a listener: its backlog
        # 1,000 connections from one address, as fast as we can open them;
        # a connect over 0.5 s is a SYN the kernel dropped and resent.
        t0 = time.time()
        storm, refused, resent = [], 0, 0
        for _ in range(1000):
            t = time.time()
            storm.append(connect_from("127.0.0.2", s.port))
            resent += time.time() - t > 0.5
        opened = time.time() - t0
        for sk in storm:
            sk.settimeout(5)
            try:
                data = sk.recv(200)
            except socket.timeout:
                data = b""
            if data.startswith(b"421 4.7.0"):
                refused += 1
                sk.close()
        held = [sk for sk in storm if sk.fileno() >= 0]
        # Slowloris: one byte a second, from a second address.
        slow = [connect_from("127.0.0.3", s.port) for _ in range(2)]
        # Deaf: pipelines commands and never reads a reply.
        # It waits for the greeting first, so it is not cut off as an early talker.
        deaf = connect_from("127.0.0.4", s.port)
        deaf.settimeout(5)
        assert deaf.recv(200).startswith(b"220 "), "deaf client not greeted"
        deaf.setblocking(False)
        try:
            deaf.sendall(b"NOOP\r\n" * 200000)
        except BlockingIOError:
            pass
        for sk in slow:
            sk.send(b"E")
        # A fresh, well-behaved client is greeted within a second.
        t1 = time.time()
        fresh = Client(s.port, src="127.0.0.5")
        greeted = time.time() - t1
        expect(fresh.cmd("EHLO fresh.example"), 250)
        expect(fresh.cmd("QUIT"), 221)
        for sk in held + slow + [deaf]:
            sk.close()
        wait_all_closed(s)
        after = rss_kib(s.proc.pid)
        log = s.log()
        print("# storm: 1000 connections opened in %.2f s (%d SYNs resent), %d refused "
              "(421 4.7.0), %d held; fresh client greeted after %.3f s; RSS %d KiB before, "
              "%d KiB after" % (opened, resent, refused, len(held), greeted, before, after))
        assert len(held) == 20 and refused == 980, (len(held), refused)   # per-address cap
        assert greeted < 1.0, greeted
        assert after <= before + 1024, (before, after)
        assert "client=127.0.0.2 refused: 20 connections from it" in log
        # The daemon is fine afterwards.
        c = session(s.port)
        expect(c.cmd("NOOP"), 250)


def test_size_lies_rcpt_floods_and_wrong_bdat_sizes():
    with Server() as s:
        # Declared small, sent big: the real size decides (552 at the end).
        c = session(s.port)
        expect(c.cmd("MAIL FROM:<liar@example.com> SIZE=100"), 250)
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        chunk = b"x" * 998 + b"\r\n"
        for _ in range(11 * 1024):           # ~11 MiB, over the 10 MiB limit
            c.send(chunk)
        c.send(b".\r\n")
        expect(c.reply(), 552, "5.3.4")
        expect(c.cmd("NOOP"), 250)            # the session goes on
        c.close()
        # 10,000 RCPTs: 100 accepted, the rest 452 4.5.3, no crash.
        c = session(s.port)
        expect(c.cmd("MAIL FROM:<flood@example.com>"), 250)
        c.send(b"".join(b"RCPT TO:<alice@mail.example.com>\r\n" for _ in range(10000)))
        codes = [c.reply()[0] for _ in range(10000)]
        assert codes.count(250) == 100 and codes.count(452) == 9900, set(codes)
        expect(c.cmd("RSET"), 250)
        c.close()
        # BDAT that says less than it sends: the rest is read as commands
        # and refused; one that says more than comes waits, then times out
        # or is cut by QUIT bytes counted as data.
        c = session(s.port)
        expect(c.cmd("MAIL FROM:<b@example.com>"), 250)
        expect(c.cmd("RCPT TO:<bob@mail.example.com>"), 250)
        c.send(b"BDAT 5 LAST\r\nhello, and more\r\n")
        expect(c.reply(), 250)                # the 5 bytes: a message
        code, _ = c.reply()                   # ", and more": not a command
        assert code == 500, code
        c.send(b"BDAT 99999999999999999999\r\n")
        expect(c.reply(), 501, "5.5.4")
        assert c.closed(5)
        assert len(s.ls()) == 1 and s.cat(s.ls()[0][0]).endswith(b"hello")


def test_every_refusal_logged_once_with_the_client_and_no_content():
    """Each refusal and limit is one log line naming the client (each
    case comes from its own address), and nothing of a message's
    content — here a canary in the subject and body — is ever logged."""
    canary = "CANARY-5e1f"
    body = ("Subject: %s\r\n\r\n%s in the body\r\n" % (canary, canary)).encode()
    with Server() as s:
        c = session(s.port, src="127.0.0.21")            # relay
        expect(c.cmd("MAIL FROM:<a@ups.example>"), 250)
        expect(c.cmd("RCPT TO:<victim@example.com>"), 550, "5.7.1")
        c = session(s.port, src="127.0.0.22")            # no such mailbox
        expect(c.cmd("MAIL FROM:<a@ups.example>"), 250)
        expect(c.cmd("RCPT TO:<nobody-here@mail.example.com>"), 550, "5.1.1")
        c = session(s.port, src="127.0.0.23")            # too big
        expect(c.cmd("MAIL FROM:<a@ups.example>"), 250)
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        c.send(body + (b"y" * 998 + b"\r\n") * 10700 + b".\r\n")
        expect(c.reply(), 552, "5.3.4")
        c = session(s.port, src="127.0.0.24")            # bare LF
        expect(c.cmd("MAIL FROM:<a@ups.example>"), 250)
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        c.send(body + b"a bare\nLF\r\n.\r\n")
        expect(c.reply(), 550, "5.6.0")
        c = session(s.port, src="127.0.0.25")            # recipient flood: one line
        expect(c.cmd("MAIL FROM:<a@ups.example>"), 250)
        c.send(b"RCPT TO:<bob@mail.example.com>\r\n" * 500)
        codes = [c.reply()[0] for _ in range(500)]
        assert codes.count(452) == 400, set(codes)
        c = Client(s.port, src="127.0.0.26", greet=False)  # early talker
        c.send(b"EHLO too.early\r\n")
        assert c.reply()[0] == 554
        c = session(s.port, src="127.0.0.27")            # 20 errors
        c.send(b"FOO\r\n" * 25)
        assert c.closed(5)
        c = session(s.port, src="127.0.0.28")            # accepted: canary stored
        expect(c.cmd("MAIL FROM:<a@ups.example>"), 250)
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        c.send(body + b".\r\n")
        expect(c.reply(), 250)
        expect(c.cmd("QUIT"), 221)
        wait_all_closed(s)
        log = s.log()
    assert canary not in log, "message content in the log"
    want = {
        "127.0.0.21": "rcpt-refused reason=relay to=<victim@example.com>",
        "127.0.0.22": "rcpt-refused reason=unknown to=<nobody-here@mail.example.com>",
        "127.0.0.23": 'message-refused reply="552 5.3.4 Message too big for this system"',
        "127.0.0.24": 'message-refused reply="550 5.6.0 Message refused: bare CR or LF',
        "127.0.0.25": "rcpt-limit count (max 100 recipients",
        "127.0.0.26": "early-talker refused",
        "127.0.0.27": "too-many-errors",
    }
    for ip, event in want.items():
        lines = [l for l in log.splitlines() if "client=%s " % ip in l
                 and not l.endswith((" connect", " disconnect"))]
        assert len(lines) == 1 and event in lines[0], (ip, lines)
    assert "client=127.0.0.28 accepted seq=1 from=<a@ups.example> rcpts=1" in log


def test_nul_8bit_and_overlong_lines_in_every_state():
    """In every command state, a line with NUL bytes, one of 8-bit
    garbage and one of 3,000 octets each get a 500 and change nothing:
    the command the state expects next still works.  In DATA and BDAT
    the same bytes are content, stored exactly."""
    bad = [(b"NO\x00OP\x00\r\n", "5.5.2"), (b"\xff\xfe\x80\xc3\x28 garbage\r\n", "5.5.1"),
           (b"NOOP " + b"x" * 3000 + b"\r\n", "5.5.2")]
    nexts = [b"EHLO states.example", b"MAIL FROM:<s@ups.example>",
             b"RCPT TO:<alice@mail.example.com>", b"DATA"]
    content = b"Subject: \xe2\x9c\x93 states\r\n\r\nnul \x00 here, 8-bit \xff\xfe\r\n" + \
        b"L" * 3000 + b"\r\n"
    with Server() as s:
        c = Client(s.port)
        for nxt in nexts:                         # greeted, EHLO, MAIL, RCPT
            for line, enhanced in bad:
                c.send(line)
                expect(c.reply(), 500, enhanced)
            expect(c.cmd(nxt.decode("ascii")), 354 if nxt == b"DATA" else 250)
        c.send(content + b".\r\n")
        seq = queued_seq(expect(c.reply(), 250))
        expect(c.cmd("MAIL FROM:<s@ups.example>"), 250)
        expect(c.cmd("RCPT TO:<bob@mail.example.com>"), 250)
        c.send(b"BDAT %d LAST\r\n" % len(content) + content)
        seq2 = queued_seq(expect(c.reply(), 250))
        for line, enhanced in bad:                # and after a transaction
            c.send(line)
            expect(c.reply(), 500, enhanced)
        expect(c.cmd("QUIT"), 221)
        for n in (seq, seq2):
            assert stored_body(s.cat(n))[2] == content, n
