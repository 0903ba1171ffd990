# SPDX-License-Identifier: ISC
"""The traffic real senders send, on one daemon: clients nobody on this
project wrote (Postfix relaying, swaks, curl, msmtp, Python's smtplib,
openssl s_client, and a raw BDAT client) over every transport (plain,
STARTTLS, SMTPS), at every size from an empty body through 16 KiB (one
TLS record and more), 64 KiB, 1 MiB and 9 MiB to exactly the SIZE
limit and one octet over it.  Every message carries dot lines, so each
client's dot-stuffing is undone too.

Each accepted message is compared byte for byte, envelope too, with
what the test handed the client (kept here, not read back through
nomx), found in the spool by an independent reader of its format; the
one over the limit must be refused by the client's own report and be
absent.  Under qemu-user or valgrind the sizes stop at 64 KiB (plus the
limit cells for one client per transport), to keep the run short."""
import os
import smtplib
import ssl
import subprocess
import threading

from harness import RUNNER, Server, read_spool, s_client, session, split_received
from postfix import Postfix

LIMIT = 10 * 1024 * 1024    # NOMX_MSG_MAX of tests/dev-config.h, as EHLO's SIZE says
RCPT = "alice@mail.example.com"
MiB = 1024 * 1024
FULL_SIZES = ["empty", 1024, 16 * 1024, 64 * 1024, MiB, 9 * MiB, LIMIT, LIMIT + 1]
SMALL_SIZES = ["empty", 1024, 16 * 1024, 64 * 1024]
TRANSPORTS = ("plain", "starttls", "smtps")


def message(tag, size):
    """A message of exactly `size` octets (or headers only), CRLF lines,
    every 40th body line starting with a dot."""
    head = ("From: <dev@tx.example>\r\nTo: <%s>\r\nSubject: %s\r\n"
            "Date: Sun, 29 Nov 2026 08:00:00 +0000\r\nMessage-ID: <%s@tx.example>\r\n\r\n"
            % (RCPT, tag, tag)).encode()
    if size == "empty":
        return head
    fill = size - len(head)
    n, rest = divmod(fill, 78)
    if rest == 1:               # no 1-octet line: make the last one longer
        n, rest = n - 1, rest + 78
    lines = [(b"." if i % 40 == 7 else b"L") + (b"%07d" % i) + b"x" * 68 + b"\r\n" for i in range(n)]
    if rest:
        lines.append(b"." * (rest - 2) + b"\r\n" if rest > 2 else b"\r\n")
    body = head + b"".join(lines)
    assert len(body) == size, (len(body), size)
    return body


def send_smtplib(tr, s, sender, msg):
    ctx = ssl.create_default_context(cafile=s.cert)
    if tr == "smtps":
        c = smtplib.SMTP_SSL("127.0.0.1", s.tls_port, context=ctx, timeout=120)
    else:
        c = smtplib.SMTP("127.0.0.1", s.port, timeout=120)
        if tr == "starttls":
            c.starttls(context=ctx)
    try:
        c.sendmail(sender, [RCPT], msg)     # SIZE= given, since nomx offers it
        return True, "250"
    except smtplib.SMTPException as e:
        return False, repr(e)
    finally:
        c.close()


def send_swaks(tr, s, sender, msg):
    port = s.tls_port if tr == "smtps" else s.port
    tls = {"plain": [], "starttls": ["--tls"], "smtps": ["--tlsc"]}[tr]
    # swaks sends the data as given plus a CRLF of its own (see WIRE).
    r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port, "--ehlo", "swaks.tx.example",
                        "--from", sender, "--to", RCPT, "--pipeline", "--data", "-"] + tls,
                       input=msg[:-2], capture_output=True, timeout=180)
    return r.returncode == 0, (r.stdout[-600:] + r.stderr[-600:]).decode(errors="replace")


def send_curl(tr, s, sender, msg):
    path = os.path.join(s.dir, sender.split("@")[0])
    with open(path, "wb") as f:
        f.write(msg)
    url = ("smtps://127.0.0.1:%d" % s.tls_port if tr == "smtps" else "smtp://127.0.0.1:%d" % s.port)
    tls = [] if tr == "plain" else ["--ssl-reqd", "--cacert", s.cert]
    r = subprocess.run(["curl", "-sS", url, "--mail-from", sender, "--mail-rcpt", RCPT,
                        "--upload-file", path] + tls, capture_output=True, timeout=180)
    os.unlink(path)
    return r.returncode == 0, r.stderr.decode(errors="replace")


def send_msmtp(tr, s, sender, msg):
    port = s.tls_port if tr == "smtps" else s.port
    tls = {"plain": ["--tls=off"],
           "starttls": ["--tls=on", "--tls-starttls=on", "--tls-trust-file=" + s.cert],
           "smtps": ["--tls=on", "--tls-starttls=off", "--tls-trust-file=" + s.cert]}[tr]
    r = subprocess.run(["msmtp", "--host=127.0.0.1", "--port=%d" % port, "--auth=off",
                        "--domain=msmtp.tx.example", "--from=" + sender] + tls + ["--", RCPT],
                       input=msg, capture_output=True, timeout=180)
    return r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")


def stuff(msg):
    return b"\r\n".join(b"." + l if l.startswith(b".") else l for l in msg.split(b"\r\n"))


def send_openssl(tr, s, sender, msg):
    """TLS only: the whole transaction pipelined in one go, the body
    written before the 354 comes back."""
    script = (b"EHLO openssl.tx.example\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n"
              % (sender.encode(), RCPT.encode()) + stuff(msg) + b".\r\nQUIT\r\n")
    args = (["-connect", "127.0.0.1:%d" % s.port, "-starttls", "smtp"] if tr == "starttls"
            else ["-connect", "127.0.0.1:%d" % s.tls_port])
    r = s_client(args + ["-CAfile", s.cert], script, timeout=180)
    out = r.stdout.decode(errors="replace")
    return "queued as" in out, out[-600:]


def send_bdat(tr, s, sender, msg):
    """Plain only: MAIL, RCPT and a BDAT chunk pipelined in one write,
    then the rest of the message in two more chunks."""
    c = session(s.port, helo="ehlo bdat.tx.example", timeout=120)
    cut = [0, len(msg) // 3, 2 * len(msg) // 3, len(msg)]
    c.send(b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n" % (sender.encode(), RCPT.encode()))
    for i in range(3):
        part = msg[cut[i]:cut[i + 1]]
        c.send(b"BDAT %d%s\r\n" % (len(part), b" LAST" if i == 2 else b"") + part)
    replies = [c.reply() for _ in range(5)]
    c.cmd("QUIT")
    c.close()
    return replies[-1][0] == 250 and all(r[0] == 250 for r in replies), repr(replies)


# Five clients a transport; openssl s_client has no plain mode, so a raw
# BDAT client takes its place there.
CLIENTS = {
    "plain": {"smtplib": send_smtplib, "swaks": send_swaks, "curl": send_curl,
              "msmtp": send_msmtp, "bdat": send_bdat},
    "starttls": {"smtplib": send_smtplib, "swaks": send_swaks, "curl": send_curl,
                 "msmtp": send_msmtp, "openssl": send_openssl},
}
CLIENTS["smtps"] = CLIENTS["starttls"]
# What a client puts on the wire where it is not the message it was
# given: swaks always ends the data with a CRLF of its own, so a message
# of headers only reaches the server with one empty body line.
WIRE = {"swaks": lambda m: m + b"\r\n" if m.endswith(b"\r\n\r\n") else m}


def sizes_for(client):
    if not RUNNER:
        return FULL_SIZES
    return SMALL_SIZES + ([LIMIT, LIMIT + 1] if client == "smtplib" else [])


def run_transport(tr, s, cells, sent, errors):
    """The cells of one transport, one after another (so one daemon
    sees clients and sizes mixed, as it would in real use).  Runs in a
    thread: whatever goes wrong, even in the test itself, lands in
    errors and fails the test."""
    for client, size in cells:
        tag = "%s-%s-%s" % (client, tr, size)
        sender = "%s@tx.example" % tag
        over = size != "empty" and size > LIMIT
        try:
            msg = message(tag, size)
            if not over:
                sent[tag] = (sender, WIRE.get(client, bytes)(msg))
            ok, detail = CLIENTS[tr][client](tr, s, sender, msg)
        except Exception as e:      # a client that hangs or breaks fails its cell
            ok, detail = None, repr(e)
        if ok is None or ok == over:
            errors.append("%s: %s (%s)" % (tag, "accepted over the limit" if ok and over else "failed",
                                          detail.strip()[-400:]))


def check_spool(s, sent):
    """Every message sent (tag: (envelope sender, bytes)) is in the spool
    exactly once, byte for byte, with its envelope; nothing else is."""
    found = set()
    for _, env, stored in read_spool(s.spool):
        tag = stored.split(b"\r\nSubject: ", 1)[1].split(b"\r\n", 1)[0].decode()
        assert tag in sent, "stored but never sent (or over the limit): %s" % tag
        assert tag not in found, "%s stored twice" % tag
        found.add(tag)
        sender, msg = sent[tag]
        assert [v for k, v in env if k == "F"] == [sender], (tag, env)
        assert [v for k, v in env if k in "TM"] == [RCPT, "alice"], (tag, env)
        received, rest = split_received(stored)
        assert (b"(using TLSv1.2 with cipher" in received) == ("-plain-" not in tag), (tag, received)
        if tag.startswith("postfix-"):
            # A relay puts its own Received: on top of the message.
            theirs, rest = split_received(rest)
            assert b"relay.tx.example" in theirs, (tag, theirs)
        assert rest == msg, "%s: %d octets stored, %d sent; first difference at %d" % (
            tag, len(rest), len(msg),
            next((i for i, (x, y) in enumerate(zip(rest, msg)) if x != y), min(len(rest), len(msg))))
    missing = sorted(set(sent) - found)
    assert not missing, "answered but not in the spool: %s" % missing
    r = subprocess.run(RUNNER + [s.binary or os.environ["NOMX"], "-s", s.spool, "spool", "fsck"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_client_transport_and_size_on_one_daemon():
    """Each transport's cells in a thread of its own, all three at once;
    then the spool is checked against everything that was sent."""
    with Server(tls=True) as s:
        sent, errors = {}, []
        threads = [threading.Thread(target=run_transport, args=(
            tr, s, [(c, size) for size in FULL_SIZES for c in CLIENTS[tr] if size in sizes_for(c)],
            sent, errors)) for tr in TRANSPORTS]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, "\n".join(errors)
        check_spool(s, sent)


def test_postfix_relays_over_every_transport():
    """Postfix as the relay it is in real life: TLS required where the
    transport says so, its own SIZE check, its own retries.  Nothing may
    be deferred: a 421 or a stall at the end of DATA shows up here."""
    sizes = SMALL_SIZES + ([] if RUNNER else [MiB, 9 * MiB])
    with Server(tls=True) as s, Postfix(s.dir, s.port, s.tls_port) as pf:
        sent = {}
        for tr in TRANSPORTS:
            for size in sizes:
                tag = "postfix-%s-%s" % (tr, size)
                msg = message(tag, size)
                c = smtplib.SMTP("127.0.0.1", pf.smtpd_port, timeout=60)
                c.sendmail("%s@tx.example" % tr, [RCPT], msg)
                c.quit()
                sent[tag] = ("%s@tx.example" % tr, msg)
        pf.wait_empty(180)
        log = pf.log()
        assert "status=deferred" not in log and "status=bounced" not in log, log[-6000:]
        assert log.count("status=sent") == len(sent), log[-6000:]
        check_spool(s, sent)
