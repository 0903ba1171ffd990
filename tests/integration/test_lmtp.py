# SPDX-License-Identifier: ISC
"""`nomx fetch --lmtp` into a real Dovecot (a private instance: see
dovecot.py): messages from empty to 1 MiB, dotted lines, 8-bit text and
two mailboxes, fetched over LMTP on TCP and on a socket, then read back
over IMAP with Python's imaplib and compared byte for byte.  A store
that is down keeps everything for the next run; a recipient the store
does not know stops the fetch with exit 7, acknowledging only what
came before; a live fetch rides out a store restart."""
import os
import re
import tempfile

from harness import TMP, Server, deliver, nomx_cmd
from dovecot import Dovecot
from test_fetch import fetch, remote, status
from test_fetch_follow import Follower, wait_acked

SENDER = "dev@ups.example"


def messages():
    """What devices send: empty, short, dotted lines, 8-bit, 64 KiB, 1 MiB;
    in wire form (dot-stuffed), as deliver() wants."""
    line = b"x" * 76 + b"\r\n"
    return [re.sub(rb"(?m)^\.", b"..", m) for m in [
        b"",
        b"Subject: on battery\r\n\r\nmains lost at 03:12\r\n",
        b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nend\r\n",
        "Subject: Störung\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nTür offen — 20 °C\r\n".encode(),
        b"Subject: 64k\r\n\r\n" + line * (64 * 1024 // len(line)),
        b"Subject: 1M\r\n\r\n" + line * (1024 * 1024 // len(line)),
    ]]


def stored(s, seq):
    """The message as the spool holds it (nomx's Received: on top)."""
    raw = s.cat(seq)
    return raw.split(b"\r\n", 1)[1]


def check_inbox(dc, user, kept, seqs):
    """user's INBOX holds exactly the stored messages seqs (kept: read
    from the spool before the ack removed them), each once, with only
    Dovecot's own Return-Path, Delivered-To (for a message with one
    recipient) and Received: lines above them."""
    got = dc.inbox(user)
    assert len(got) == len(seqs), (user, len(got), seqs)
    want = {seq: kept[seq] for seq in seqs}
    for m in got:
        match = [seq for seq, w in want.items() if m.endswith(w) and
                 re.search(rb"\(nomx\) with \w+ id %d[;\r]" % seq, m)]
        assert len(match) == 1, (user, m[:400])
        head = m[:len(m) - len(want[match[0]])]
        assert head.startswith(b"Return-Path: <%s>\r\n" % SENDER.encode()), head
        for field in re.findall(rb"(?m)^([^\t\r][^:\r]*):", head):
            assert field in (b"Return-Path", b"Delivered-To", b"Received"), head
        # Dovecot names the recipient when a copy had only one.
        assert b"Delivered-To" not in head or b"Delivered-To: %s@" % user.encode() in head, head
        del want[match[0]]


def test_lmtp_into_dovecot_read_back_over_imap():
    d = tempfile.mkdtemp(prefix="nomx-lmtp-", dir=TMP)
    dc = Dovecot(d).start()
    try:
        with Server() as s:
            state = os.path.join(d, "fetch.state")
            to_alice = [deliver(s.port, m, sender=SENDER) for m in messages()]
            # An alias of alice's mailbox, and bob: one copy each.
            both = deliver(s.port, b"Subject: both\r\n\r\nfor two\r\n", sender=SENDER,
                           to=("alice.smith@mail.example.com", "bob@mail.example.com",
                               "alice@mail.example.com"))
            kept = {seq: stored(s, seq) for seq in to_alice + [both]}
            r = fetch("--cmd", "sh", "--remote", remote(s), "--lmtp",
                      "127.0.0.1:%d" % dc.port_lmtp, "--state", state)
            assert r.returncode == 0, r.stderr + dc.log()
            assert status(s)["acked"] == str(both), status(s)
            # The same daemon, more mail, over the socket this time.
            more = [deliver(s.port, m, sender=SENDER) for m in messages()[1:4]]
            kept.update({seq: stored(s, seq) for seq in more})
            r = fetch("--cmd", "sh", "--remote", remote(s), "--lmtp", dc.socket,
                      "--state", state)
            assert r.returncode == 0, r.stderr + dc.log()
            check_inbox(dc, "alice", kept, to_alice + [both] + more)
            check_inbox(dc, "bob", kept, [both])
            assert status(s)["acked"] == str(more[-1]), status(s)
    finally:
        dc.stop()


def test_lmtp_store_down_keeps_unknown_recipient_stops():
    d = tempfile.mkdtemp(prefix="nomx-lmtp-", dir=TMP)
    dc = Dovecot(d)
    try:
        with Server() as s:
            state = os.path.join(d, "fetch.state")
            args = ("--cmd", "sh", "--remote", remote(s), "--lmtp",
                    "127.0.0.1:%d" % dc.port_lmtp, "--state", state)
            first = [deliver(s.port, b"Subject: %d\r\n\r\nx\r\n" % i, sender=SENDER)
                     for i in range(3)]
            kept = {seq: stored(s, seq) for seq in first}
            # The store is down: a temporary failure, nothing acked.
            r = fetch(*args)
            assert r.returncode == 4 and "--lmtp" in r.stderr, r.stderr
            assert status(s)["acked"] == "0", status(s)
            dc.start()
            r = fetch(*args)
            assert r.returncode == 0, r.stderr + dc.log()
            # postmaster is a mailbox on the device but unknown to the
            # store: 550, exit 7, only what came before that message is
            # acked; it and what follows stay.
            ok = deliver(s.port, b"Subject: ok\r\n\r\nx\r\n", sender=SENDER)
            kept[ok] = stored(s, ok)
            bad = deliver(s.port, b"Subject: pm\r\n\r\nx\r\n", sender=SENDER,
                          to=("alice@mail.example.com", "postmaster@mail.example.com"))
            after = deliver(s.port, b"Subject: after\r\n\r\nx\r\n", sender=SENDER)
            r = fetch(*args)
            assert r.returncode == 7, (r.returncode, r.stderr)
            assert "seq %d" % bad in r.stderr and "<postmaster@mail.example.com>" in r.stderr, \
                r.stderr
            assert status(s)["acked"] == str(ok), status(s)
            # Refused at RCPT: alice did not get it either.
            check_inbox(dc, "alice", kept, first + [ok])
            assert after not in [int(x) for x in re.findall(r"seq (\d+)", r.stderr)]
    finally:
        dc.stop()


def test_follow_into_dovecot_across_a_store_restart():
    """`fetch --follow --lmtp`: live mail goes into Dovecot; while the
    store is down, delivery fails for now and the collector backs off
    (nothing acked past what the store took); once it is back, the rest
    arrives, each message once."""
    d = tempfile.mkdtemp(prefix="nomx-lmtp-", dir=TMP)
    dc = Dovecot(d).start()
    try:
        with Server() as s:
            f = Follower("--cmd", "sh", "--remote", remote(s), "--lmtp",
                         "127.0.0.1:%d" % dc.port_lmtp, "--state", os.path.join(d, "fetch.state"),
                         "--ack-every", "1")
            try:
                kept = {}
                before = [deliver(s.port, b"Subject: live %d\r\n\r\nx\r\n" % i, sender=SENDER)
                          for i in range(3)]
                kept.update({seq: stored(s, seq) for seq in before})
                wait_acked(s, before[-1])
                dc.stop()
                during = [deliver(s.port, b"Subject: down %d\r\n\r\nx\r\n" % i, sender=SENDER)
                          for i in range(3)]
                kept.update({seq: stored(s, seq) for seq in during})
                f.wait_for("delivery failed; trying again")
                assert status(s)["acked"] == str(before[-1]), status(s)
                dc.start()
                wait_acked(s, during[-1])
                assert f.stop() == 0, f.stderr()
                check_inbox(dc, "alice", kept, before + during)
            finally:
                f.kill()
    finally:
        dc.stop()
